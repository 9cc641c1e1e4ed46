#!/bin/sh
# weightinit init under mpirun (docs/mpi.md): for 1, 2 and 3 ranks (and
# 1 or 2 threads per rank), both RNG profiles, one file and shards, the
# output files are byte for byte those of one process computing every
# tensor eagerly (WEIGHTINIT_DEFER=0, the path the golden suites check
# against torch): a few golden cases and a model of ~370 MB whose odd
# shapes make ranks' shares start and end inside tensors and shards.
# Errors: a deterministic one is printed once (not once per rank) with
# the single-process exit status; .pth and standard output are refused
# (exit 2); nothing is committed and no temporary is left.
#   mpi_test.sh WEIGHTINIT DATA        (skips, 77, when built without MPI)
set -eu
exe=$1
data=$2
[ "${WI_HAVE_MPI:-0}" = 1 ] || { echo "SKIP: weightinit built without MPI"; exit 77; }
command -v mpirun >/dev/null 2>&1 || { echo "SKIP: no mpirun"; exit 77; }
if mpirun --version 2>&1 | grep -q "Open MPI"; then
    # We may run as root (CI); more ranks than cores is the point here.
    mpirun="mpirun --allow-run-as-root --oversubscribe"
else
    mpirun="mpirun"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$tmp/big.json" <<'EOF'
{"type": "Big", "children": {
  "emb": {"type": "Embedding", "num_embeddings": 8191, "embedding_dim": 9001},
  "fc": {"type": "Linear", "in_features": 1031, "out_features": 1000},
  "conv": {"type": "Conv2d", "in_channels": 67, "out_channels": 129, "kernel_size": 3},
  "ln": {"type": "LayerNorm", "normalized_shape": 4099},
  "head": {"type": "Linear", "in_features": 4099, "out_features": 4097}},
 "init_cfg": [
  {"type": "Normal", "layer": "Embedding", "std": 0.02},
  {"type": "Xavier", "layer": "Linear", "distribution": "uniform"},
  {"type": "Kaiming", "layer": "Conv2d", "distribution": "normal", "bias": 0.5},
  {"type": "Normal", "layer": "Linear", "std": 0.01,
   "override": {"name": "head", "type": "TruncNormal", "std": 0.03, "a": -0.05, "b": 0.05}}]}
EOF

# same A B: two output folders hold the same files with the same bytes
same() {
    [ "$(ls -A "$1")" = "$(ls -A "$2")" ] || fail "$1 holds $(ls -A "$1"), $2 $(ls -A "$2")"
    for f in "$1"/*; do
        cmp -s "$f" "$2/$(basename "$f")" || fail "$2/$(basename "$f") differs from one process's"
    done
}

# check MODEL SEED SHARD: the eager single-process output against mpirun
# with 1, 2, 3 ranks, both profiles (SHARD: a --max-shard-size or "")
check() {
    model=$1
    seed=$2
    shard=${3:+--max-shard-size $3}
    dir=$(dirname "$model")
    for profile in avx2 default; do
        common="-q --no-fsync --seed $seed --rng-profile $profile $shard"
        rm -rf "$tmp/e" && mkdir "$tmp/e"
        (cd "$dir" && WEIGHTINIT_DEFER=0 "$exe" init "$model" $common --threads 1 \
            -o "$tmp/e/m.safetensors") || fail "one process: $model $common"
        for np in 1 2 3; do
            for threads in 1 2; do
                [ "$np" -eq 3 ] && [ "$threads" -eq 2 ] && continue
                rm -rf "$tmp/m" && mkdir "$tmp/m"
                (cd "$dir" && $mpirun -np "$np" "$exe" init "$model" $common \
                    --threads "$threads" -o "$tmp/m/m.safetensors") ||
                    fail "mpirun -np $np: $model $common --threads $threads"
                same "$tmp/e" "$tmp/m"
            done
        done
    done
}

seed_of() { sed -n 's/.*"seed": *\(-\{0,1\}[0-9]*\).*/\1/p' "$1/args.json"; }

n=0
for case in truncnormal_vit_std sizes_normal kaiming_uniform_fan_out_conv3d \
            mmengine_foomodel defaults_rand_11_3 tutorial_kaiming_xavier_list; do
    d="$data/cases/$case"
    [ -f "$d/model.json" ] || fail "no golden case $d"
    check "$d/model.json" "$(seed_of "$d")" ""
    check "$d/model.json" "$(seed_of "$d")" 200B
    n=$((n + 1))
done

check "$tmp/big.json" 42 ""
check "$tmp/big.json" 42 40MB

[ "$(ls "$tmp/m" | wc -l)" -ge 3 ] || fail "expected several shards: $(ls "$tmp/m")"

# --dtype: each rank converts its share as it writes (deferred views of
# the float32 tensors), the bytes the eager single process converts.
for dt in bf16 f16; do
    rm -rf "$tmp/e" "$tmp/m" && mkdir "$tmp/e" "$tmp/m"
    WEIGHTINIT_DEFER=0 "$exe" init "$tmp/big.json" -q --no-fsync --dtype "$dt" --threads 1 \
        -o "$tmp/e/m.safetensors" || fail "one process --dtype $dt"
    $mpirun -np 3 "$exe" init "$tmp/big.json" -q --no-fsync --dtype "$dt" \
        -o "$tmp/m/m.safetensors" || fail "mpirun -np 3 --dtype $dt"
    same "$tmp/e" "$tmp/m"
done

# A deterministic error (a missing Pretrained checkpoint): every rank
# meets it; one line, the single-process status, nothing written.
d="$data/cases/tutorial_pretrained"
rm -rf "$tmp/e" "$tmp/m" && mkdir "$tmp/e" "$tmp/m"
set +e
(cd "$d" && "$exe" init "$d/model.json" -q -o "$tmp/e/m.safetensors" 2>"$tmp/e.err")
want=$?
(cd "$d" && $mpirun -np 3 "$exe" init "$d/model.json" -q -o "$tmp/m/m.safetensors" 2>"$tmp/m.err")
got=$?
set -e
[ "$want" -ne 0 ] || fail "the error case $d succeeded"
[ "$got" -eq "$want" ] || fail "mpirun: exit $got, one process $want: $(cat "$tmp/m.err")"
grep "weightinit: error:" "$tmp/m.err" >"$tmp/m.lines" || true
[ "$(wc -l <"$tmp/m.lines")" -eq 1 ] || fail "expected one error line: $(cat "$tmp/m.err")"
cmp -s "$tmp/e.err" "$tmp/m.lines" || fail "mpirun's error differs: $(cat "$tmp/e.err" "$tmp/m.err")"
[ -z "$(ls -A "$tmp/m")" ] || fail "left $(ls -A "$tmp/m")"

# refuse OUT WHY...: exit 2, one line naming why, nothing left in $tmp/m
refuse() {
    out=$1
    shift
    set +e
    $mpirun -np 2 "$exe" init "$tmp/big.json" -q -o "$out" "$@" >"$tmp/r.out" 2>"$tmp/r.err"
    status=$?
    set -e
    [ ! -s "$tmp/r.out" ] || fail "-o $out under mpirun wrote to standard output"
    [ "$status" -eq 2 ] || fail "-o $out under mpirun: exit $status: $(cat "$tmp/r.err")"
    [ "$(grep -c "weightinit: error:" "$tmp/r.err")" -eq 1 ] || fail "$(cat "$tmp/r.err")"
    grep -q "must be a .safetensors file" "$tmp/r.err" || fail "$(cat "$tmp/r.err")"
    [ -z "$(ls -A "$tmp/m")" ] || fail "left $(ls -A "$tmp/m")"
}
rm -rf "$tmp/m" && mkdir "$tmp/m"
refuse "$tmp/m/m.pth"
refuse "$tmp/m/m.bin" --max-shard-size 100MB
refuse -
echo "mpi: $n golden cases and a 370 MB model, 1-3 ranks: bytes = one process's"
