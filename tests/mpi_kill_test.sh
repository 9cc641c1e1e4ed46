#!/bin/sh
# A rank killed midway (SIGKILL while the ranks write their shares):
# mpirun ends the job with a failure and nothing is committed.  Killing
# rank 1, mpirun sends the others SIGTERM, whose handler removes rank
# 0's temporaries at once; killing rank 0 itself (which owns them)
# leaves its temporaries, and the next run into the folder sweeps them.
#   mpi_kill_test.sh WEIGHTINIT        (skips, 77, when built without MPI)
set -eu
exe=$1
[ "${WI_HAVE_MPI:-0}" = 1 ] || { echo "SKIP: weightinit built without MPI"; exit 77; }
command -v mpirun >/dev/null 2>&1 || { echo "SKIP: no mpirun"; exit 77; }
mpirun --version 2>&1 | grep -q "Open MPI" || { echo "SKIP: not Open MPI"; exit 77; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ~1.5 GB, written one thread per rank with fsync: seconds of writing.
cat >"$tmp/big.json" <<'EOF'
{"type": "Big", "children": {
  "a": {"type": "Embedding", "num_embeddings": 16411, "embedding_dim": 12289},
  "b": {"type": "Linear", "in_features": 8191, "out_features": 8209}},
 "init_cfg": [{"type": "Normal", "layer": ["Embedding", "Linear"], "std": 0.02}]}
EOF
mkdir "$tmp/out"

# rank_pid MPIRUN_PID RANK: the pid of that rank (a child of mpirun)
rank_pid() {
    for c in $(pgrep -P "$1"); do
        if tr '\0' '\n' <"/proc/$c/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

# kill_midway RANK: starts 2 ranks, SIGKILLs RANK once the output's
# temporary has grown past its header, waits; the job must fail.
kill_midway() {
    mpirun --allow-run-as-root --oversubscribe -np 2 "$exe" init "$tmp/big.json" -q \
        --threads 1 -o "$tmp/out/m.safetensors" 2>"$tmp/err" &
    pid=$!
    i=0
    until [ "$(du -k "$tmp"/out/.m.safetensors.wi-tmp-* 2>/dev/null | awk '{s += $1} END {print s + 0}')" -gt 20000 ]; do
        i=$((i + 1))
        [ "$i" -lt 600 ] || fail "no temporary growing after 60 s: $(ls -A "$tmp/out"; cat "$tmp/err")"
        kill -0 "$pid" 2>/dev/null || fail "the run ended before it could be killed: $(cat "$tmp/err")"
        sleep 0.1
    done
    victim=$(rank_pid "$pid" "$1") || fail "no rank $1 among mpirun's children"
    kill -KILL "$victim"
    set +e
    wait "$pid"
    status=$?
    set -e
    pid=
    [ "$status" -ne 0 ] || fail "mpirun succeeded although rank $1 was killed"
    [ ! -e "$tmp/out/m.safetensors" ] || fail "killing rank $1 committed the output"
}

kill_midway 1
[ -z "$(ls -A "$tmp/out")" ] || fail "rank 1 killed: left $(ls -A "$tmp/out")"

kill_midway 0
# Rank 0 died with its temporary; a run into the folder removes it.
echo '{"type": "Linear", "in_features": 2, "out_features": 3}' >"$tmp/small.json"
"$exe" init "$tmp/small.json" -q -o "$tmp/out/small.safetensors"
[ "$(ls -A "$tmp/out")" = small.safetensors ] || fail "after the sweep: $(ls -A "$tmp/out")"
echo "mpi kill: a rank killed midway commits nothing, leaves no temporary"
