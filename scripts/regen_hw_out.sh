#!/usr/bin/env bash
# Regenerate hw_out/ from the example projects. tests/test_batch.py rebuilds them into a
# temporary folder and asserts byte-identical files, so hw_out/ cannot drift from the code.
set -euo pipefail
cd "$(dirname "$0")/.."
for project in examples/*.toml; do
  name=$(basename "$project" .toml)
  rm -rf "hw_out/$name"
  lutgen batch "$project" -o "hw_out/$name"
done
