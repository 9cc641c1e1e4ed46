#!/bin/sh
# Keeps the fuzz harnesses building: runs build.sh into OUTDIR, then runs
# each harness once over its seed corpus (no fuzzing: every seed must load
# or fail cleanly, with no sanitizer report).  Skipped (exit 77) where
# clang cannot link -fsanitize=fuzzer (Debian: libclang-rt-14-dev missing).
#   tests/fuzz/build_test.sh OUTDIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build_test.sh OUTDIR}
CC=${CC:-clang}
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
for h in safetensors pth model; do
  # One run per seed file; libFuzzer exits non-zero on any crash or report.
  # shellcheck disable=SC2046
  "$out/fuzz_$h" -rss_limit_mb=2048 -timeout=30 \
    $(find "$here/corpus/$h" -type f | sort) > "$out/seeds_$h.log" 2>&1 || {
      cat "$out/seeds_$h.log"; echo "fuzz_$h failed on a seed" >&2; exit 1; }
  echo "fuzz_$h: $(grep -c '^Executed ' "$out/seeds_$h.log") seeds ok"
done
