#!/usr/bin/env python3
"""Validates Kubernetes manifests strictly, as `kubernetes-validate --strict` does, and also validates custom
resources of the CRDs in --crds against their openAPIV3Schema with the jsonschema package (kubernetes-validate only
knows the built-in kinds).

Usage: validate-manifests.py [--crds DIR] [--kubernetes-version 1.36.0] FILE...
Prints one line per problem and exits 1 when there is any.
"""
import argparse
import copy
import glob
import os
import sys

import jsonschema
import kubernetes_validate.utils as kv
import yaml


def strict_json_schema(node):
    """The CRD schema as JSON Schema, rejecting unknown fields where the API server would prune them."""
    if not isinstance(node, dict):
        return node
    node = copy.deepcopy(node)
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    preserve = node.pop("x-kubernetes-preserve-unknown-fields", False)
    node.pop("x-kubernetes-embedded-resource", None)
    for key in [k for k in node if k.startswith("x-kubernetes-")]:
        node.pop(key)
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"]
    if "properties" in node:
        node["properties"] = {name: strict_json_schema(value) for name, value in node["properties"].items()}
        if not preserve:
            node["additionalProperties"] = False
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = strict_json_schema(node[key])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in node:
            node[key] = [strict_json_schema(value) for value in node[key]]
    return node


def load_crd_schemas(directory):
    schemas = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml"))):
        with open(path) as stream:
            for crd in yaml.safe_load_all(stream):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                spec = crd["spec"]
                for version in spec["versions"]:
                    schema = strict_json_schema(version["schema"]["openAPIV3Schema"])
                    # metadata is the API server's; any ObjectMeta is accepted here.
                    schema["properties"]["metadata"] = {"type": "object"}
                    schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = schema
    return schemas


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crds", help="folder of CRD YAML files whose custom resources are validated too")
    parser.add_argument("--kubernetes-version", default="1.36.0")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    custom = load_crd_schemas(args.crds) if args.crds else {}
    problems = 0
    checked = 0
    for path in args.files:
        with open(path) as stream:
            documents = [document for document in yaml.safe_load_all(stream) if document]
        for document in documents:
            checked += 1
            name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
            schema = custom.get((document.get("apiVersion"), document.get("kind")))
            if schema is not None:
                validator = jsonschema.Draft202012Validator(schema)
                for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path)):
                    field = ".".join(str(part) for part in error.path)
                    print(f"ERROR {path}: {name}: {field}: {error.message}")
                    problems += 1
                continue
            try:
                kv.validate(document, args.kubernetes_version, strict=True)
            except kv.ValidationError as error:
                field = ".".join(str(part) for part in error.path)
                print(f"ERROR {path}: {name}: {field}: {error.message}")
                problems += 1
            except (kv.SchemaNotFoundError, kv.InvalidSchemaError) as error:
                print(f"ERROR {path}: {name}: no schema to validate against: {error.message}")
                problems += 1
    print(f"validated {checked} objects, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
