#!/bin/sh
# Pretrained from an http:// URL, against python3's http.server on
# 127.0.0.1 (a free port): the first run downloads into the cache, the
# second makes no request, a 404 and a refused connection are clear errors
# that leave the cache clean.  Skipped (77) without python3.
set -eu
command -v python3 >/dev/null 2>&1 || exit 77
exe=$1
data=$2
tmp=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$tmp/www" "$tmp/cache" "$tmp/run"
cp "$data/golden/tutorial_pretrained/pretrained.pth" "$tmp/www/"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" \
    >"$tmp/server.log" 2>&1 &
server=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$tmp/server.log" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "http.server did not start"
requests() { grep -c '"GET ' "$tmp/server.log" || true; }

model="$data/cases/tutorial_pretrained/model.json"
export WEIGHTINIT_CACHE="$tmp/cache"
run() { # run URL OUT -> exit status, stderr in $tmp/err
    printf '{"type": "Pretrained", "checkpoint": "%s"}' "$1" >"$tmp/cfg.json"
    set +e
    (cd "$tmp/run" && "$exe" init "$model" -q --init-cfg "$tmp/cfg.json" \
        -o "$2" --report report.json 2>"$tmp/err")
    status=$?
    set -e
    return $status
}

# Reference: the same checkpoint from a local path.
cp "$tmp/www/pretrained.pth" "$tmp/run/"
run ./pretrained.pth local.safetensors || fail "local load: $(cat "$tmp/err")"

url="http://127.0.0.1:$port/pretrained.pth"
run "$url" first.safetensors || fail "download: $(cat "$tmp/err")"
[ -f "$tmp/cache/pretrained.pth" ] || fail "nothing cached"
cmp -s "$tmp/cache/pretrained.pth" "$tmp/www/pretrained.pth" || fail "cached copy differs"
cmp -s "$tmp/run/local.safetensors" "$tmp/run/first.safetensors" || fail "URL load differs from local"
grep -q "PretrainedInit: load from $url" "$tmp/run/report.json" || fail "report lacks the URL"
[ "$(requests)" -eq 1 ] || fail "expected 1 request, saw $(requests)"

run "$url" second.safetensors || fail "cached run: $(cat "$tmp/err")"
[ "$(requests)" -eq 1 ] || fail "second run made a request"
cmp -s "$tmp/run/local.safetensors" "$tmp/run/second.safetensors" || fail "cached load differs"

before=$(ls -A "$tmp/cache" | wc -l)
if run "http://127.0.0.1:$port/missing.pth" x.safetensors; then fail "404 succeeded"; fi
grep -q "weightinit: error: .*missing.pth.*HTTP 404" "$tmp/err" || fail "404 message: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "404: more than one line"
[ "$(ls -A "$tmp/cache" | wc -l)" -eq "$before" ] || fail "404 left a file in the cache"
[ ! -e "$tmp/run/x.safetensors" ] || fail "404 left an output"

kill "$server"
wait "$server" 2>/dev/null || true
server=
if run "http://127.0.0.1:$port/other.pth" y.safetensors; then fail "refused connection succeeded"; fi
grep -q "weightinit: error: .*other.pth.*download failed" "$tmp/err" || fail "refused message: $(cat "$tmp/err")"
[ "$(ls -A "$tmp/cache" | wc -l)" -eq "$before" ] || fail "refused connection left a file in the cache"

echo "http: download, cache reuse without a request, 404 and refused connection all as expected"
