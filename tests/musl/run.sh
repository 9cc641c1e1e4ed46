#!/bin/sh
# The RNG and layer conformance checks (570 torch outputs per profile,
# the seven profiles)
# built with musl-gcc, statically: no glibc, no jansson/Check/nettle.  Any
# value that still came from the host libm would differ here.
#   tests/musl/run.sh [SRCDIR [BUILDDIR]]      (needs musl-gcc: musl-tools)
set -eu
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${2:-${TMPDIR:-/tmp}}
cc=${MUSL_GCC:-musl-gcc}
exe=$out/wi_musl_conformance
flags="-std=c11 -O2 -ffp-contract=off -fno-fast-math -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror"
# As core/meson.build: the jump-ahead tables made by a generator, the
# AVX2/AVX-512 kernels and an FMA build of core/math's float functions.
"$cc" $flags -static -I"$src/core" -o "$out/wi_musl_mt_tables_gen" "$src"/core/rng/mt_tables_gen.c
"$out/wi_musl_mt_tables_gen" > "$out/mt_tables.h"
fma_math="-Dwi_logf=wi_fma_logf -Dwi_expf=wi_fma_expf -Dwi_erff=wi_fma_erff -Dwi_sinf=wi_fma_sinf -Dwi_cosf=wi_fma_cosf -Dwi_sincosf=wi_fma_sincosf"
isa_objs=""
for f in kernels/avx2.c kernels/avx512.c math/erff.c math/expf.c math/logf.c math/sincosf.c; do
    o=$out/wi_musl_isa_$(echo "$f" | tr / _).o
    isa="-mavx2 -mfma"
    [ "$f" = kernels/avx512.c ] && isa="$isa -mavx512f -mavx512bw -mavx512dq -mavx512vl"
    "$cc" $flags $fma_math $isa -I"$src/include" -I"$src/core" -c -o "$o" "$src/core/$f"
    isa_objs="$isa_objs $o"
done
"$cc" $flags -static \
    -I"$src/include" -I"$src/core" -I"$out" -I"$src/tests/musl" -o "$exe" \
    "$src"/core/rng/rng.c "$src"/core/rng/mt_bulk.c "$src"/core/rng/mt_jump.c "$src"/core/rng/snapshot.c \
    "$src"/core/init/init.c "$src"/core/init/trunc_normal.c "$src"/core/kernels/dispatch.c "$src"/core/rng/fill.c \
    "$src"/core/kernels/parallel.c "$src"/core/kernels/scalar.c $isa_objs \
    "$src"/core/kernels/erfinv_cr.c \
    "$src"/core/kernels/mathfun.c "$src"/core/math/*.c \
    "$src"/core/tensor/tensor.c "$src"/core/tensor/tensor_copy.c "$src"/core/tensor/convert.c \
    "$src"/core/tensor/record.c "$src"/core/tensor/read.c "$src"/core/base/error.c "$src"/core/base/path.c \
    "$src"/core/base/pyfloat.c "$src"/core/model/layer_reset.c \
    "$src"/tests/musl/conformance.c "$src"/tests/musl/sha256.c
# It must not have linked glibc: a static binary, no dynamic section.
if readelf -d "$exe" 2>/dev/null | grep -q NEEDED; then
    echo "run.sh: $exe is dynamically linked" >&2; exit 1
fi
# The 1.13 profiles against Debian's torch 1.13, the torch2.0-* ones against
# PyPI torch 2.0.0, torch2.12-default against 2.12.0, torch2.12-avx2 and
# torch2.13-default against 2.15.0 (convert_golden.py).
for p in avx2 default torch2.0-avx2 torch2.0-default torch2.12-avx2 torch2.12-default torch2.13-default; do
    case $p in torch2*) data=$p ;; *) data=x86_$p ;; esac
    line=$("$exe" "$src/tests/musl/data/$data.txt" "$p")
    echo "$line"
    # 395 outputs of the rng golden data + 175 of the layers (the musl data set)
    case $line in *" 570/570 outputs bit-exact") ;; *) exit 1 ;; esac
done
