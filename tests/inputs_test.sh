#!/bin/sh
# Odd input paths as the model, the --init-cfg file, a Pretrained
# checkpoint, and the file of inspect/convert (a checkpoint, or a sharded
# checkpoint's NAME.index.json, and a shard that index names): a FIFO, a
# directory, a copy of /dev/zero, an endless pipe on /dev/stdin, a
# missing file, a path through a regular file (ENOTDIR) and a too large
# JSON file.  Each is a
# one-line error naming the file and what is wrong, exit 2, no output,
# and never a hang (every run is under `timeout`, whose 124 fails).
# Then a checkpoint truncated by another process while the command reads
# it (strace delays the reads; skipped where ptrace is not allowed): a
# clean error, exit 1, never SIGBUS.  And a full disk under -o says so.
set -eu
exe=$1
data=$2
tmp=$(mktemp -d)
cleanup() {
    mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$tmp/in" "$tmp/run"
in="$tmp/in"
mkfifo "$in/fifo"
mkdir "$in/dir"
echo '{}' >"$in/file"
kinds="fifo dir missing notdir"
# The same kinds named as a sharded checkpoint's index.
mkfifo "$in/fifo.index.json"
mkdir "$in/dir.index.json"
if mknod "$in/zero" c 1 5 2>/dev/null; then
    mknod "$in/zero.index.json" c 1 5
    kinds="$kinds zero"
else
    echo "note: mknod not allowed; the device case is not run"
fi
truncate -s 67108865 "$in/huge.json"  # 64 MiB + 1, sparse
truncate -s 67108865 "$in/huge.index.json"
# An index beside each kind, naming it as the shard of tensor fc.weight.
for kind in $kinds; do
    shard=$kind
    [ "$kind" = notdir ] && shard=file/x
    printf '{"weight_map": {"fc.weight": "%s"}}' "$shard" >"$in/shard_$kind.index.json"
done

# path_of KIND [ROLE]
path_of() {
    case ${2:-}:$1 in
    index_*:notdir) echo "$in/file/x.index.json" ;;
    index_*:*) echo "$in/$1.index.json" ;;
    shard_*:*) echo "$in/shard_$1.index.json" ;;
    *:notdir) echo "$in/file/x" ;;
    *:stdin) echo /dev/stdin ;;
    *:huge) echo "$in/huge.json" ;;
    *) echo "$in/$1" ;;
    esac
}
# words_of KIND [ROLE]
words_of() {
    case ${2:-}:$1 in
    *:fifo|*:stdin) echo "is a FIFO" ;;
    *:dir) echo "is a directory" ;;
    *:zero) echo "is a character device" ;;
    index_*:missing) echo "$in/missing.index.json can not be found." ;;
    shard_*:missing) echo ": fc.weight: weight_map names the shard 'missing', which can not be found" ;;
    *:missing) echo "$in/missing can not be found." ;;
    *:notdir) echo "Not a directory" ;;
    *:huge) echo "more than the 64 MiB limit" ;;
    esac
}

model="$data/cases/tutorial_pretrained/model.json"
# args ROLE PATH: the command line that reads PATH in that role.
args() {
    case $1 in
    model) echo "init|$2|-q|-o|out.safetensors" ;;
    init_cfg) echo "init|$model|-q|--init-cfg|$2|-o|out.safetensors" ;;
    checkpoint|index_checkpoint|shard_checkpoint)
        printf '{"type": "Pretrained", "checkpoint": "%s"}' "$2" >"$tmp/cfg.json"
        echo "init|$model|-q|--init-cfg|$tmp/cfg.json|-o|out.safetensors" ;;
    *inspect) echo "inspect|$2" ;;
    *convert) echo "convert|$2|out.safetensors" ;;
    esac
}

check() { # check ROLE KIND WANT_STATUS
    role=$1 kind=$2 want=$3
    p=$(path_of "$kind" "$role")
    old_ifs=$IFS
    IFS='|'
    # shellcheck disable=SC2046
    set -- $(args "$role" "$p")
    IFS=$old_ifs
    set +e
    if [ "$kind" = stdin ]; then
        yes '{"type": "Linear",' | (cd "$tmp/run" && timeout 20 "$exe" "$@" \
            2>"$tmp/err"; echo $? >"$tmp/status")
        status=$(cat "$tmp/status")
    else
        (cd "$tmp/run" && timeout 20 "$exe" "$@" 2>"$tmp/err" </dev/null)
        status=$?
    fi
    set -e
    label="$role as $kind ($p)"
    [ "$status" -ne 124 ] || fail "$label: hung"
    [ "$status" -eq "$want" ] || fail "$label: exit $status, want $want: $(cat "$tmp/err")"
    grep -q "^weightinit: error: " "$tmp/err" || fail "$label: no error line: $(cat "$tmp/err")"
    [ "$(grep -c . "$tmp/err")" -eq 1 ] || fail "$label: not one line: $(cat "$tmp/err")"
    grep -qF "$p" "$tmp/err" || fail "$label: file not named: $(cat "$tmp/err")"
    words=$(words_of "$kind" "$role")
    grep -qF "$words" "$tmp/err" || fail "$label: '$words' not in: $(cat "$tmp/err")"
    [ -z "$(ls -A "$tmp/run")" ] || fail "$label: left $(ls -A "$tmp/run")"
    [ -z "${WI_SHOW:-}" ] || cat "$tmp/err"
}

for role in model init_cfg checkpoint inspect convert; do
    for kind in $kinds stdin; do
        check "$role" "$kind" 2
    done
done
check model huge 2
check init_cfg huge 2
# The index is read as every input (it blocked on a FIFO, parsed any
# size); a shard that cannot be opened is named with the index and the
# tensor (issue 16).
for role in index_inspect index_convert index_checkpoint shard_inspect shard_convert shard_checkpoint; do
    for kind in $kinds; do
        check "$role" "$kind" 2
    done
done
for role in index_inspect index_convert index_checkpoint; do
    check "$role" huge 2
done
[ -p "$in/fifo" ] || fail "the FIFO was replaced"

# A full disk says so (a 64 KiB tmpfs, where mounting is allowed): exit
# 1, strerror's words, nothing left in the folder.
mkdir "$tmp/full"
if mount -t tmpfs -o size=64k tmpfs "$tmp/full" 2>/dev/null; then
    echo '{"type": "Linear", "in_features": 256, "out_features": 256}' >"$in/linear.json"
    set +e
    timeout 60 "$exe" init "$in/linear.json" -q -o "$tmp/full/out.safetensors" 2>"$tmp/err"
    status=$?
    set -e
    df "$tmp/full" >/dev/null
    [ -z "$(ls -A "$tmp/full")" ] || { umount "$tmp/full"; fail "full disk: left a file"; }
    umount "$tmp/full"
    [ "$status" -eq 1 ] || fail "full disk: exit $status, want 1: $(cat "$tmp/err")"
    grep -q "^weightinit: error: $tmp/full/out.safetensors: .*No space left on device$" "$tmp/err" ||
        fail "full disk: $(cat "$tmp/err")"
else
    echo "note: cannot mount a tmpfs here; the full-disk case is not run"
fi

# Truncated while being read: strace delays the return of each read or
# map of the file by two seconds, and the file is emptied as soon as the
# strace log shows the first one, so the command sees the file shrink
# after reading (or mapping) it.
if command -v strace >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 &&
    strace -qq -o /dev/null true 2>/dev/null; then
    python3 - "$in/big.safetensors" <<'EOF'
import json, struct, sys
n = 65536
hdr = json.dumps({"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]}}).encode()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(hdr)) + hdr + struct.pack("<%df" % n, *range(n)))
EOF
    for role in inspect convert checkpoint; do
        f="$in/shrinking.safetensors"
        cp "$in/big.safetensors" "$f"
        old_ifs=$IFS
        IFS='|'
        # shellcheck disable=SC2046
        set -- $(args "$role" "$f")
        IFS=$old_ifs
        : >"$tmp/strace.log"
        (for _ in $(seq 300); do
            grep -qE "^[0-9]+ +(pread64|read|mmap)\(" "$tmp/strace.log" && break
            sleep 0.1
        done
        : >"$f") &
        set +e
        # LeakSanitizer cannot run under ptrace.
        (cd "$tmp/run" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" timeout 60 strace -f -qq -o "$tmp/strace.log" -P "$f" \
            -e trace=pread64,read,mmap -e inject=pread64,read,mmap:delay_exit=2000000 \
            "$exe" "$@" 2>"$tmp/err")
        status=$?
        set -e
        wait
        [ "$status" -eq 1 ] || fail "$role of a file truncated while read: exit $status, want 1: $(cat "$tmp/err")"
        grep -q "shrinking.safetensors: .*changed while being read" "$tmp/err" ||
            fail "$role truncated: $(cat "$tmp/err")"
        [ -z "$(ls -A "$tmp/run")" ] || fail "$role truncated: left $(ls -A "$tmp/run")"
        [ -z "${WI_SHOW:-}" ] || cat "$tmp/err"
    done
else
    echo "note: strace cannot trace here; the truncation case is not run"
fi

echo "inputs: every odd input path is a one-line error with exit 2, none hangs; truncation while reading exits 1"
