#!/bin/sh
# Builds the libFuzzer harnesses into $1 (default: /tmp/wi-fuzz).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-/tmp/wi-fuzz}
mkdir -p "$out"
CC=${CC:-clang}
flags="-g -O1 -std=c11 -ffp-contract=off -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -I$top/include -I$top/core"
core="$top/core/base/input.c $top/core/checkpoint/checkpoint.c $top/core/checkpoint/safetensors_read.c $top/core/checkpoint/pickle.c
  $top/core/checkpoint/pth.c $top/core/checkpoint/sharded.c $top/core/base/error.c $top/core/tensor/tensor.c $top/core/tensor/state_dict.c"
libs=$(pkg-config --cflags --libs jansson libzip)
for h in safetensors pth; do
  # shellcheck disable=SC2086
  $CC $flags "$here/fuzz_$h.c" $core $libs -o "$out/fuzz_$h"
done

# fuzz_model: the whole library plus the plugins, each plugin's descriptor
# function renamed so that all of them link into one program and register
# statically (fuzz_model.c).  --wrap=calloc caps tensor sizes.
obj="$out/obj-model"
mkdir -p "$obj"
objs=""
for src in "$top"/core/*/*.c; do
  o="$obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o"
  # clang 14 emits a target_clones function under a suffixed name only
  # (FOO.ifunc), which does not link; the clones compute the same bits.
  extra=""
  case "$src" in */mathfun.c) extra="-Dtarget_clones(...)=noinline" ;; esac
  # shellcheck disable=SC2086
  $CC $flags -DWI_PLUGINDIR='"/nonexistent"' -DWI_BUILD_PLUGINDIR='"/nonexistent"' \
    -DWI_BUILD_LIBDIR='"/nonexistent"' -DWI_VERSION='"fuzz"' \
    $extra $(pkg-config --cflags jansson libzip libcurl) -c "$src" -o "$o"
  objs="$objs $o"
done
for src in "$top"/plugins/common.c "$top"/plugins/constant.c "$top"/plugins/xavier.c \
    "$top"/plugins/normal.c "$top"/plugins/trunc_normal.c "$top"/plugins/uniform.c \
    "$top"/plugins/kaiming.c "$top"/plugins/caffe2_xavier.c \
    "$top"/plugins/examples/orthogonal.c "$top"/plugins/examples/positional_embedding.c \
    "$top"/tests/plugins/toyconv.c "$top"/tests/plugins/toyhead.c; do
  name=$(basename "$src" .c)
  # shellcheck disable=SC2086
  $CC $flags -I"$top/plugins" -Dwi_plugin_descriptor="wi_fuzz_plugin_$name" \
    -c "$src" -o "$obj/plugin_$name.o"
  objs="$objs $obj/plugin_$name.o"
done
# shellcheck disable=SC2086
$CC $flags "$here/fuzz_model.c" $objs -Wl,--wrap=calloc \
  $(pkg-config --cflags --libs jansson libzip libcurl) -ldl -lpthread -lm \
  -o "$out/fuzz_model"
echo "built $out/fuzz_safetensors $out/fuzz_pth $out/fuzz_model"
