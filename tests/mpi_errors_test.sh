#!/bin/sh
# What can go wrong under mpirun (docs/mpi.md, "Errors and killed
# ranks"), each refused with one line and nothing written:
#   - ranks whose plans differ (--seed, --rng-profile, --dtype, the
#     model file or its content, --init-cfg): exit 2 naming what differs
#     and the rank, checked before anything is written;
#   - a full disk on one rank: exit 1 naming the output file and the rank.
# Built without MPI, weightinit init started as several ranks (the
# launchers' variables, and mpirun itself when installed) is refused
# with exit 2 naming the variable; one rank runs as usual.
#   mpi_errors_test.sh WEIGHTINIT
set -eu
exe=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$tmp/a.json" <<'EOF'
{"type": "Net", "children": {
  "emb": {"type": "Embedding", "num_embeddings": 300, "embedding_dim": 70},
  "fc": {"type": "Linear", "in_features": 70, "out_features": 33}},
 "init_cfg": [{"type": "Normal", "layer": "Embedding", "std": 0.02},
              {"type": "Xavier", "layer": "Linear", "distribution": "uniform"}]}
EOF
# The same model with another std for fc (the second tensor in order).
sed 's/"Xavier", "layer": "Linear", "distribution": "uniform"/"Normal", "layer": "Linear", "std": 0.5/' \
    "$tmp/a.json" >"$tmp/b.json"
cmp -s "$tmp/a.json" "$tmp/b.json" && fail "b.json equals a.json"
mkdir "$tmp/d1" "$tmp/d2" "$tmp/out"
cp "$tmp/a.json" "$tmp/d1/m.json"
cp "$tmp/b.json" "$tmp/d2/m.json"
echo '{"type": "Constant", "layer": "Linear", "val": 1}' >"$tmp/d1/cfg.json"
echo '{"type": "Constant", "layer": "Linear", "val": 2}' >"$tmp/d2/cfg.json"

# one_error STATUS WANT LINE...: exit STATUS was WANT, the run's stderr
# ($tmp/err) holds exactly one weightinit error line, containing LINE,
# and nothing is left in $tmp/out.
one_error() {
    got=$1
    want=$2
    shift 2
    [ "$got" -eq "$want" ] || fail "exit $got, want $want: $(cat "$tmp/err")"
    grep "weightinit: error:" "$tmp/err" >"$tmp/lines" || true
    [ "$(wc -l <"$tmp/lines")" -eq 1 ] || fail "want one error line: $(cat "$tmp/err")"
    grep -qF -- "$*" "$tmp/lines" || fail "want '$*' in: $(cat "$tmp/lines")"
    [ -z "$(ls -A "$tmp/out")" ] || fail "left $(ls -A "$tmp/out")"
}

if [ "${WI_HAVE_MPI:-0}" != 1 ]; then
    # Built without MPI.  launched VAR=VALUE...: init run with the
    # variables a launcher sets; its status in $status.
    launched() {
        set +e
        env "$@" "$exe" init "$tmp/a.json" -q -o "$tmp/out/m.safetensors" 2>"$tmp/err"
        status=$?
        set -e
    }
    why="but this weightinit was built without MPI"
    launched OMPI_COMM_WORLD_SIZE=3 OMPI_COMM_WORLD_RANK=0
    one_error "$status" 2 "init: started as one of 3 ranks by an MPI launcher (OMPI_COMM_WORLD_SIZE=3), $why"
    launched PMI_SIZE=2 PMI_RANK=0
    one_error "$status" 2 "init: started as one of 2 ranks by an MPI launcher (PMI_SIZE=2), $why"
    launched PMIX_RANK=0 SLURM_STEP_NUM_TASKS=4
    one_error "$status" 2 "(SLURM_STEP_NUM_TASKS=4), $why"
    # PMIx alone does not say how many: refused as several.
    launched PMIX_RANK=0
    one_error "$status" 2 "init: started as one of several ranks by an MPI launcher (PMIX_RANK=0), $why"
    # Ranks but 0 print nothing (one line for the job).
    launched OMPI_COMM_WORLD_SIZE=3 OMPI_COMM_WORLD_RANK=2
    [ "$status" -eq 2 ] && [ ! -s "$tmp/err" ] || fail "rank 2: exit $status: $(cat "$tmp/err")"
    [ -z "$(ls -A "$tmp/out")" ] || fail "rank 2 left $(ls -A "$tmp/out")"
    # One rank is one process: it runs.
    for one in "OMPI_COMM_WORLD_SIZE=1 OMPI_COMM_WORLD_RANK=0" "PMI_SIZE=1" \
               "PMIX_RANK=0 SLURM_STEP_NUM_TASKS=1"; do
        # shellcheck disable=SC2086
        launched $one
        [ "$status" -eq 0 ] && [ -f "$tmp/out/m.safetensors" ] ||
            fail "$one: exit $status: $(cat "$tmp/err")"
        rm -f "$tmp/out/m.safetensors"
    done
    if command -v mpirun >/dev/null 2>&1; then
        if mpirun --version 2>&1 | grep -q "Open MPI"; then
            mpirun="mpirun --allow-run-as-root --oversubscribe"
        else
            mpirun="mpirun"
        fi
        set +e
        $mpirun -np 2 "$exe" init "$tmp/a.json" -q -o "$tmp/out/m.safetensors" 2>"$tmp/err"
        status=$?
        set -e
        one_error "$status" 2 "started as one of 2 ranks by an MPI launcher"
        n="and under mpirun -np 2"
    fi
    echo "mpi errors (built without MPI): several ranks refused, one rank runs ${n:-}"
    exit 0
fi

command -v mpirun >/dev/null 2>&1 || { echo "SKIP: no mpirun"; exit 77; }
if mpirun --version 2>&1 | grep -q "Open MPI"; then
    mpirun="mpirun --allow-run-as-root --oversubscribe"
else
    mpirun="mpirun"
fi

# mpmd NP0 "ARGS0" NP1 "ARGS1": NP0 ranks run `weightinit init ARGS0`,
# then NP1 ranks `ARGS1`, in the folders named first (each command is
# "DIR ARGS..."), output into $tmp/out; status in $status.
mpmd() {
    set +e
    # shellcheck disable=SC2086
    $mpirun -np "$1" sh -c "cd $2 && exec \"\$0\" init \"\$@\" -q -o $tmp/out/m.safetensors" \
        "$exe" $3 : -np "$4" sh -c "cd $5 && exec \"\$0\" init \"\$@\" -q -o $tmp/out/m.safetensors" \
        "$exe" $6 2>"$tmp/err"
    status=$?
    set -e
}

differs="plan differs from rank 0's"
mpmd 1 "$tmp" "a.json --seed 0" 1 "$tmp" "a.json --seed 1"
one_error "$status" 2 "weightinit: error: rank 1's $differs: --seed 1, rank 0's 0 (every rank must be given the same --seed)"
mpmd 2 "$tmp" "a.json" 1 "$tmp" "a.json --rng-profile default"
one_error "$status" 2 "weightinit: error: rank 2's $differs: --rng-profile default, rank 0's torch2.12-avx2 (every rank must be given the same --rng-profile)"
mpmd 1 "$tmp" "a.json --dtype f16" 2 "$tmp" "a.json --dtype bf16"
one_error "$status" 2 "weightinit: error: rank 1's $differs: dtype bfloat16, rank 0's float16"
mpmd 1 "$tmp" "a.json" 1 "$tmp" "b.json"
one_error "$status" 2 "weightinit: error: rank 1's $differs: the model file b.json, rank 0's a.json"
# The same name, another content: the first tensor that differs.
mpmd 1 "$tmp/d1" "m.json" 2 "$tmp/d2" "m.json"
one_error "$status" 2 "weightinit: error: m.json: fc.weight: rank 1's $differs: other values"
mpmd 1 "$tmp/d1" "m.json --init-cfg cfg.json" 1 "$tmp/d2" "m.json --init-cfg cfg.json"
one_error "$status" 2 "rank 1's $differs: other values"
# The ranks that agree still write, with --threads and the IO path free.
mpmd 1 "$tmp/d1" "m.json --threads 1" 2 "$tmp/d1" "m.json --threads 2"
[ "$status" -eq 0 ] && [ -f "$tmp/out/m.safetensors" ] || fail "same plan: exit $status: $(cat "$tmp/err")"
(cd "$tmp/d1" && "$exe" init m.json -q -o "$tmp/one.safetensors")
cmp -s "$tmp/one.safetensors" "$tmp/out/m.safetensors" || fail "mpirun wrote other bytes than one process"
rm "$tmp/out/m.safetensors"

# A full disk on rank 1 alone (strace makes its writes fail with
# ENOSPC): the error names the output file and the rank, exit 1.
if strace -f -o /dev/null -e trace=none true 2>/dev/null; then
    enospc() {
        set +e
        $mpirun -np 1 "$exe" init "$tmp/a.json" -q -o "$tmp/out/m.safetensors" "$@" \
            : -np 1 strace -f -o /dev/null -e trace=pwrite64,pwritev \
            -e inject=pwrite64,pwritev:error=ENOSPC \
            "$exe" init "$tmp/a.json" -q -o "$tmp/out/m.safetensors" "$@" 2>"$tmp/err"
        status=$?
        set -e
    }
    enospc
    one_error "$status" 1 "weightinit: error: rank 1 of 2: $tmp/out/m.safetensors: cannot write: No space left on device"
    # pwrite, and shards of 60 KB: the embedding (84 KB) is the first,
    # whose second half rank 1 writes first.
    WEIGHTINIT_MPI_IO=posix enospc --max-shard-size 60KB
    one_error "$status" 1 "weightinit: error: rank 1 of 2: $tmp/out/m-00001-of-00002.safetensors: cannot write: No space left on device"
    full="a full disk"
else
    echo "note: strace cannot trace here; the full-disk case is not run"
fi

echo "mpi errors: differing plans refused${full:+, $full named}"
