#!/bin/sh
# The command's plugin loading with files a user really meets: a FIFO, a
# directory and truncated copies named *.so (refused before dlopen: a
# warning on the search path, exit 2 with --plugin, never a hang or a
# SIGBUS), the same file through --plugin, the search path and a model's
# "plugins" (loaded once), a type registered by two files (both named),
# the documented order (model's plugins before WEIGHTINIT_PLUGIN_PATH) and
# the line naming each plugin a model file loads.
set -eu
exe=$1
fixtures=$WEIGHTINIT_PLUGIN_PATH # wi_toyconv.so, wi_toyhead.so
toyconv=$fixtures/wi_toyconv.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/err" ] && cat "$tmp/err"; exit 1; }
# run EXPECTED_STATUS ARGS...: the command under a timeout, stderr in $tmp/err
run() {
    want=$1; shift
    set +e
    (cd "$tmp/run" && timeout 30 "$exe" "$@" >"$tmp/out" 2>"$tmp/err")
    got=$?
    set -e
    [ "$got" -ne 124 ] || fail "timed out (hung): $*"
    [ "$got" -eq "$want" ] || fail "exit $got, want $want: $*"
}
one_error_line() {
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "not one line on stderr"
    grep -q "^weightinit: error: .*$1" "$tmp/err" || fail "error does not mention '$1'"
}

mkdir "$tmp/run" "$tmp/odd" "$tmp/copy"
cat >"$tmp/run/model.json" <<JSON
{"type": "Net", "children": {"conv": {"type": "ToyConv"}}}
JSON
mkfifo "$tmp/odd/x.so"
mkdir "$tmp/odd/y.so"
size=$(wc -c <"$toyconv")
for cut in 10 64 200 1000 4000 $((size / 2)) $((size - 1))
do
    head -c "$cut" "$toyconv" >"$tmp/odd/cut$cut.so"
done

# On the search path: each odd file is a warning naming it, the run works.
export WEIGHTINIT_PLUGIN_PATH="$fixtures:$tmp/odd"
run 0 init model.json -o out.safetensors
grep -q "x.so: not a loadable shared object: not a regular file" "$tmp/err" || fail "FIFO not reported"
grep -q "y.so: not a loadable shared object: it is a directory" "$tmp/err" || fail "directory not reported"
[ "$(grep -c 'cut[0-9]*.so: not a loadable shared object: .*truncated' "$tmp/err")" -eq 7 ] ||
    fail "not every truncated copy reported"
grep -q "^weightinit: wrote out.safetensors (2 tensors, 8 bytes) in [0-9.]* s$" "$tmp/err" ||
    fail "no summary line"
[ "$(tail -n 1 "$tmp/err" | cut -c1-18)" = "weightinit: wrote " ] || fail "summary is not the last line"
rm "$tmp/run/out.safetensors"
run 0 list
grep -q "^module       ToyConv" "$tmp/out" || fail "list lost ToyConv"

# Named explicitly: an error (2), one line, nothing written.
export WEIGHTINIT_PLUGIN_PATH="$fixtures"
for f in x.so y.so cut64.so cut4000.so "cut$((size - 1)).so"
do
    run 2 init model.json -o out.safetensors --plugin "$tmp/odd/$f"
    one_error_line "$f: not a loadable shared object"
    [ ! -e "$tmp/run/out.safetensors" ] || fail "$f: output written"
done

# The same file through --plugin, the search path and the model's plugins
# (by another path: a symlink) is one plugin.
ln -s "$toyconv" "$tmp/copy/link.so"
cat >"$tmp/run/with_plugins.json" <<JSON
{"type": "Net", "plugins": ["../copy/link.so"], "children": {"conv": {"type": "ToyConv"}}}
JSON
run 0 init with_plugins.json --plugin "$toyconv" -o out.safetensors
if grep -q "twice\|WARNING" "$tmp/err"; then fail "same file loaded twice"; fi
if grep -q "loading plugin" "$tmp/err"; then fail "a file --plugin loaded reported as loaded by the model"; fi
run 0 list --plugin "$tmp/copy/link.so"
[ "$(grep -c '^module       ToyConv' "$tmp/out")" -eq 1 ] || fail "ToyConv listed twice"

# A model's plugins load before the search path, and each is named.
cp "$toyconv" "$tmp/copy/toyconv_copy.so"
cat >"$tmp/run/own.json" <<JSON
{"type": "Net", "plugins": ["../copy/toyconv_copy.so"], "children": {"conv": {"type": "ToyConv"}}}
JSON
run 0 init own.json
grep -q "WARNING - loading plugin .*/copy/toyconv_copy.so (native code) from model own.json$" "$tmp/err" ||
    fail "model's plugin not named"
grep -q "WARNING - .*wi_toyconv.so: registering plugin 'toyconv' failed: module type 'ToyConv' is registered twice: by .*toyconv_copy.so and by .*wi_toyconv.so" "$tmp/err" ||
    fail "search path plugin not refused after the model's, naming both files"
run 0 init own.json -q
[ ! -s "$tmp/err" ] || fail "-q printed more than errors"

# Two files registering one type, both named explicitly: exit 2 naming both.
run 2 init own.json --plugin "$toyconv"
one_error_line "module type 'ToyConv' is registered twice: by $toyconv and by .*toyconv_copy.so"

echo "plugin files: FIFO, directory and 7 truncation points refused; same file loaded once; order and duplicates as documented"
