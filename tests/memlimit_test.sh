#!/bin/sh
# A model larger than the memory the run may use: 1.8 GB of float32
# (tests/data/memlimit: GPT-2 XL's embeddings and 12 of its blocks) is
# initialised and written under `ulimit -v` 1 GiB of address space, and
# the tensor bytes in the file have the sha256 of what PyTorch computes
# for the same model and seed (make_model.py).  Eagerly the same run
# fails: the limit is real.
#   memlimit_test.sh WEIGHTINIT DATA
set -eu
exe=$1
data=$2/memlimit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
limit_kb=1048576
want=$(sed -n 's/.*"data_sha256": "\([0-9a-f]*\)".*/\1/p' "$data/reference.json")
bytes=$(sed -n 's/.*"data_bytes": \([0-9]*\).*/\1/p' "$data/reference.json")
[ "$bytes" -gt $((limit_kb * 1024)) ] || fail "the model ($bytes bytes) is within the limit"
avail=$(df -Pk "$tmp" | awk 'NR == 2 { print $4 }')
if [ "$avail" -lt $((bytes / 1024 + 262144)) ]; then
    echo "note: $tmp has ${avail} KiB free, the test needs $((bytes / 1024)) KiB: skipped"
    exit 77
fi

set +e
(ulimit -v $limit_kb && exec "$exe" init "$data/model.json" -q --threads 2 --no-fsync \
    -o "$tmp/m.safetensors") 2>"$tmp/err"
status=$?
set -e
[ "$status" -eq 0 ] || fail "under ulimit -v $limit_kb: exit $status: $(cat "$tmp/err")"
hlen=$(od -An -tu8 -N8 "$tmp/m.safetensors" | tr -d ' ')
size=$(stat -c %s "$tmp/m.safetensors")
[ "$size" -eq $((8 + hlen + bytes)) ] || fail "file of $size bytes, want $((8 + hlen + bytes))"
got=$(tail -c "$bytes" "$tmp/m.safetensors" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "tensor bytes sha256 $got, torch's $want"
rm -f "$tmp/m.safetensors"

# The eager path needs the whole model in memory: refused under the limit.
set +e
(ulimit -v $limit_kb && WEIGHTINIT_DEFER=0 exec "$exe" init "$data/model.json" -q --threads 2 \
    --no-fsync -o "$tmp/m.safetensors") 2>"$tmp/err"
status=$?
set -e
[ "$status" -eq 1 ] || fail "eager under the limit: exit $status, want 1: $(cat "$tmp/err")"
grep -q "cannot allocate" "$tmp/err" || fail "eager: $(cat "$tmp/err")"
[ -z "$(ls -A "$tmp" | grep -v '^err$')" ] || fail "eager left $(ls -A "$tmp")"
echo "memlimit: $bytes bytes written under a $limit_kb KiB limit, equal to torch's"
