#!/bin/sh
# Runs bench_init and the same primitives in PyTorch (Debian python3-torch,
# one thread, as the golden data was made) in one session, and prints the
# ratio weightinit / torch per primitive (avx2 profile; torch picks its
# AVX2 kernels on such a CPU).  Usage: bench_vs_torch.sh BENCH_INIT [N]
set -eu
bench=$1
n=${2:-16777216}
py=/usr/bin/python3
"$bench" "$n" | tee /tmp/wi_bench.$$
$py - "$n" <<'PY' | tee /tmp/torch_bench.$$
import sys, time, math, torch
torch.set_num_threads(1)
n = int(sys.argv[1]); t = torch.empty(n // 1024, 1024)
prims = [("uniform_", lambda: t.uniform_(-0.1, 0.1)), ("normal_", lambda: t.normal_(0, 0.02)),
         ("trunc_normal_", lambda: torch.nn.init.trunc_normal_(t, 0, 0.02, -2, 2)),
         ("kaiming_uniform_", lambda: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)))]
for name, fn in prims:
    fn(); best = 1e30
    for _ in range(3):
        t0 = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t0)
    print("torch    %-17s %12d elements  %8.3f s  %8.1f Melem/s" % (name, t.numel(), best, t.numel() / best / 1e6))
PY
echo "ratio (weightinit avx2 time / torch time; < 1 is faster):"
for p in uniform_ normal_ trunc_normal_ kaiming_uniform_; do
    w=$(awk -v p="$p" '$1 == "avx2" && $2 == p {print $5}' /tmp/wi_bench.$$)
    t=$(awk -v p="$p" '$1 == "torch" && $2 == p {print $5}' /tmp/torch_bench.$$)
    awk -v p="$p" -v w="$w" -v t="$t" 'BEGIN { printf "  %-17s %.2f\n", p, w / t }'
done
rm -f /tmp/wi_bench.$$ /tmp/torch_bench.$$
