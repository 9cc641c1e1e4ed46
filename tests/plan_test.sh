#!/bin/sh
# The write plan end to end: every golden case model, and a model of odd
# large shapes (tensors over several 2^24-element pieces, sizes off the
# normal fill's 16-blocks, every primitive), written by `init` through
# the plan (values computed as the file is written, in parallel pieces)
# must give the same bytes as the eager path (WEIGHTINIT_DEFER=0, which
# the golden suites check against torch): both profiles, 1 to 8 threads,
# safetensors and .pth, one file and shards, --dtype bf16/f16.
#   plan_test.sh WEIGHTINIT DATA
set -eu
exe=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A model whose tensors straddle the writer's pieces, with every kind of
# write (init_cfg over the construction defaults) and odd sizes.
cat >"$tmp/odd.json" <<'EOF'
{"type": "Odd", "children": {
  "emb": {"type": "Embedding", "num_embeddings": 4099, "embedding_dim": 4099},
  "fc": {"type": "Linear", "in_features": 1031, "out_features": 1000},
  "conv": {"type": "Conv2d", "in_channels": 67, "out_channels": 129, "kernel_size": 3},
  "ln": {"type": "LayerNorm", "normalized_shape": 4099},
  "head": {"type": "Linear", "in_features": 4099, "out_features": 13}},
 "init_cfg": [
  {"type": "TruncNormal", "layer": "Embedding", "std": 0.02, "a": -0.04, "b": 0.04},
  {"type": "Xavier", "layer": "Linear", "distribution": "uniform"},
  {"type": "Kaiming", "layer": "Conv2d", "distribution": "normal", "bias": 0.5},
  {"type": "Normal", "layer": "Linear", "std": 0.01, "override": {"name": "head", "type": "Constant", "val": 3}}]}
EOF

# run MODEL OUT [ARGS...]: init MODEL into OUT, from MODEL's folder
# (where a case's checkpoints are)
run() {
    model=$1
    out=$2
    shift 2
    (cd "$(dirname "$model")" && "$exe" init "$model" -q --no-fsync -o "$out" "$@") ||
        fail "init $model -o $out $*"
}

# same A B: the two outputs (files, or shard folders) are equal
same() {
    if [ -d "$1" ]; then
        for f in "$1"/*; do
            cmp -s "$f" "$2/$(basename "$f")" || fail "$f differs from $2/$(basename "$f")"
        done
        [ "$(ls "$1" | wc -l)" -eq "$(ls "$2" | wc -l)" ] || fail "$1 and $2 hold other files"
    else
        cmp -s "$1" "$2" || fail "$1 differs from $2"
    fi
}

# check MODEL SEED "PROFILE..." "EXT..." THREADS...: for each profile and
# format, the eager output against the plan's with each thread count; a
# model whose eager init fails (a case about an error) must fail the same
# way through the plan.
check() {
    model=$1
    seed=$2
    profiles=$3
    exts=$4
    shift 4
    for profile in $profiles; do
        for ext in $exts; do
            mkdir -p "$tmp/e" "$tmp/p"
            common="--seed $seed --rng-profile $profile"
            set +e
            (cd "$(dirname "$model")" && WEIGHTINIT_DEFER=0 "$exe" init "$model" -q \
                --no-fsync -o "$tmp/e/m.$ext" $common --threads 1 2>"$tmp/e.err")
            status=$?
            set -e
            if [ "$status" -ne 0 ]; then
                set +e
                (cd "$(dirname "$model")" && "$exe" init "$model" -q --no-fsync \
                    -o "$tmp/p/m.$ext" $common 2>"$tmp/p.err")
                pstatus=$?
                set -e
                [ "$pstatus" -eq "$status" ] || fail "$model: eager exit $status, plan $pstatus"
                cmp -s "$tmp/e.err" "$tmp/p.err" || fail "$model: $(cat "$tmp/e.err" "$tmp/p.err")"
                rm -rf "$tmp/e" "$tmp/p"
                return 0
            fi
            for t in "$@"; do
                run "$model" "$tmp/p/m.$ext" $common --threads "$t"
                same "$tmp/e/m.$ext" "$tmp/p/m.$ext"
            done
            rm -rf "$tmp/e" "$tmp/p"
        done
    done
}

n=0
for dir in "$data"/cases/*/; do
    seed=$(sed -n 's/.*"seed": *\(-\{0,1\}[0-9]*\).*/\1/p' "$dir/args.json")
    check "$dir/model.json" "${seed:-0}" "avx2 default" safetensors 2
    check "$dir/model.json" "${seed:-0}" avx2 pth 2
    n=$((n + 1))
done
[ "$n" -gt 50 ] || fail "only $n golden cases found under $data/cases"

check "$tmp/odd.json" 42 "avx2 default" safetensors 1 2 3 8
check "$tmp/odd.json" 42 "avx2 default" pth 2

# Shards: the eager shards against the plan's (pieces cross shard files).
for t in 1 2 8; do
    mkdir -p "$tmp/se" "$tmp/sp"
    WEIGHTINIT_DEFER=0 run "$tmp/odd.json" "$tmp/se/m.safetensors" --max-shard-size 20MB --threads 1
    run "$tmp/odd.json" "$tmp/sp/m.safetensors" --max-shard-size 20MB --threads "$t"
    [ "$(ls "$tmp/sp" | wc -l)" -ge 3 ] || fail "expected several shards: $(ls "$tmp/sp")"
    same "$tmp/se" "$tmp/sp"
    rm -rf "$tmp/se" "$tmp/sp"
done

# --dtype: converted piece by piece as written (a deferred view), the
# same bytes as converting the eager tensors; both profiles (bf16 NaN
# rules differ), a file and a pipe.
for dt in bf16 f16; do
    for profile in avx2 default; do
        WEIGHTINIT_DEFER=0 run "$tmp/odd.json" "$tmp/e.safetensors" --dtype "$dt" --rng-profile "$profile"
        run "$tmp/odd.json" "$tmp/p.safetensors" --dtype "$dt" --rng-profile "$profile" --threads 3
        same "$tmp/e.safetensors" "$tmp/p.safetensors"
    done
    "$exe" init "$tmp/odd.json" -q -o - --dtype "$dt" | cat >"$tmp/p.safetensors"
    WEIGHTINIT_DEFER=0 run "$tmp/odd.json" "$tmp/e.safetensors" --dtype "$dt"
    same "$tmp/e.safetensors" "$tmp/p.safetensors"
done

# Standard output (a pipe: written in order, not at offsets) too.
WEIGHTINIT_DEFER=0 run "$tmp/odd.json" "$tmp/e.safetensors" --threads 1
"$exe" init "$tmp/odd.json" -q -o - --threads 3 | cat >"$tmp/p.safetensors"
same "$tmp/e.safetensors" "$tmp/p.safetensors"
echo "plan: $n golden cases and the odd-shapes model: plan bytes = eager bytes"
