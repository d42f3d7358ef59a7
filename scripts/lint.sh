#!/usr/bin/env bash
# Fails on Swift code that swift-format (in the toolchain) would change or flags, with the configuration in
# .swift-format. The generated models are left as their generator writes them. To fix: ./scripts/lint.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.swift' | grep -v '^Sources/KubeKit/Generated/')
if [[ "${1:-}" == "--fix" ]]; then
    swift format format --in-place --parallel "${files[@]}"
fi
swift format lint --strict --parallel "${files[@]}"
echo "lint: ${#files[@]} Swift files formatted as .swift-format says"
