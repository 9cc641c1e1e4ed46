#!/bin/sh
# Large-model benchmarks (issue 10): whole commands timed by /usr/bin/time,
# weightinit interleaved with its reference (A B A B ...), REPS rounds,
# medians printed.  Not a test: meson test never runs it.
#
#   tests/bench/bench_large.sh [check] [fsync] [page] [llama]   (default: all)
#
#   check  tiny GPT-2 and LLaMA shapes: weightinit's output must equal
#          torch_large.py's bit for bit (one file and sharded)
#   fsync  GPT-2 XL: weightinit init -o X.safetensors (fsync on commit)
#          against dd if=/dev/zero bs=4M conv=fsync of the same byte count
#   page   GPT-2 XL into the page cache (no fsync): weightinit against
#          torch build + init + torch.save
#   llama  LLaMA-7B shape as shards (--max-shard-size $SHARD): weightinit
#          against torch build + init + sharded save, and against dd conv=fsync
#
# Environment (defaults in brackets):
#   WI           the weightinit binary [build/tools/weightinit]
#   PY           python with torch [/usr/bin/python3]
#   REPS         rounds per group [3]
#   NICE         prefix of every timed command [nice -n 10]
#   BENCH_DIR    scratch folder, removed at exit [${TMPDIR:-/tmp}/wi-bench.PID]
#   GPT2_ARGS    gen_models.py/torch_large.py size options [] (= GPT-2 XL);
#                e.g. "--layers 4" for a smoke run
#   LLAMA_ARGS   the same for llama [] (= 7B shape, 27 GB); e.g. "--layers 8"
#   SHARD        --max-shard-size [5GB]
#   LLAMA_TORCH  0: llama without the torch runs (torch needs the whole model
#                in memory; the full 7B shape does not fit in 24 GB) [1]
#   TORCH_FORMAT pth (torch.save) or safetensors (a stdlib writer) [pth]
#   WI_FSYNC_CMD, WI_PAGE_CMD, WI_SHARD_CMD, DD_CMD, TORCH_CMD,
#   TORCH_SHARD_CMD  the commands, run by sh -c with $WI $PY $here $model
#                $out $bytes $SHARD $shard_bytes $GPT2_ARGS $LLAMA_ARGS
#                $TORCH_FORMAT in its environment; e.g. the page-cache run
#                through standard output instead of --no-fsync:
#                WI_PAGE_CMD='exec "$WI" init "$model" -q -o - >"$out"'
#
# Per command it prints the median (and min-max) of wall seconds, CPU
# seconds (user+sys) and peak RSS, the output's size, then the ratios of
# the medians against the first command of the group and the median of
# the pair-by-pair wall ratios.  Every output is deleted right after its
# run; `sync` runs (untimed) before each timed run.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
export here
: "${WI:=build/tools/weightinit}"
: "${PY:=/usr/bin/python3}"
: "${REPS:=3}"
: "${NICE=nice -n 10}"
: "${BENCH_DIR:=${TMPDIR:-/tmp}/wi-bench.$$}"
: "${GPT2_ARGS=}"
: "${LLAMA_ARGS=}"
: "${SHARD:=5GB}"
: "${LLAMA_TORCH:=1}"
: "${TORCH_FORMAT:=pth}"
case $WI in /*) ;; *) WI=$(pwd)/$WI ;; esac
export WI PY GPT2_ARGS LLAMA_ARGS SHARD TORCH_FORMAT

# The commands (templates: single quotes, expanded by the sh -c that runs them).
# The page-cache runs: weightinit --no-fsync, as torch.save (no fsync).
: "${WI_FSYNC_CMD:=exec \"\$WI\" init \"\$model\" -q -o \"\$out\"}"
: "${WI_PAGE_CMD:=exec \"\$WI\" init \"\$model\" -q --no-fsync -o \"\$out\"}"
: "${WI_SHARD_CMD:=exec \"\$WI\" init \"\$model\" -q --max-shard-size \"\$SHARD\" -o \"\$out\"}"
: "${DD_CMD:=exec dd if=/dev/zero of=\"\$out\" bs=4M count=\"\$bytes\" iflag=count_bytes conv=fsync status=none}"
: "${TORCH_CMD:=exec \"\$PY\" \"\$here/torch_large.py\" gpt2 \$GPT2_ARGS --format \"\$TORCH_FORMAT\" -o \"\$out\"}"
: "${TORCH_SHARD_CMD:=exec \"\$PY\" \"\$here/torch_large.py\" llama \$LLAMA_ARGS --format \"\$TORCH_FORMAT\" --max-shard-size \"\$shard_bytes\" -o \"\$out\"}"

die() { echo "bench_large.sh: $*" >&2; exit 1; }
[ -x "$WI" ] || die "$WI: not an executable (build first or set WI)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
trap 'rm -rf "$BENCH_DIR"' EXIT
trap 'exit 130' INT TERM

# HF's sizes: 5GB = 5*10^9, 5GiB = 5*2^30.
to_bytes() {
    n=${1%%[!0-9]*}; u=${1#"$n"}
    case $u in
    ""|B) m=1 ;; KB) m=1000 ;; MB) m=1000000 ;; GB) m=1000000000 ;;
    KiB) m=1024 ;; MiB) m=1048576 ;; GiB) m=1073741824 ;;
    *) die "SHARD: cannot read '$1'" ;;
    esac
    echo $((n * m))
}
shard_bytes=$(to_bytes "$SHARD")
export shard_bytes

avail_kb() { df -Pk "$1" | awk 'NR == 2 { print $4 }'; }
mem_kb() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }

# Refuses a run the disk cannot hold (one output at a time, plus 10% and 1 GB).
need_disk() {
    need=$(($1 / 1024 * 11 / 10 + 1048576))
    have=$(avail_kb "$BENCH_DIR")
    [ "$have" -ge "$need" ] || die "$2: needs $((need / 1048576)) GB free in $BENCH_DIR, has $((have / 1048576)) GB"
}

# run LABEL TEMPLATE: one timed run into a fresh $BENCH_DIR/run, appended to
# $BENCH_DIR/LABEL.times as "wall user sys maxrss_kb bytes".
run() {
    out_dir=$BENCH_DIR/run
    rm -rf "$out_dir"
    mkdir "$out_dir"
    export out="$out_dir/$out_name"
    sync
    if ! /usr/bin/time -f '%e %U %S %M' -o "$BENCH_DIR/time" \
            $NICE sh -c "$2" </dev/null; then
        cat "$BENCH_DIR/time" >&2
        die "$1 failed: $2"
    fi
    size=$(find "$out_dir" -type f -exec stat -c %s {} + | awk '{ s += $1 } END { printf "%.0f\n", s }')
    echo "$(tail -n 1 "$BENCH_DIR/time") $size" >>"$BENCH_DIR/$1.times"
    rm -rf "$out_dir"
    printf '  %-12s %s\n' "$1" "$(tail -n 1 "$BENCH_DIR/$1.times")"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk "{ print $2 }" "$BENCH_DIR/$1.times"; }
stat3() { # LABEL EXPR: median min max
    printf '%s %s %s' "$(col "$1" "$2" | median)" \
        "$(col "$1" "$2" | sort -g | head -n 1)" "$(col "$1" "$2" | sort -g | tail -n 1)"
}

# report LABEL...: the figures, then every label against the first.
report() {
    printf '%-12s %24s %24s %24s %10s\n' command "wall s: med (min-max)" \
        "cpu s: med (min-max)" "peak RSS MB: med (max)" "output MB"
    for l in "$@"; do
        set -- $(stat3 "$l" '$1') $(stat3 "$l" '$2 + $3') $(stat3 "$l" '$4 / 1024') \
            "$(col "$l" '$5 / 1e6' | median)"
        printf '%-12s %8.2f (%6.2f-%6.2f) %8.2f (%6.2f-%6.2f) %8.0f (%6.0f)       %10.1f\n' \
            "$l" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$9" "${10}"
    done
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "n/a" }'; }
ratios() { # BASE OTHER...
    base=$1; shift
    for l in "$@"; do
        w=$(col "$base" '$1' | median); wo=$(col "$l" '$1' | median)
        c=$(col "$base" '$2 + $3' | median); co=$(col "$l" '$2 + $3' | median)
        r=$(col "$base" '$4' | median); ro=$(col "$l" '$4' | median)
        pair=$(paste -d ' ' "$BENCH_DIR/$base.times" "$BENCH_DIR/$l.times" |
               awk '{ print ($6 > 0) ? $1 / $6 : "nan" }' | median |
               awk '{ printf ($1 ~ /^[0-9.e+-]+$/) ? "%.2fx" : "n/a", $1 }')
        printf '%s / %s: wall %s (pair by pair %s; %s / %s = %s), cpu %s, peak RSS %s\n' \
            "$base" "$l" "$(div "$w" "$wo")" "$pair" "$l" "$base" "$(div "$wo" "$w")" \
            "$(div "$c" "$co")" "$(div "$r" "$ro")"
    done
}

header() {
    echo
    echo "== $1"
    echo "   $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d ' ' -f 1-3 /proc/loadavg), $((($(mem_kb)) / 1048576)) GB available, REPS=$REPS, NICE='$NICE'"
}

gen() { # KIND ARGS OUTPUT
    kind=$1; args=$2
    # shellcheck disable=SC2086
    python3 "$here/gen_models.py" "$kind" $args -o "$3"
    # shellcheck disable=SC2086
    set -- $(python3 "$here/gen_models.py" "$kind" $args --params)
    echo "   model: $kind $args: $1 parameters, $(($2 / 1000000)) MB of float32"
    model_bytes=$2
}

do_check() {
    header "check: weightinit's bytes = torch_large.py's (tiny shapes)"
    g="--layers 2 --width 64 --vocab 1000 --context 64"
    l="--layers 2 --hidden 64 --mlp 172 --vocab 1000"
    d=$BENCH_DIR/check
    mkdir -p "$d/ours" "$d/torch"
    gen gpt2 "$g" "$d/g.json"
    gen llama "$l" "$d/l.json"
    "$WI" init "$d/g.json" -q -o "$d/ours/g.safetensors"
    "$PY" "$here/torch_large.py" gpt2 $g -o "$d/torch/g.pth"
    "$PY" "$here/torch_large.py" check "$d/ours/g.safetensors" "$d/torch/g.pth"
    "$WI" init "$d/l.json" -q --max-shard-size 200000 -o "$d/ours/model.safetensors"
    "$PY" "$here/torch_large.py" llama $l --max-shard-size 200000 -o "$d/torch/pytorch_model.bin"
    "$PY" "$here/torch_large.py" check "$d/ours/model.safetensors.index.json" \
        "$d/torch/pytorch_model.bin.index.json"
    rm -rf "$d"
}

do_fsync() {
    header "GPT-2 XL with fsync: weightinit against dd conv=fsync of the same bytes"
    export model=$BENCH_DIR/gpt2.json out_name=model.safetensors
    gen gpt2 "$GPT2_ARGS" "$model"
    need_disk "$model_bytes" fsync
    rm -f "$BENCH_DIR"/*.times
    i=0
    while [ $i -lt "$REPS" ]; do
        run weightinit "$WI_FSYNC_CMD"
        export bytes="$(col weightinit '$5' | tail -n 1)"
        run dd "$DD_CMD"
        i=$((i + 1))
    done
    report weightinit dd
    ratios weightinit dd
}

do_page() {
    header "GPT-2 XL into the page cache: weightinit against torch build + init + save ($TORCH_FORMAT)"
    export model=$BENCH_DIR/gpt2.json
    gen gpt2 "$GPT2_ARGS" "$model"
    need_disk "$model_bytes" page
    rm -f "$BENCH_DIR"/*.times
    i=0
    while [ $i -lt "$REPS" ]; do
        out_name=model.safetensors run weightinit "$WI_PAGE_CMD"
        out_name=model.$TORCH_FORMAT run torch "$TORCH_CMD"
        i=$((i + 1))
    done
    report weightinit torch
    ratios weightinit torch
}

do_llama() {
    header "LLaMA-7B shape as shards of $SHARD: weightinit against torch build + init + sharded save ($TORCH_FORMAT), and dd conv=fsync"
    export model=$BENCH_DIR/llama.json
    gen llama "$LLAMA_ARGS" "$model"
    need_disk "$model_bytes" llama
    mem=$(mem_kb)
    if [ "$LLAMA_TORCH" != 0 ] && [ $((model_bytes / 1024)) -gt $((mem * 9 / 10)) ]; then
        die "llama: torch holds the whole model ($((model_bytes / 1000000)) MB) in memory, $((mem / 1024)) MB available: set LLAMA_ARGS (e.g. --layers 8) or LLAMA_TORCH=0"
    fi
    rm -f "$BENCH_DIR"/*.times
    i=0
    while [ $i -lt "$REPS" ]; do
        out_name=model.safetensors run weightinit "$WI_SHARD_CMD"
        export bytes="$(col weightinit '$5' | tail -n 1)"
        if [ "$LLAMA_TORCH" != 0 ]; then
            out_name=pytorch_model.$TORCH_FORMAT run torch "$TORCH_SHARD_CMD"
        fi
        out_name=zeros run dd "$DD_CMD"
        i=$((i + 1))
    done
    refs="torch dd"
    [ "$LLAMA_TORCH" != 0 ] || refs=dd
    # shellcheck disable=SC2086
    report weightinit $refs
    # shellcheck disable=SC2086
    ratios weightinit $refs
}

[ $# -gt 0 ] || set -- check fsync page llama
for group in "$@"; do
    case $group in
    check|fsync|page|llama) "do_$group" ;;
    *) die "unknown group '$group' (check, fsync, page, llama)" ;;
    esac
done
