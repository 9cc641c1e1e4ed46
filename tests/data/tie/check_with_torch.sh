#!/bin/sh
# Runs check_with_torch.py with a python3 that can import torch; exit 77
# (meson: skipped) when there is none.  torch runs the AVX2 kernels, the
# ones weightinit's default profile reproduces.
export ATEN_CPU_CAPABILITY=avx2
for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import torch' >/dev/null 2>&1; then
        exec "$py" "$(dirname "$0")/check_with_torch.py" "$@"
    fi
done
echo "python3 with torch not found: skipped"
exit 77
