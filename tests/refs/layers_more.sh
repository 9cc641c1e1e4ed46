#!/bin/bash
# Rebuilds tests/data/layers_more/ (issue 19's layer types against the real
# torch.nn and transformers' Conv1D) with ONE command:
#
#   tests/refs/layers_more.sh
#
# Debian's torch 1.13 (/usr/bin/python3, apt python3-torch) gives
# torch1.13-{avx2,default}.json; for each of TORCH_VERSIONS (default
# "2.12.0 2.15.0") the venv of tests/refs/torch2/regen.sh (made there with
# SETUP_ONLY=1 when missing) gets transformers from PyPI and gives
# torch<version>-{avx2,default}.json, under ATEN_CPU_CAPABILITY avx2 and
# default.  Each file records the versions it was made with (meta).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/tests/data/layers_more
cache=${WI_REFS_CACHE:-$HOME/.cache/weightinit-refs}
versions=${TORCH_VERSIONS:-2.12.0 2.15.0}
mkdir -p "$out"
for cap in avx2 default; do
    ATEN_CPU_CAPABILITY=$cap /usr/bin/python3 "$here/layers_more_refs.py" \
        "$out/torch1.13-$cap.json"
done
for v in $versions; do
    py=$cache/venv-torch-$v/bin/python
    [ -x "$py" ] || TORCH_VERSIONS=$v SETUP_ONLY=1 "$here/torch2/regen.sh"
    "$py" -m pip install --quiet transformers
    for cap in avx2 default; do
        ATEN_CPU_CAPABILITY=$cap "$py" "$here/layers_more_refs.py" "$out/torch$v-$cap.json"
    done
done
echo "layers_more.sh: wrote $(ls "$out" | wc -l) files in $out"
