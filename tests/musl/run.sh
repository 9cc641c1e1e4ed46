#!/bin/sh
# The RNG and layer conformance checks (570 torch outputs per profile)
# built with musl-gcc, statically: no glibc, no jansson/Check/nettle.  Any
# value that still came from the host libm would differ here.
#   tests/musl/run.sh [SRCDIR [BUILDDIR]]      (needs musl-gcc: musl-tools)
set -eu
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${2:-${TMPDIR:-/tmp}}
cc=${MUSL_GCC:-musl-gcc}
exe=$out/wi_musl_conformance
"$cc" -std=c11 -O2 -ffp-contract=off -fno-fast-math -D_GNU_SOURCE \
    -Wall -Wextra -Wpedantic -Werror -static \
    -I"$src/include" -I"$src/core" -I"$src/tests/musl" -o "$exe" \
    "$src"/core/rng/rng.c "$src"/core/init/init.c \
    "$src"/core/kernels/mathfun.c "$src"/core/math/*.c \
    "$src"/core/tensor/tensor.c "$src"/core/base/error.c \
    "$src"/core/base/pyfloat.c "$src"/core/model/layer_reset.c \
    "$src"/tests/musl/conformance.c "$src"/tests/musl/sha256.c
# It must not have linked glibc: a static binary, no dynamic section.
if readelf -d "$exe" 2>/dev/null | grep -q NEEDED; then
    echo "run.sh: $exe is dynamically linked" >&2; exit 1
fi
for p in avx2 default; do
    line=$("$exe" "$src/tests/musl/data/x86_$p.txt" "$p")
    echo "$line"
    # 395 outputs of tests/test_rng.c + 175 of tests/test_layers.c
    case $line in *" 570/570 outputs bit-exact") ;; *) exit 1 ;; esac
done
