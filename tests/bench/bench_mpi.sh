#!/bin/sh
# Strong scaling of `weightinit init` under mpirun (docs/mpi.md): one
# model of ~1.1 GB (float32, normal and uniform fills), written with one
# thread per rank so that ranks = cores used, by one plain process and by
# mpirun -np 1, 2, 4; best of REPS runs each.  Prints wall time, CPU time
# (user + sys of mpirun and every rank), speedup over -np 1 and MB/s, and
# checks every output equals the single process's.  Then each rank's
# share with 2 ranks (WEIGHTINIT_MPI_STATS=1) and the jump-ahead cost per
# piece (bench_skip).
#   tests/bench/bench_mpi.sh [BUILDDIR [OUTDIR [REPS]]]
#     BUILDDIR  a build with -Dmpi (default: build)
#     OUTDIR    where the outputs go (default: a temporary folder; the
#               page cache absorbs them: --no-fsync, so the disk is not
#               what is measured)
set -eu
build=${1:-build}
exe=$build/tools/weightinit
reps=${3:-3}
out=${2:-}
[ -x "$exe" ] || { echo "no $exe: build first (meson setup $build && meson compile -C $build)"; exit 1; }
if [ -z "$out" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mpirun="mpirun --oversubscribe --bind-to none"
[ "$(id -u)" = 0 ] && mpirun="$mpirun --allow-run-as-root"

cat >"$out/model.json" <<'EOF'
{"type": "Bench", "children": {
  "emb": {"type": "Embedding", "num_embeddings": 32003, "embedding_dim": 4096},
  "q": {"type": "Linear", "in_features": 4096, "out_features": 4096},
  "k": {"type": "Linear", "in_features": 4096, "out_features": 4096},
  "mlp": {"type": "Linear", "in_features": 4096, "out_features": 11008},
  "out": {"type": "Linear", "in_features": 11008, "out_features": 4096}},
 "init_cfg": [{"type": "Normal", "layer": "Embedding", "std": 0.02},
              {"type": "Kaiming", "layer": "Linear", "a": 2.23606797749979,
               "distribution": "uniform", "mode": "fan_in",
               "nonlinearity": "leaky_relu"}]}
EOF

# best LABEL CMD...: runs CMD reps times; prints "wall cpu" of the best
best() {
    label=$1
    shift
    b=
    for _ in $(seq "$reps"); do
        rm -f "$out/m.safetensors"
        r=$( { /usr/bin/time -f "%e %U %S" "$@" -o "$out/m.safetensors" 2>&1 >/dev/null; } | tail -1)
        w=${r%% *}
        c=$(echo "$r" | awk '{printf "%.2f", $2 + $3}')
        if [ -z "$b" ] || awk "BEGIN {exit !($w < ${b%% *})}"; then b="$w $c"; fi
    done
    echo "$label $b"
}

common="init $out/model.json -q --no-fsync --seed 1 --threads 1"
"$exe" $common -o "$out/ref.safetensors"
bytes=$(stat -c %s "$out/ref.safetensors")
echo "model: $bytes bytes; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %8s %8s %8s %8s\n' run wall_s cpu_s speedup MB/s
base=
for n in 0 1 2 4; do
    if [ "$n" -eq 0 ]; then
        line=$(best "process" "$exe" $common)
    else
        line=$(best "np$n" $mpirun -np "$n" "$exe" $common)
        cmp -s "$out/ref.safetensors" "$out/m.safetensors" || { echo "np$n: other bytes"; exit 1; }
    fi
    set -- $line
    [ "$n" -eq 1 ] && base=$2
    sp=$( [ -n "$base" ] && awk "BEGIN {printf \"%.2f\", $base / $2}" || echo -)
    printf '%-12s %8s %8s %8s %8.0f\n' "$1" "$2" "$3" "$sp" "$(awk "BEGIN {print $bytes / 1e6 / $2}")"
done
# What each rank computes: bytes, pieces, the time of its write phase.
WEIGHTINIT_MPI_STATS=1 $mpirun -x WEIGHTINIT_MPI_STATS -np 2 "$exe" $common \
    -o "$out/m.safetensors"
[ -x "$build/tests/bench/bench_skip" ] && "$build/tests/bench/bench_skip"
exit 0
