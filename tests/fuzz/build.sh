#!/bin/sh
# Builds the libFuzzer harnesses into OUTDIR (default: /tmp/wi-fuzz).
#   tests/fuzz/build.sh [OUTDIR]   (clang with its libFuzzer runtime:
#                                   libclang-rt-14-dev on Debian 12)
# JOBS=N compiles N files at a time (default 1: the machine is shared).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-/tmp/wi-fuzz}
obj="$out/obj"
mkdir -p "$obj"
CC=${CC:-clang}
JOBS=${JOBS:-1}
flags="-g -O1 -std=c11 -ffp-contract=off -fno-fast-math -D_GNU_SOURCE
  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -I$top/include -I$top/core -I$obj"
# The quotes are part of the macro values (C string literals).
# shellcheck disable=SC2089
defs="-DWI_PLUGINDIR=\"/nonexistent\" -DWI_BUILD_PLUGINDIR=\"/nonexistent\"
  -DWI_BUILD_LIBDIR=\"/nonexistent\" -DWI_VERSION=\"fuzz\""
deps=$(pkg-config --cflags jansson libzip libcurl)
libs="$(pkg-config --libs jansson libzip libcurl) -ldl -lpthread -lm"

# The library exactly as core/meson.build builds it: its core_sources list
# (read from there, so a new file cannot be forgotten here), the generated
# jump-ahead tables, and the per-ISA objects below.
srcs=$(sed -n "/^core_sources = files(/,/^)/s/^ *'\([^']*\.c\)',\{0,1\} *$/\1/p" \
  "$top/core/meson.build")
# Every .c named in the list must have been read (one per line).
named=$(sed -n "/^core_sources = files(/,/^)/p" "$top/core/meson.build" | grep -o "'[^']*\.c'" | wc -l)
if [ -z "$srcs" ] || [ "$(echo "$srcs" | wc -l)" -ne "$named" ]; then
  echo "build.sh: cannot read the core_sources list of $top/core/meson.build" >&2
  exit 1
fi
# The generator is a build tool: no sanitizer, no fuzzer main.
$CC -std=c11 -O1 -I"$top/core" -o "$obj/mt_tables_gen" "$top/core/rng/mt_tables_gen.c"
"$obj/mt_tables_gen" > "$obj/mt_tables.h.tmp"
mv "$obj/mt_tables.h.tmp" "$obj/mt_tables.h"

# One line per object: "SOURCE OBJECT EXTRA-FLAGS...".  As core/meson.build:
# kernels/avx2.c and avx512.c with their ISA flags, and core/math's float
# functions once more with -mfma under wi_fma_* names.
fma_math="-Dwi_logf=wi_fma_logf -Dwi_expf=wi_fma_expf -Dwi_erff=wi_fma_erff
  -Dwi_sinf=wi_fma_sinf -Dwi_cosf=wi_fma_cosf -Dwi_sincosf=wi_fma_sincosf"
avx2="-mavx2 -mfma"
avx512="$avx2 -mavx512f -mavx512bw -mavx512dq -mavx512vl"
list="$obj/objects.txt"
: > "$list"
for s in $srcs; do
  # shellcheck disable=SC2086,SC2090
  echo "$top/core/$s" "$obj/core_$(echo "$s" | tr / _ | sed 's/\.c$//').o" $defs $deps >> "$list"
done
# shellcheck disable=SC2086
echo "$top/core/kernels/avx2.c" "$obj/isa_avx2.o" $avx2 $fma_math >> "$list"
# shellcheck disable=SC2086
echo "$top/core/kernels/avx512.c" "$obj/isa_avx512.o" $avx512 $fma_math >> "$list"
for f in erff expf logf sincosf; do
  # shellcheck disable=SC2086
  echo "$top/core/math/$f.c" "$obj/fma_$f.o" $avx2 $fma_math >> "$list"
done
# The plugins, each descriptor function renamed so that all of them link
# into one program and register statically (fuzz_model.c).
plugins="plugins/common.c plugins/constant.c plugins/xavier.c plugins/normal.c
  plugins/trunc_normal.c plugins/uniform.c plugins/kaiming.c
  plugins/caffe2_xavier.c plugins/examples/orthogonal.c
  plugins/examples/positional_embedding.c tests/plugins/toyconv.c
  tests/plugins/toyhead.c"
for p in $plugins; do
  name=$(basename "$p" .c)
  echo "$top/$p $obj/plugin_$name.o -I$top/plugins -Dwi_plugin_descriptor=wi_fuzz_plugin_$name" >> "$list"
done

# Compile (JOBS at a time); each line's first word is the source, the
# second the object, the rest its own flags.
export CC flags
# shellcheck disable=SC2016,SC2086
tr '\n' '\0' < "$list" | xargs -0 -P "$JOBS" -n 1 sh -c '
  set -- $1
  src=$1 o=$2; shift 2
  $CC $flags "$@" -c "$src" -o "$o"' sh

# The library objects in an archive: the reader harnesses take only what
# they reach, fuzz_model everything its calls and the plugins pull in.
rm -f "$obj/libwi_fuzz.a"
# shellcheck disable=SC2046
ar rcs "$obj/libwi_fuzz.a" $(awk '$2 !~ /\/plugin_/ { print $2 }' "$list")
plugin_objs=$(awk '$2 ~ /\/plugin_/ { print $2 }' "$list")

for h in safetensors pth index; do
  # shellcheck disable=SC2086
  $CC $flags "$here/fuzz_$h.c" "$obj/libwi_fuzz.a" $deps $libs -o "$out/fuzz_$h"
done
# --wrap=calloc caps tensor sizes (fuzz_model.c).
# shellcheck disable=SC2086
$CC $flags "$here/fuzz_model.c" $plugin_objs "$obj/libwi_fuzz.a" -Wl,--wrap=calloc \
  $deps $libs -o "$out/fuzz_model"
echo "built $out/fuzz_safetensors $out/fuzz_pth $out/fuzz_index $out/fuzz_model"
