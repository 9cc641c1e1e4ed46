#!/bin/bash
# Regenerates the torch 2.x references of issue 17 with ONE command:
#
#   tests/refs/torch2/regen.sh            # from anywhere in the repository
#
# 1. creates one virtual environment per torch release (outside the
#    repository: $WI_REFS_CACHE, default ~/.cache/weightinit-refs, as
#    venv-torch-X.Y.Z) and pip-installs there, from PyPI, the newest torch 2.x
#    PyPI serves for this Python, the oldest 2.x release that installs on
#    it, and 2.12.0 (the first with the rejection-sampling trunc_normal_),
#    each with the newest mmengine release;
# 2. runs gen.py in each environment under ATEN_CPU_CAPABILITY=default, avx2
#    and avx512, writing tests/data/torch2/<torch version>/<capability>/
#    (pip freeze and the CPU torch really used are recorded in meta.json);
# 3. writes the golden cases once more with MMEngine's source as used for
#    shared/conformance (commit MMENGINE_SOURCE_COMMIT, on PYTHONPATH) under
#    the newest torch, for item 5 (tests/data/torch2/<version>/mmengine-source/);
# 4. with Debian's torch 1.13 at /usr/bin/python3 (the build the suites'
#    golden data come from), writes tests/data/torch2/1.13/<capability>/:
#    rng/sweep.json, the 1.13 answer for the sweep ops weightinit's API
#    cannot replay (eye_, dirac_, sparse_, orthogonal_, a transposed
#    normal_), and orthogonal.json.
#
# Environment: PYTHON (the interpreter the venvs are made from; default
# python3), WI_REFS_CACHE (where the venvs live), TORCH_VERSIONS (a
# space-separated list that replaces the newest/oldest search, e.g. "2.0.0"),
# CAPABILITIES (default "default avx2 avx512"), MMENGINE_SOURCE (a folder
# holding the package `mmengine` at MMENGINE_SOURCE_COMMIT, e.g.
# `git -C mmengine-clone archive COMMIT mmengine | tar -x -C DIR`; without
# it step 3 is skipped), NICE (default "nice -n 10").
#
# 6. for the oldest version (the torch2.0-* profiles' build; the suites read
#    tests/data/torch2/2.0.0), under default and avx2: gen.py --erfinv-cr (torch
#    with a correctly rounded erfinv_) and cr_refs.py, writing
#    tests/data/torch2/<version>/<capability>/erfinv_cr.json, the outputs the
#    profiles reproduce where MKL's erfinv is not correctly rounded.
#
# ERFINV_SCAN=1 adds step 5: erfinv_scan.py over every float in (-1, 1)
# for each version (MKL default, MKL_ENABLE_INSTRUCTIONS=AVX2 and SSE4_2,
# ATEN_CPU_CAPABILITY=default) and Debian's 1.13 under both capabilities,
# writing tests/data/torch2/erfinv_scan.json and the correctly rounded
# reference's sha256 and near-ties, tests/data/torch2/erfinv_cr.json (about
# an hour on 2 cores).
# GEN_ONLY=1 stops after steps 1-2 (no mmengine-source, no Debian 1.13
# refs, no --erfinv-cr step 6, no erfinv scan): for adding one more
# version's references without rewriting the other versions' data, e.g.
#   TORCH_VERSIONS=2.12.0 CAPABILITIES="default avx2" GEN_ONLY=1 regen.sh
# SETUP_ONLY=1 stops after step 1 (the venvs).
# The comparisons (compare.py, wi_replay.c) are described in
# docs/torch-versions.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PYTHON=${PYTHON:-python3}
CACHE=${WI_REFS_CACHE:-$HOME/.cache/weightinit-refs}
CAPS=${CAPABILITIES:-default avx2 avx512}
NICE=${NICE:-nice -n 10}
OUT=$ROOT/tests/data/torch2
MMENGINE_SOURCE_COMMIT=254342938d9bde1775c39ea7d5181c5d294026c4
FIRST_REJECTION=2.12.0

mkdir -p "$CACHE"

# The versions PyPI lists for torch that have a wheel for this Python,
# newest first ("pip index versions" filters by the interpreter's tags).
list_versions() {
    "$PYTHON" -m pip index versions torch 2>/dev/null |
        sed -n 's/^Available versions: //p' | tr ',' '\n' | tr -d ' ' |
        grep '^2\.'
}

# True when torch==$1 resolves and installs on this Python (dry run).
installs() {
    "$PYTHON" -m pip install --dry-run --quiet --ignore-installed \
        "torch==$1" >/dev/null 2>&1
}

pick_versions() {
    if [ -n "${TORCH_VERSIONS:-}" ]; then
        echo "$TORCH_VERSIONS"
        return
    fi
    local all newest oldest v
    all=$(list_versions)
    [ -n "$all" ] || { echo "regen.sh: pip lists no torch 2.x" >&2; exit 1; }
    newest=$(echo "$all" | head -n 1)
    oldest=
    for v in $(echo "$all" | sort -V); do
        if installs "$v"; then oldest=$v; break; fi
    done
    # The first release with the rejection-sampling trunc_normal_ and the
    # unfused default normal_ (profile torch2.12-default), when listed.
    if echo "$all" | grep -qx "$FIRST_REJECTION" &&
        [ "$FIRST_REJECTION" != "$oldest" ] && [ "$FIRST_REJECTION" != "$newest" ]; then
        echo "$oldest $FIRST_REJECTION $newest"
    else
        echo "$oldest $newest"
    fi
}

# venv-torch-$1 with torch==$1 and the newest mmengine.  torch 2.0/2.1
# wheels were built against numpy 1.x (numpy 2 breaks tensor.numpy()).
make_venv() {
    local v=$1 dir=$CACHE/venv-torch-$1 numpy=numpy
    case $v in 2.0.*|2.1.*|2.2.*) numpy='numpy<2' ;; esac
    if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c \
        "import torch, mmengine, scipy; torch.zeros(1).numpy(); assert torch.__version__.split('+')[0] == '$v'" \
        2>/dev/null; then
        return
    fi
    echo "regen.sh: creating $dir" >&2
    "$PYTHON" -m venv "$dir"
    $NICE "$dir/bin/python" -m pip install --quiet --upgrade pip
    $NICE "$dir/bin/python" -m pip install --quiet "torch==$v" "$numpy" scipy mpmath
    # The same numpy bound, or opencv (an mmengine dependency) lifts it.
    $NICE "$dir/bin/python" -m pip install --quiet mmengine "$numpy"
}

# torch obeys ATEN_CPU_CAPABILITY=avx512 even on a CPU without AVX-512 and
# dies of SIGILL (1.13 and 2.0 checked): such a capability is skipped, with
# a note in its folder.
cpu_has() {
    case $1 in
        default) return 0 ;;
        avx2) grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo ;;
        avx512) grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo ;;
    esac
}

run_gen() {
    local v=$1 cap=$2 dest=$3; shift 3
    local py=$CACHE/venv-torch-$v/bin/python
    if ! cpu_has "$cap"; then
        echo "regen.sh: this CPU lacks $cap: skipping ${dest#$ROOT/}" >&2
        mkdir -p "$dest"
        printf '{"skipped": "ATEN_CPU_CAPABILITY=%s needs a CPU with it; %s has not"}\n' \
            "$cap" "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" > "$dest/SKIPPED.json"
        return
    fi
    echo "regen.sh: torch $v, ATEN_CPU_CAPABILITY=$cap -> ${dest#$ROOT/}" >&2
    mkdir -p "$dest"
    ATEN_CPU_CAPABILITY=$cap OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        $NICE "$py" "$HERE/gen.py" --out "$dest" "$@"
}

main() {
    local versions v cap newest
    versions=$(pick_versions)
    echo "regen.sh: torch versions: $versions" >&2
    for v in $versions; do make_venv "$v"; done
    [ "${SETUP_ONLY:-0}" = 1 ] && return
    for v in $versions; do
        for cap in $CAPS; do
            run_gen "$v" "$cap" "$OUT/$v/$cap"
        done
        newest=$v
    done
    [ "${GEN_ONLY:-0}" = 1 ] && return
    if [ -n "${MMENGINE_SOURCE:-}" ]; then
        # That commit calls itself 0.11.0rc0; no release has that number.
        grep -q "__version__ = '0.11.0rc0'" "$MMENGINE_SOURCE/mmengine/version.py" ||
            { echo "regen.sh: $MMENGINE_SOURCE/mmengine is not mmengine $MMENGINE_SOURCE_COMMIT" >&2; exit 1; }
        PYTHONPATH=$MMENGINE_SOURCE run_gen "$newest" avx2 \
            "$OUT/$newest/mmengine-source" --only cases
    fi
    if /usr/bin/python3 -c 'import torch; assert torch.__version__.startswith("1.13")' 2>/dev/null; then
        for cap in default avx2; do
            echo "regen.sh: Debian torch 1.13, ATEN_CPU_CAPABILITY=$cap -> tests/data/torch2/1.13/$cap" >&2
            mkdir -p "$OUT/1.13/$cap"
            ATEN_CPU_CAPABILITY=$cap OMP_NUM_THREADS=1 $NICE /usr/bin/python3 "$HERE/gen.py" \
                --out "$OUT/1.13/$cap" --only sweep,orthogonal
        done
    fi
    if [ "${ERFINV_SCAN:-0}" = 1 ]; then
        local sources=() py
        for v in $versions; do
            py=$CACHE/venv-torch-$v/bin/python
            sources+=("t$v=:$py" "t$v-mkl-avx2=MKL_ENABLE_INSTRUCTIONS=AVX2:$py"
                      "t$v-mkl-sse42=MKL_ENABLE_INSTRUCTIONS=SSE4_2:$py"
                      "t$v-aten-default=ATEN_CPU_CAPABILITY=default:$py")
        done
        if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
            sources+=("deb1.13-avx2=ATEN_CPU_CAPABILITY=avx2:/usr/bin/python3"
                      "deb1.13-default=ATEN_CPU_CAPABILITY=default:/usr/bin/python3")
        fi
        $NICE "$CACHE/venv-torch-$newest/bin/python" "$HERE/erfinv_scan.py" \
            --out "$OUT/erfinv_scan.json" --reference-out "$OUT/erfinv_cr.json" \
            "${sources[@]}" >/dev/null
    fi
    local oldest tmp
    oldest=${versions%% *}
    tmp=$(mktemp -d)
    for cap in default avx2; do
        cpu_has "$cap" || continue
        run_gen "$oldest" "$cap" "$tmp/$cap" --only rng,sweep,cases,examples --erfinv-cr
        python3 "$HERE/cr_refs.py" "$tmp/$cap" "$OUT/$oldest/$cap" > "$OUT/$oldest/$cap/erfinv_cr.json"
    done
    rm -rf "$tmp"
    # The musl suite's plain-text copy of the op files.
    python3 "$ROOT/tests/musl/convert_golden.py"
}

main "$@"
