#!/bin/bash
# Rebuilds tests/data/passes/torch*.json (tests/refs/passes_refs.py) with
# ONE command: Debian's torch 1.13 and the torch 2.x venvs of
# tests/refs/torch2/regen.sh (made with SETUP_ONLY=1 when missing), each
# under ATEN_CPU_CAPABILITY avx2 and default.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)/tests/data/passes
cache=${WI_REFS_CACHE:-$HOME/.cache/weightinit-refs}
for cap in avx2 default; do
    ATEN_CPU_CAPABILITY=$cap /usr/bin/python3 "$here/passes_refs.py" "$out/torch1.13-$cap.json"
    for v in ${TORCH_VERSIONS:-2.12.0 2.15.0}; do
        py=$cache/venv-torch-$v/bin/python
        [ -x "$py" ] || TORCH_VERSIONS=$v SETUP_ONLY=1 "$here/torch2/regen.sh"
        ATEN_CPU_CAPABILITY=$cap "$py" "$here/passes_refs.py" "$out/torch$v-$cap.json"
    done
done
echo "passes.sh: wrote the references in $out"
