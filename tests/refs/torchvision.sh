#!/bin/bash
# Rebuilds tests/data/torchvision/ (examples/vit-b16-torchvision.json's
# references: torchvision's own vit_b_16()) with ONE command:
#
#   tests/refs/torchvision.sh
#
# Debian's torch 1.13 with python3-torchvision 0.14 (apt) gives
# torch1.13-{avx2,default}.json; each torch 2.x venv of
# tests/refs/torch2/regen.sh (made there with SETUP_ONLY=1 when missing)
# gets the torchvision release built for its torch (TORCHVISION_<version>,
# default 2.12.0 -> 0.27.1; 2.15.0 -> 0.29.2, the newest PyPI serves, for
# torch 2.14: installed --no-deps, the model code is Python) and gives
# torch<version>-{avx2,default}.json.  Each file records its versions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)/tests/data/torchvision
cache=${WI_REFS_CACHE:-$HOME/.cache/weightinit-refs}
declare -A tv=([2.12.0]=${TORCHVISION_2_12_0:-0.27.1} [2.15.0]=${TORCHVISION_2_15_0:-0.29.2})
mkdir -p "$out"
for cap in avx2 default; do
    ATEN_CPU_CAPABILITY=$cap /usr/bin/python3 "$here/torchvision_refs.py" "$out/torch1.13-$cap.json"
done
for v in 2.12.0 2.15.0; do
    py=$cache/venv-torch-$v/bin/python
    [ -x "$py" ] || TORCH_VERSIONS=$v SETUP_ONLY=1 "$here/torch2/regen.sh"
    "$py" -m pip install --quiet --no-deps "torchvision==${tv[$v]}"
    for cap in avx2 default; do
        ATEN_CPU_CAPABILITY=$cap "$py" "$here/torchvision_refs.py" "$out/torch$v-$cap.json"
    done
done
echo "torchvision.sh: wrote $(ls "$out" | wc -l) files in $out"
