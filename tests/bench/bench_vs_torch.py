#!/usr/bin/python3
"""weightinit against torch 1.13 in one process: the same nn.init calls on
the same shapes, interleaved (torch, weightinit 1 thread, weightinit all
threads, repeat), median of REPS runs, in ns per element of wall time; the
one-thread runs are also timed in process CPU time, which other load on a
shared machine does not inflate.  weightinit is
loaded with ctypes; its profile follows the torch kernels in use:
ATEN_CPU_CAPABILITY=default selects the default profile, anything else the
avx2 profile.  torch runs with torch.set_num_threads(1) (its RNG kernels
are serial anyway).  Also printed: what bounds the figures - raw MT19937
draws (weightinit's bulk draws, one thread) and memory bandwidth (memset
by torch.zero_ on one thread and on all).  Each weightinit result is
checked bit for bit against torch's first run.

usage: bench_vs_torch.py LIBWEIGHTINIT.so [REPS] [SIZES...]
"""
import ctypes, math, os, statistics, sys, time
import numpy as np
import torch

lib_path = sys.argv[1]
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
sizes = [int(s) for s in sys.argv[3:]] or [2**24, 10**8]
profile = 1 if os.environ.get("ATEN_CPU_CAPABILITY") == "default" else 0
cores = os.cpu_count()

wi = ctypes.CDLL(lib_path)
vp, d, i64 = ctypes.c_void_p, ctypes.c_double, ctypes.c_int64
wi.wi_generator_new.restype = vp
wi.wi_generator_new.argtypes = [ctypes.c_uint64, ctypes.c_int]
wi.wi_generator_manual_seed.argtypes = [vp, ctypes.c_uint64]
wi.wi_generator_set_threads.argtypes = [vp, ctypes.c_int]
wi.wi_tensor_new.restype = vp
wi.wi_tensor_new.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(i64), vp]
wi.wi_tensor_data.restype = vp
wi.wi_tensor_data.argtypes = [vp]
wi.wi_tensor_free.argtypes = [vp]
wi.wi_uniform_.argtypes = [vp, vp, d, d, vp]
wi.wi_normal_.argtypes = [vp, vp, d, d, vp]
wi.wi_trunc_normal_.argtypes = [vp, vp, d, d, d, d, vp]
wi.wi_kaiming_uniform_.argtypes = [vp, vp, d, ctypes.c_char_p, ctypes.c_char_p, vp]
wi.wi_generator_fill_random32.argtypes = [vp, vp, ctypes.c_size_t, vp]
wi.wi_kernel_isa.restype = ctypes.c_char_p
wi.wi_kernel_isa.argtypes = [vp]

SQRT5 = math.sqrt(5)
PRIMS = [
    ("uniform_", lambda t: t.uniform_(-0.1, 0.1),
     lambda t, g: wi.wi_uniform_(t, g, -0.1, 0.1, None)),
    ("normal_", lambda t: t.normal_(0, 0.02),
     lambda t, g: wi.wi_normal_(t, g, 0.0, 0.02, None)),
    ("trunc_normal_", lambda t: torch.nn.init.trunc_normal_(t, 0, 0.02, -2, 2),
     lambda t, g: wi.wi_trunc_normal_(t, g, 0.0, 0.02, -2.0, 2.0, None)),
    ("kaiming_uniform_", lambda t: torch.nn.init.kaiming_uniform_(t, a=SQRT5),
     lambda t, g: wi.wi_kaiming_uniform_(t, g, SQRT5, b"fan_in", b"leaky_relu", None)),
]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def timed_cpu(fn):
    """CPU time of the whole process: for one-thread runs it is immune to
    other load on a shared machine."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def shape_of(n):
    for cols in (1024, 1000):
        if n % cols == 0:
            return (n // cols, cols)
    return (n, 1)


def bench_size(n):
    shape = shape_of(n)
    tt = torch.empty(shape)
    c_shape = (i64 * 2)(*shape)
    wt = wi.wi_tensor_new(0, 2, c_shape, None)
    wdata = np.ctypeslib.as_array(
        ctypes.cast(wi.wi_tensor_data(wt), ctypes.POINTER(ctypes.c_float)), shape=(n,))
    g = wi.wi_generator_new(0, profile)
    rows = []
    for name, tfn, wfn in PRIMS:
        # Same seed, same call: the bytes must agree.
        torch.manual_seed(0)
        tfn(tt)
        wi.wi_generator_manual_seed(g, 0)
        wi.wi_generator_set_threads(g, 0)
        assert wfn(wt, g) == 0, name
        same = np.array_equal(tt.reshape(-1).numpy().view(np.uint32), wdata.view(np.uint32))
        times = {"torch": [], "wi1": [], "wiN": [], "torch_cpu": [], "wi1_cpu": []}
        for _ in range(reps):
            times["torch"].append(timed(lambda: tfn(tt)))
            wi.wi_generator_set_threads(g, 1)
            times["wi1"].append(timed(lambda: wfn(wt, g)))
            wi.wi_generator_set_threads(g, 0)
            times["wiN"].append(timed(lambda: wfn(wt, g)))
            times["torch_cpu"].append(timed_cpu(lambda: tfn(tt)))
            wi.wi_generator_set_threads(g, 1)
            times["wi1_cpu"].append(timed_cpu(lambda: wfn(wt, g)))
        med = {k: statistics.median(v) * 1e9 / n for k, v in times.items()}
        rows.append((name, med, same))
    # Bounds: raw draws (1 thread) and memset bandwidth.
    raw = np.empty(n, dtype=np.uint32)
    draws, zero1, zeroN = [], [], []
    for _ in range(reps):
        draws.append(timed(lambda: wi.wi_generator_fill_random32(g, raw.ctypes.data, n, None)))
        torch.set_num_threads(1)
        zero1.append(timed(lambda: tt.zero_()))
        torch.set_num_threads(cores)
        zeroN.append(timed(lambda: tt.zero_()))
        torch.set_num_threads(1)
    wi.wi_tensor_free(wt)
    med = lambda v: statistics.median(v) * 1e9 / n
    return rows, (med(draws), med(zero1), med(zeroN))


def main():
    torch.set_num_threads(1)
    prof = "default" if profile else "avx2"
    print("weightinit profile %s on ISA %s, %d cores; torch %s (ATEN_CPU_CAPABILITY=%s, 1 thread); "
          "median of %d, ns per element; ratio = torch time / weightinit time"
          % (prof, wi.wi_kernel_isa(None).decode(), cores, torch.__version__,
             os.environ.get("ATEN_CPU_CAPABILITY", "unset"), reps))
    for n in sizes:
        rows, (draws, z1, zn) = bench_size(n)
        print("\n%d elements" % n)
        print("  %-17s %9s %9s %7s %9s %7s | %9s %9s %7s  %s"
              % ("primitive", "torch", "wi 1T", "x", "wi %dT" % cores, "x",
                 "torch cpu", "wi1 cpu", "x", "bits"))
        for name, m, same in rows:
            print("  %-17s %9.3f %9.3f %7.2f %9.3f %7.2f | %9.3f %9.3f %7.2f  %s"
                  % (name, m["torch"], m["wi1"], m["torch"] / m["wi1"], m["wiN"],
                     m["torch"] / m["wiN"], m["torch_cpu"], m["wi1_cpu"],
                     m["torch_cpu"] / m["wi1_cpu"], "equal" if same else "DIFFER"))
        print("  bounds: raw draws %.3f ns/elem (1 thread); memset %.3f ns/elem (1 thread), %.3f (%d threads)"
              % (draws, z1, zn, cores))
        sys.stdout.flush()


main()
