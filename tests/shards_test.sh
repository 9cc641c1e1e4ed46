#!/bin/sh
# Sharded output from the command (--max-shard-size): a run killed in
# the middle of its shards commits nothing (SIGTERM: no temporary left;
# SIGKILL: temporaries the next run sweeps), impossible -o's are refused,
# and the progress bar appears on a terminal only (script(1) gives the
# run a pty), never with -q or when stderr is a file.
set -eu
exe=$1
tmp=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$tmp"

# 6 x 64 MB of Linear weights: six shards of 100 MB.
layer='{"type": "Linear", "in_features": 4096, "out_features": 4096}'
printf '{"type": "Big", "children": {"l0": %s, "l1": %s, "l2": %s, "l3": %s, "l4": %s, "l5": %s}}' \
    "$layer" "$layer" "$layer" "$layer" "$layer" "$layer" >big.json
printf '{"type": "Net", "children": {"fc": {"type": "Linear", "in_features": 3, "out_features": 2}}}' >small.json

# Runs through perl so that signals have their default action (a
# non-interactive shell's background job ignores SIGINT).
dfl() { exec perl -e '$SIG{$_} = "DEFAULT" for qw(INT HUP TERM); exec @ARGV or die' "$@"; }
# wait_temp DIR SHARD MIN: waits until shard SHARD's temporary has MIN bytes
wait_temp() {
    for _ in $(seq 1200); do
        for f in "$1"/.x-0000"$2"-of-00006.safetensors.wi-tmp-*; do
            [ -f "$f" ] && [ "$(stat -c %s "$f")" -ge "$3" ] && return 0
        done
        sleep 0.02
    done
    fail "no temporary of shard $2 with $3 bytes appeared in $1"
}
# committed DIR: the files (not hidden) in DIR
committed() { ls "$1"; }
temps() { ls -A "$1" | grep '\.wi-tmp-' || true; }

# 1. SIGKILL in the first shard, and between shards: no shard, no index;
# the temporaries are swept by the next run into the folder.
for shard in 1 3; do
    rm -rf k && mkdir k
    dfl "$exe" init big.json -q -o k/x.safetensors --max-shard-size 100MB &
    pid=$!
    pids=$pid
    wait_temp k "$shard" 1000000
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    pids=
    [ -z "$(committed k)" ] || fail "SIGKILL in shard $shard committed: $(committed k)"
    # Shards are opened one at a time: those written so far and the one
    # being written; the index comes last.
    n=$(temps k | wc -l)
    [ "$n" -eq "$shard" ] || fail "SIGKILL in shard $shard: want $shard temporaries, got $(temps k)"
    ! temps k | grep -q '^\.x\.safetensors\.index\.json\.wi-tmp-' || fail "index opened before its shards"
    "$exe" init small.json -q -o k/next.safetensors || fail "run after SIGKILL"
    [ -z "$(temps k)" ] || fail "SIGKILL leftovers not swept: $(temps k)"
    [ "$(committed k)" = next.safetensors ] || fail "after the sweep: $(committed k)"
done

# 2. SIGTERM (and SIGINT) in the middle of shard 2: exit 128+N, nothing
# at all left.
for s in TERM:15 INT:2; do
    rm -rf t && mkdir t
    dfl "$exe" init big.json -q -o t/x.safetensors --max-shard-size 100MB &
    pid=$!
    pids=$pid
    wait_temp t 2 1000000
    kill -s "${s%:*}" "$pid"
    set +e
    wait "$pid"
    got=$?
    set -e
    pids=
    [ "$got" -eq $((128 + ${s#*:})) ] || fail "SIG${s%:*}: exit $got"
    [ -z "$(ls -A t)" ] || fail "SIG${s%:*} left: $(ls -A t)"
done

# 3. A complete run: six shards and the index, nothing else.
rm -rf t && mkdir t
"$exe" init big.json -o t/x.safetensors --max-shard-size 100MB 2>err.txt || fail "full run: $(cat err.txt)"
[ "$(committed t | tr '\n' ' ')" = "x-00001-of-00006.safetensors x-00002-of-00006.safetensors x-00003-of-00006.safetensors x-00004-of-00006.safetensors x-00005-of-00006.safetensors x-00006-of-00006.safetensors x.safetensors.index.json " ] ||
    fail "files: $(ls -A t)"
[ -z "$(temps t)" ] || fail "temporaries after a run"
# stderr is a file: no bar, no carriage return, no escape sequence.
! grep -q "$(printf '\r')" err.txt || fail "a progress bar went to a file"
! grep -q 'params' err.txt || fail "progress text in a file: $(tail -c 300 err.txt)"
tail -n 1 err.txt | grep -qF 'wrote t/x.safetensors.index.json and 6 shards (12 tensors, 402.8 MB)' ||
    fail "summary: $(tail -n 1 err.txt)"

# 3b. More shards than the process may open files (EMFILE at about 1,020
# shards under the common limit of 1,024 when every shard stayed open):
# 130 shards under ulimit -n 64.
layers=
for i in $(seq 130); do
    layers="$layers${layers:+, }\"l$i\": {\"type\": \"Linear\", \"in_features\": 4, \"out_features\": 4}"
done
printf '{"type": "Many", "children": {%s}}' "$layers" >many.json
rm -rf m && mkdir m
(ulimit -n 64 && "$exe" init many.json -q -o m/x.bin --max-shard-size 80B) 2>err.txt ||
    fail "130 shards under ulimit -n 64: $(cat err.txt)"
[ "$(ls m | wc -l)" -eq 131 ] || fail "130 shards: $(ls m | wc -l) files"
[ -f m/x-00130-of-00130.bin ] && [ -f m/x.bin.index.json ] || fail "130 shards: $(ls m | tail -3)"
[ -z "$(temps m)" ] || fail "temporaries after 130 shards"

# 4. Refused before any work: no -o, -o -, a FIFO (exit 2, one line).
for args in "" "-o -" "-o fifo"; do
    rm -f fifo && mkfifo fifo
    set +e
    # shellcheck disable=SC2086
    "$exe" init small.json --max-shard-size 1MB $args >out.bin 2>err.txt
    got=$?
    set -e
    [ "$got" -eq 2 ] || fail "--max-shard-size with '$args': exit $got"
    [ "$(wc -l <err.txt)" -eq 1 ] && grep -q -- '--max-shard-size' err.txt ||
        fail "--max-shard-size with '$args': $(cat err.txt)"
    [ ! -s out.bin ] || fail "wrote to standard output"
done

# 5. On a terminal: the bar, redrawn in place, erased before the summary.
if command -v script >/dev/null 2>&1; then
    rm -rf t && mkdir t
    script -qec "'$exe' init big.json -o t/x.safetensors --max-shard-size 100MB" tty.txt >/dev/null </dev/null ||
        fail "run on a pty: $(cat tty.txt)"
    grep -q "$(printf '\r')\[[=> ]*\] [0-9.]* [a-zA-Z]* / 402.8 MB  [0-9.]* [kMG]* *params" tty.txt ||
        fail "no progress bar on a terminal: $(tr '\r\033' '|~' <tty.txt | tail -c 600)"
    # Redrawn at most 10 times a second: every draw after the first (if
    # the write lasted that long) has a rate.
    draws=$(tr '\r' '\n' <tty.txt | grep -c '^\[[=> ]*\] ' || true)
    rates=$(tr '\r' '\n' <tty.txt | grep -c '^\[[=> ]*\] .*B/s' || true)
    [ "$rates" -eq $((draws - 1)) ] || fail "$draws draws, $rates with a rate: $(tr '\r\033' '|~' <tty.txt | tail -c 600)"
    # The last draw is erased (CR, erase line) before the summary line.
    grep -q "$(printf '\r\033\\[K')weightinit: wrote t/x.safetensors.index.json" tty.txt ||
        fail "bar not cleared before the summary: $(tr '\r\033' '|~' <tty.txt | tail -c 300)"
    rm -rf t && mkdir t
    script -qec "'$exe' init big.json -q -o t/x.safetensors --max-shard-size 100MB" tty.txt >/dev/null </dev/null ||
        fail "-q run on a pty"
    # (the typescript has script's own start and done lines)
    ! grep -q 'params\|weightinit: \|weightinit - ' tty.txt || fail "-q printed on a terminal: $(tr '\r\033' '|~' <tty.txt | tail -c 300)"
    ! grep -q "$(printf '\033')" tty.txt || fail "-q drew on a terminal"
else
    echo "script(1) not found: terminal checks skipped"
fi
echo ok
