#!/usr/bin/env python3
"""Lints or renders a Helm chart offline with helm-python-sdk (no helm binary, no cluster).

Usage:
  helm-chart.py lint CHART            prints the lint report as JSON; exits 1 on any error or warning
  helm-chart.py render CHART [--namespace NS] [--name RELEASE] [--values-json JSON]
                                      prints the rendered manifests as one YAML stream, templates in path order;
                                      JSON (an object) overrides the chart's values, as --set-json would
"""
import argparse
import json
import sys

import helm_python


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    lint = sub.add_parser("lint")
    lint.add_argument("chart")
    render = sub.add_parser("render")
    render.add_argument("chart")
    render.add_argument("--namespace", default="vectorblocks-system")
    render.add_argument("--name", default="release")
    render.add_argument("--values-json", type=json.loads, default=None)
    args = parser.parse_args()

    if args.command == "lint":
        report = helm_python.lint(args.chart, strict=True)
        print(json.dumps(report, indent=2, sort_keys=True))
        failing = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2]
        return 1 if failing or report.get("errors") else 0

    chart = helm_python.Chart.load(args.chart)
    try:
        manifests = chart.render(values=args.values_json, name=args.name, namespace=args.namespace, is_install=True)
    except helm_python.HelmError as error:
        print(f"helm-chart.py: {error}", file=sys.stderr)
        return 1
    for path in sorted(manifests):
        text = manifests[path].strip()
        if text:
            print(f"---\n# Source: {path}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
