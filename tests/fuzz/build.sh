#!/bin/sh
# Builds the libFuzzer harnesses into $1 (default: /tmp/wi-fuzz).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-/tmp/wi-fuzz}
mkdir -p "$out"
CC=${CC:-clang}
flags="-g -O1 -std=c11 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -I$top/include -I$top/core"
core="$top/core/checkpoint/checkpoint.c $top/core/checkpoint/safetensors_read.c $top/core/checkpoint/pickle.c
  $top/core/checkpoint/pth.c $top/core/checkpoint/sharded.c $top/core/base/error.c $top/core/tensor/tensor.c $top/core/tensor/state_dict.c"
libs=$(pkg-config --cflags --libs jansson libzip)
for h in safetensors pth; do
  # shellcheck disable=SC2086
  $CC $flags "$here/fuzz_$h.c" $core $libs -o "$out/fuzz_$h"
done
echo "built $out/fuzz_safetensors $out/fuzz_pth"
