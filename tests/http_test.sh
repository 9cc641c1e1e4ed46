#!/bin/sh
# Pretrained from http:// URLs, against tests/http_server.py on 127.0.0.1
# (a free port): the first run downloads into the cache under
# <fnv1a64(url)>-<name>, the second makes no request, two URLs with the
# same file name get their own entries, and every bad transfer (404, a
# body shorter than its Content-Length, an HTML page or random bytes with
# status 200, an endless body, a huge Content-Length, a full disk, a
# refused connection) is a one-line error with exit 1 that commits
# nothing and leaves no temporary file.  Skipped (77) without python3.
set -eu
command -v python3 >/dev/null 2>&1 || exit 77
exe=$1
data=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# tensors_of FILE: a safetensors file's tensor bytes (after its header):
# what a load gave, whatever the metadata says of where it came from
tensors_of() {
    hlen=$(od -An -tu8 -N8 "$1" | tr -d ' ')
    tail -c +$((9 + hlen)) "$1"
}
# same_values A B: equal tensor bytes
same_values() {
    tensors_of "$1" >"$tmp/va"
    tensors_of "$2" >"$tmp/vb"
    cmp -s "$tmp/va" "$tmp/vb"
}

mkdir "$tmp/www" "$tmp/www/a" "$tmp/www/b" "$tmp/cache" "$tmp/run"
cp "$data/golden/tutorial_pretrained/pretrained.pth" "$tmp/www/"
cp "$data/golden/tutorial_pretrained/pretrained.pth" "$tmp/www/a/model.pth"
# Another checkpoint for the same model, other values (safetensors by hand).
python3 - "$tmp/www/b/model.pth" <<'EOF'
import json, struct, sys
hdr = json.dumps({"conv1.weight": {"dtype": "F32", "shape": [1, 1], "data_offsets": [0, 4]},
                  "conv1.bias": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}).encode()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(hdr)) + hdr + struct.pack("<ff", 0.25, -4.0))
EOF
python3 -u "$here/http_server.py" 0 "$tmp/www" >"$tmp/server.log" 2>&1 &
server=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$tmp/server.log" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "http_server.py did not start: $(cat "$tmp/server.log")"
requests() { grep -c '"GET ' "$tmp/server.log" || true; }
# The cache entry name, computed independently of weightinit.
entry() {
    python3 -c 'import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].split("#")[0].encode():
    h = ((h ^ b) * 0x100000001b3) % (1 << 64)
print("%016x-%s" % (h, sys.argv[2]))' "$1" "$2"
}

model="$data/cases/tutorial_pretrained/model.json"
export WEIGHTINIT_CACHE="$tmp/cache"
run() { # run CHECKPOINT OUT -> exit status, stderr in $tmp/err
    printf '{"type": "Pretrained", "checkpoint": "%s"}' "$1" >"$tmp/cfg.json"
    set +e
    (cd "$tmp/run" && timeout 120 "$exe" init "$model" -q --init-cfg "$tmp/cfg.json" \
        -o "$2" --report report.json 2>"$tmp/err")
    status=$?
    set -e
    return $status
}

# Reference: the same checkpoints from local paths.
cp "$tmp/www/pretrained.pth" "$tmp/run/"
run ./pretrained.pth local.safetensors || fail "local load: $(cat "$tmp/err")"
cp "$tmp/www/b/model.pth" "$tmp/run/b.pth"
run ./b.pth local_b.safetensors || fail "local load of b: $(cat "$tmp/err")"
! same_values "$tmp/run/local.safetensors" "$tmp/run/local_b.safetensors" || fail "a and b load the same values"

url="http://127.0.0.1:$port/pretrained.pth"
run "$url" first.safetensors || fail "download: $(cat "$tmp/err")"
name=$(entry "$url" pretrained.pth)
[ -f "$tmp/cache/$name" ] || fail "not cached as $name: $(ls -A "$tmp/cache")"
[ "$(ls -A "$tmp/cache")" = "$name" ] || fail "cache holds more than the entry: $(ls -A "$tmp/cache")"
cmp -s "$tmp/cache/$name" "$tmp/www/pretrained.pth" || fail "cached copy differs"
same_values "$tmp/run/local.safetensors" "$tmp/run/first.safetensors" || fail "URL load differs from local"
grep -q "PretrainedInit: load from $url" "$tmp/run/report.json" || fail "report lacks the URL"
[ "$(requests)" -eq 1 ] || fail "expected 1 request, saw $(requests)"

run "$url" second.safetensors || fail "cached run: $(cat "$tmp/err")"
[ "$(requests)" -eq 1 ] || fail "second run made a request"
same_values "$tmp/run/local.safetensors" "$tmp/run/second.safetensors" || fail "cached load differs"

# Same last path component, different files: two entries, each right.
ua="http://127.0.0.1:$port/a/model.pth"
ub="http://127.0.0.1:$port/b/model.pth"
run "$ua" a.safetensors || fail "download a: $(cat "$tmp/err")"
run "$ub" b.safetensors || fail "download b: $(cat "$tmp/err")"
cmp -s "$tmp/cache/$(entry "$ua" model.pth)" "$tmp/www/a/model.pth" || fail "entry of a differs"
cmp -s "$tmp/cache/$(entry "$ub" model.pth)" "$tmp/www/b/model.pth" || fail "entry of b differs"
same_values "$tmp/run/local.safetensors" "$tmp/run/a.safetensors" || fail "a loads wrong values"
same_values "$tmp/run/local_b.safetensors" "$tmp/run/b.safetensors" || fail "b loads wrong values"
seen=$(requests)
run "$ua" a2.safetensors || fail "cached a: $(cat "$tmp/err")"
[ "$(requests)" -eq "$seen" ] || fail "cached a made a request"
same_values "$tmp/run/local.safetensors" "$tmp/run/a2.safetensors" || fail "cached a after b differs"

# The query is part of the key; odd bytes of the name become '_'.
uq="$ua?download=1#frag"
run "$uq" q.safetensors || fail "download with a query: $(cat "$tmp/err")"
cmp -s "$tmp/cache/$(entry "$uq" model.pth)" "$tmp/www/a/model.pth" || fail "entry with a query"
[ "$(entry "$uq" model.pth)" != "$(entry "$ua" model.pth)" ] || fail "the query does not count"
cp "$tmp/www/pretrained.pth" "$tmp/www/my model.pth"
us="http://127.0.0.1:$port/my%20model.pth"
run "$us" s.safetensors || fail "download of my%20model.pth: $(cat "$tmp/err")"
cmp -s "$tmp/cache/$(entry "$us" my_20model.pth)" "$tmp/www/my model.pth" ||
    fail "odd name not cached as my_20model.pth: $(ls -A "$tmp/cache")"

# Each bad transfer: exit 1 (unless WANT_STATUS says otherwise), one line naming the URL and the reason, the
# cache exactly as before (no entry, no temporary file), no output.
before=$(ls -A "$tmp/cache")
bad() { # bad PATH WORDS...
    u="http://127.0.0.1:$port/$1"
    shift
    if run "$u" x.safetensors; then fail "$u succeeded"; fi
    want=${WANT_STATUS:-1}
    [ "$status" -eq "$want" ] || fail "$u: exit $status, want $want: $(cat "$tmp/err")"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$u: not one line: $(cat "$tmp/err")"
    grep -q "^weightinit: error: $u: " "$tmp/err" || fail "$u: URL not named: $(cat "$tmp/err")"
    for w in "$@"; do
        grep -q "$w" "$tmp/err" || fail "$u: '$w' not in: $(cat "$tmp/err")"
    done
    [ "$(ls -A "$WEIGHTINIT_CACHE")" = "$before" ] || fail "$u: cache changed: $(ls -A "$WEIGHTINIT_CACHE")"
    [ ! -e "$tmp/run/x.safetensors" ] || fail "$u: left an output"
    [ -z "${WI_SHOW:-}" ] || cat "$tmp/err"
}
bad missing.pth "HTTP 404"
bad short/pretrained.pth "transfer closed" "truncated transfer"
bad html/model.pth "the server sent an HTML page, not a checkpoint"
bad random/model.pth "not a readable checkpoint"
WEIGHTINIT_MAX_DOWNLOAD=1M bad endless/model.pth "larger than the limit of 1048576 bytes" WEIGHTINIT_MAX_DOWNLOAD
bad huge/model.pth "larger than the limit of 68719476736 bytes"
# A bad setting is a bad input (exit 2), like a bad option.
WANT_STATUS=2 WEIGHTINIT_MAX_DOWNLOAD=lots bad other.pth "WEIGHTINIT_MAX_DOWNLOAD: expected a positive number of bytes"

# A full disk (a 64 KiB tmpfs as the cache, where mounting is allowed).
mkdir "$tmp/full"
if mount -t tmpfs -o size=64k tmpfs "$tmp/full" 2>/dev/null; then
    head -c 1048576 /dev/urandom >"$tmp/www/big.pth"
    saved=$WEIGHTINIT_CACHE before=
    WEIGHTINIT_CACHE="$tmp/full"
    bad big.pth "No space left on device"
    WEIGHTINIT_CACHE=$saved
    umount "$tmp/full"
else
    echo "note: cannot mount a tmpfs here; full-disk case not run"
fi
before=$(ls -A "$tmp/cache")

kill "$server"
wait "$server" 2>/dev/null || true
server=
bad other.pth "download failed"

echo "http: download, cache names and reuse, same-name URLs, and every bad transfer as expected"
