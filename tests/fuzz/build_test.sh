#!/bin/sh
# Keeps the fuzz harnesses building and finding nothing: runs build.sh
# into OUTDIR, then each harness once over its seed corpus (every seed
# must load or fail cleanly, with no sanitizer report), then the smoke:
# each harness fuzzes from its seeds for a few seconds (FUZZ_SMOKE_SECONDS,
# default 6; twice that for fuzz_model; 0 skips the smoke) with a fixed
# -seed.  A crash, sanitizer report, leak, timeout (30 s: the generator's
# jump-ahead past 10^18 draws alone takes a second under the fuzzer's
# instrumentation, and CI machines are shared) or out-of-memory fails the
# test, and its input is printed (base64) and left in OUTDIR/smoke-art/.
# Skipped (exit 77) where clang cannot link -fsanitize=fuzzer (Debian:
# libclang-rt-14-dev missing).
#   tests/fuzz/build_test.sh OUTDIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build_test.sh OUTDIR}
CC=${CC:-clang}
smoke=${FUZZ_SMOKE_SECONDS:-6}
mkdir -p "$out"
command -v "$CC" >/dev/null 2>&1 || { echo "no $CC: skipped"; exit 77; }
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
  'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
  'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
  > "$out/probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$out/probe.c" -o "$out/probe" \
    > "$out/probe.log" 2>&1; then
  echo "$CC cannot link -fsanitize=fuzzer,address,undefined (libFuzzer runtime missing): skipped"
  cat "$out/probe.log"
  exit 77
fi
CC=$CC sh "$here/build.sh" "$out"
# The harnesses' temporary folders go here, not to /tmp.
mkdir -p "$out/tmp"
TMPDIR=$out/tmp
export TMPDIR
harnesses="safetensors pth index model"
for h in $harnesses; do
  # One run per seed file; libFuzzer exits non-zero on any crash or report.
  # shellcheck disable=SC2046
  "$out/fuzz_$h" -rss_limit_mb=2048 -timeout=30 \
    $(find "$here/corpus/$h" -type f | sort) > "$out/seeds_$h.log" 2>&1 || {
      cat "$out/seeds_$h.log"; echo "fuzz_$h failed on a seed" >&2; exit 1; }
  echo "fuzz_$h: $(grep -c '^Executed ' "$out/seeds_$h.log") seeds ok"
done
[ "$smoke" -gt 0 ] || exit 0
rm -rf "$out/smoke-art"
mkdir -p "$out/smoke-art"
for h in $harnesses; do
  t=$smoke
  [ "$h" = model ] && t=$((smoke * 2))
  # New inputs go to a scratch folder (the seeds are read only).
  rm -rf "$out/smoke-$h"
  mkdir -p "$out/smoke-$h"
  if ! "$out/fuzz_$h" "$out/smoke-$h" "$here/corpus/$h" -dict="$here/$h.dict" \
      -seed=1 -max_total_time="$t" -timeout=30 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/smoke-art/$h-" \
      > "$out/smoke_$h.log" 2>&1; then
    tail -n 60 "$out/smoke_$h.log"
    for a in "$out/smoke-art/$h-"*; do
      [ -f "$a" ] || continue
      echo "reproducer $a (replay: $out/fuzz_$h FILE), base64:"
      head -c 65536 "$a" | base64
    done
    echo "fuzz_$h: the smoke found a failure (tests/fuzz/README.md)" >&2
    exit 1
  fi
  echo "fuzz_$h: smoke ${t}s, $(sed -n 's/^stat::number_of_executed_units: *//p' \
    "$out/smoke_$h.log") execs, nothing found"
done
