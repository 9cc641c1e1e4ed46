#!/bin/sh
# Install into a staging folder (meson install --destdir), then, using only
# that staged install: walk docs/plugins.md as a user would (its code blocks
# are written to files and its shell blocks run, in order), and build the
# example Orthogonal plugin with pkg-config and load it three ways.
set -eu
build=$1     # the build folder
src=$2       # the source tree
prefix=$3    # get_option('prefix')
libdir=$4    # get_option('libdir')
command -v cc >/dev/null 2>&1 || exit 77
command -v pkg-config >/dev/null 2>&1 || exit 77

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

stage="$tmp/stage"
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null
root="$stage$prefix"
case "$libdir" in /*) lib="$stage$libdir" ;; *) lib="$root/$libdir" ;; esac
export PATH="$root/bin:$PATH"
export PKG_CONFIG_PATH="$lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$stage"
unset WEIGHTINIT_PLUGIN_PATH LD_LIBRARY_PATH || true
[ "$(command -v weightinit)" = "$root/bin/weightinit" ] || fail "staged weightinit not first on PATH"

# The staged command finds its built-in plugins by itself.
weightinit list >"$tmp/list.txt"
grep -q "initializer  Kaiming .*$lib/weightinit/plugins/wi_kaiming.so" "$tmp/list.txt" ||
    fail "installed weightinit does not find its plugins: $(cat "$tmp/list.txt")"
plugindir=$(pkg-config --variable=plugindir weightinit)
[ -f "$stage${plugindir#"$stage"}/wi_kaiming.so" ] || fail "pkg-config plugindir $plugindir"

# docs/plugins.md, block by block, in a clean folder.
mkdir "$tmp/user" && cd "$tmp/user"
awk -v dir="$tmp/blocks" '
    BEGIN { n = 0; system("mkdir -p " dir) }
    /^```/ && !inblock {
        inblock = 1; n++; kind = $1; sub(/^```/, "", kind); file = ""
        for (i = 2; i <= NF; i++) if ($i ~ /^file=/) { file = $i; sub(/^file=/, "", file) }
        out = sprintf("%s/%03d.%s", dir, n, kind); print (file == "" ? "-" : file) > (out ".name")
        next
    }
    /^```/ && inblock { inblock = 0; next }
    inblock { print > out }
' "$src/docs/plugins.md"
for block in "$tmp"/blocks/*.name; do
    body=${block%.name}
    name=$(cat "$block")
    case "$body" in
    *.sh) sh -e "$body" || fail "docs/plugins.md shell block $(basename "$body") failed" ;;
    *) [ "$name" != "-" ] && cp "$body" "$name" ;;
    esac
    # A block may cd: follow the tutorial's own folder.
    [ -d "$tmp/user/fill-plugin" ] && cd "$tmp/user/fill-plugin"
done
[ -f "$tmp/user/fill-plugin/fill.so" ] || fail "the tutorial did not build fill.so"

# The example Orthogonal plugin, built as a user builds theirs.
mkdir "$tmp/orth" && cd "$tmp/orth"
cc -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror -o wi_orthogonal.so \
    "$src/plugins/examples/orthogonal.c" $(pkg-config --cflags weightinit) -lm
cat >model.json <<'JSON'
{"type": "Net",
 "init_cfg": {"type": "Orthogonal", "gain": 2, "layer": "Linear"},
 "children": {"fc": {"type": "Linear", "in_features": 4, "out_features": 3}}}
JSON
check_report() {
    grep -q 'OrthogonalInit: gain=2, bias=0' report.json || fail "$1: $(cat report.json)"
    rm -f report.json out.safetensors
}
weightinit init model.json -q --plugin ./wi_orthogonal.so -o out.safetensors --report report.json
check_report "--plugin"
mkdir -p dir && cp wi_orthogonal.so dir/
WEIGHTINIT_PLUGIN_PATH="$PWD/dir" weightinit init model.json -q -o out.safetensors --report report.json
check_report "WEIGHTINIT_PLUGIN_PATH"
WEIGHTINIT_PLUGIN_PATH="$PWD/dir" weightinit list | grep -q "initializer  Orthogonal .*dir/wi_orthogonal.so" ||
    fail "list does not show Orthogonal with its file"
mkdir sub && sed 's/"type": "Net",/"type": "Net", "plugins": ["..\/dir\/wi_orthogonal.so"],/' model.json >sub/model.json
weightinit init sub/model.json -q -o out.safetensors --report report.json
check_report '"plugins" key'

# The C example (docs/library.md) built with pkg-config against the staged install
# and run with its plugins: the same bytes as the build tree's build of it,
# which the example suite checks against PyTorch's golden data.
mkdir "$tmp/c" && cd "$tmp/c"
# A sanitizer build's library needs the ASan runtime first in the program.
san=""
if readelf -d "$lib/libweightinit.so" 2>/dev/null | grep -q 'libasan'; then
    san="-fsanitize=address,undefined"
fi
cc -Wall -Wextra -Werror $san -o minimal "$src/examples/c/minimal.c" \
    $(pkg-config --cflags --libs weightinit) -Wl,-rpath,"$lib"
case_model="$src/tests/data/cases/caffe2xavier/model.json"
./minimal "$case_model" 1234 installed.safetensors || fail "examples/c/minimal.c against the install"
"$build/tests/minimal" "$case_model" 1234 build.safetensors || fail "build tree's minimal"
cmp -s installed.safetensors build.safetensors || fail "minimal: the install and the build tree differ"
echo "install: staged install, docs/plugins.md tutorial, Orthogonal via --plugin, WEIGHTINIT_PLUGIN_PATH and \"plugins\" all work; the C example builds with pkg-config"
