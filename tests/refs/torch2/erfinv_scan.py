#!/usr/bin/env python3
"""Every float32 in (-1, 1) through torch.erfinv of several torch builds,
against the correctly rounded erfinv (issue 17 item 2a).

  erfinv_scan.py --out FILE.json [--step-log2 24] [--limit CHUNKS]
                 SOURCE...

SOURCE is NAME=ENV...:PYTHON, e.g.
  t2.15=MKL_ENABLE_INSTRUCTIONS=AVX2:/path/venv/bin/python
  deb-avx2=ATEN_CPU_CAPABILITY=avx2:/usr/bin/python3
Each source runs as a child (this file with --child) that streams
torch.erfinv of every chunk of inputs as float32 bytes; this process (run
it with numpy, scipy and mpmath) computes the reference and compares.

Reference: scipy.special.erfinv in double of the exact input, rounded to
float; where the double lies within 2^-46 (relative; scipy's error, measured on a
sample against mpmath in each run, is below 2^-51) of a rounding
boundary between two floats, mpmath at 40 digits decides.  So every
reference value is the correctly rounded erfinv (round to nearest even).

--reference-out FILE.json (issue 17 item 3) also records the reference
itself: the sha256 of all its 2.1e9 results (float32 little-endian, in
input order), the sha256 of a sample (every 2^--sample-log2-th pattern of
each sign, in the same order), and every near-tie that mpmath decided,
with its value.  weightinit's correctly rounded erfinv is checked against
these (tests/test_erfinv_cr.c, tools/erfinv_cr_all.c).  With no SOURCE it
computes only the reference.

Inputs: all patterns 0x00000000..0x3f7fffff (+0 up to the float below 1)
and their negatives 0x80000000..0xbf7fffff: 2 * 1065353216 values.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

HI = 0x3f800000  # 1.0f: patterns below it are [0, 1)


def chunks(step, limit=None):
    out = []
    for sign in (0, 0x80000000):
        for start in range(0, HI, step):
            out.append((sign | start, min(step, HI - start)))
    return out[:limit] if limit else out


def child(step, limit):
    import numpy as np
    import torch
    torch.set_num_threads(int(os.environ.get("WI_TORCH_THREADS", "1")))
    w = sys.stdout.buffer
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    info = {"torch": torch.__version__, "cpu_capability": [
        line.split(":", 1)[1].strip() for line in torch.__config__.show().splitlines()
        if "CPU capability usage:" in line]}
    w.write((json.dumps(info) + "\n").encode())
    w.flush()
    for start, n in chunks(step, limit):
        u = np.arange(start, start + n, dtype=np.uint32)
        x = torch.from_numpy(u.view(np.float32))
        w.write(torch.erfinv(x).numpy().tobytes())
    w.flush()


def reference(x):
    """Correctly rounded float32 erfinv of float32 array x (numpy)."""
    import numpy as np
    import scipy.special as sp
    d = sp.erfinv(x.astype(np.float64))
    d[x == 0] = x[x == 0]  # scipy gives erfinv(-0) = +0; it is -0
    f = d.astype(np.float32)
    # The rounding boundaries around f: halfway to each float neighbour.
    up = np.nextafter(f, np.float32(np.inf)).astype(np.float64)
    dn = np.nextafter(f, np.float32(-np.inf)).astype(np.float64)
    fd = f.astype(np.float64)
    dist = np.minimum(np.abs(d - (fd + up) / 2), np.abs(d - (fd + dn) / 2))
    doubt = np.nonzero(dist <= np.abs(d) * 2.0**-46)[0]
    if doubt.size:
        import mpmath
        mpmath.mp.dps = 40
        for i in doubt:
            v = mpmath.erfinv(mpmath.mpf(float(x[i])))
            # Round the 40-digit value to float32 by comparing with the
            # exact midpoints (doubles hold them exactly).
            lo, hi = (fd[i] + dn[i]) / 2, (fd[i] + up[i]) / 2
            if v > mpmath.mpf(hi) or (v == mpmath.mpf(hi) and (f[i].view(np.uint32) & 1)):
                f[i] = np.float32(up[i])
            elif v < mpmath.mpf(lo) or (v == mpmath.mpf(lo) and (f[i].view(np.uint32) & 1)):
                f[i] = np.float32(dn[i])
    return f, doubt


def scipy_accuracy(n=4096):
    """Largest relative error of scipy's double erfinv against mpmath on a
    seeded sample (random patterns plus the ends of the range)."""
    import numpy as np
    import scipy.special as sp
    import mpmath
    mpmath.mp.dps = 40
    rng = np.random.default_rng(17)
    u = np.concatenate([rng.integers(0, HI, n, dtype=np.uint32),
                        np.arange(HI - 256, HI, dtype=np.uint32),
                        np.arange(0, 64, dtype=np.uint32)])
    x = u.view(np.float32).astype(np.float64)
    d = sp.erfinv(x)
    worst = 0
    for a, v in zip(d, x):
        m = mpmath.erfinv(mpmath.mpf(float(v)))
        if m != 0:
            worst = max(worst, abs((mpmath.mpf(float(a)) - m) / m))
    return float(worst)


def ulps(a, b):
    """|a - b| in units of float32 ulps via the ordered integer line."""
    import numpy as np
    def key(v):
        i = v.view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7fffffff), i)
    return np.abs(key(a) - key(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--step-log2", type=int, default=24)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out")
    ap.add_argument("--record-wrong", help="FILE.gz: every input where the FIRST source is "
                    "not correctly rounded, as lines 'input result' (hex bit patterns)")
    ap.add_argument("--reference-out", help="FILE.json: sha256 of the reference (all and "
                    "sampled) and its near-ties")
    ap.add_argument("--sample-log2", type=int, default=8)
    ap.add_argument("sources", nargs="*")
    a = ap.parse_args()
    step = 1 << a.step_log2
    if a.child:
        return child(step, a.limit)
    import numpy as np
    procs = {}
    for s in a.sources:
        name, rest = s.split("=", 1)
        envs, py = rest.rsplit(":", 1)
        env = dict(os.environ)
        for kv in filter(None, envs.split(",")):
            k, v = kv.split("=", 1)
            env[k] = v
        cmd = [py, os.path.abspath(__file__), "--child",
               "--step-log2", str(a.step_log2)] + (["--limit", str(a.limit)] if a.limit else [])
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE)
        info = json.loads(p.stdout.readline())
        procs[name] = (p, info, envs)
    names = list(procs)
    stats = {n: {"source": procs[n][2], "torch": procs[n][1], "wrong": 0, "max_ulp": 0,
                 "ulp_hist": {}, "examples": []} for n in names}
    pair = {"%s|%s" % (x, y): 0 for i, x in enumerate(names) for y in names[i + 1:]}
    pair_ex = {k: [] for k in pair}
    total = doubtful = 0
    rec = None
    if a.record_wrong:
        import gzip
        rec = gzip.open(a.record_wrong, "wt")
    t0 = time.time()
    hashes = {n: hashlib.sha256() for n in names}
    ref_all, ref_sample, ties = hashlib.sha256(), hashlib.sha256(), []
    sample_step = 1 << a.sample_log2
    for start, n in chunks(step, a.limit):
        x = np.arange(start, start + n, dtype=np.uint32).view(np.float32)
        ref, doubt = reference(x)
        nd = int(doubt.size)
        doubtful += nd
        ref_all.update(ref.tobytes())
        # chunks start at multiples of the step (>= the sample step), so
        # pattern % sample_step == 0 is every sample_step-th element here.
        ref_sample.update(ref[::sample_step].tobytes())
        for i in doubt:
            ties.append(["%08x" % x.view(np.uint32)[i], "%08x" % ref.view(np.uint32)[i]])
        total += n
        got = {}
        for name in names:
            buf = procs[name][0].stdout.read(4 * n)
            assert len(buf) == 4 * n, name
            hashes[name].update(buf)
            got[name] = np.frombuffer(buf, dtype=np.float32)
            bad = np.nonzero(got[name].view(np.uint32) != ref.view(np.uint32))[0]
            st = stats[name]
            st["wrong"] += int(bad.size)
            if rec is not None and name == names[0]:
                for i in bad:
                    rec.write("%08x %08x\n" % (x.view(np.uint32)[i], got[name].view(np.uint32)[i]))
            if bad.size:
                u = ulps(got[name][bad], ref[bad])
                st["max_ulp"] = max(st["max_ulp"], int(u.max()))
                vals, cnt = np.unique(np.minimum(u, 10), return_counts=True)
                for v, c in zip(vals, cnt):
                    key = str(int(v)) if v < 10 else ">=10"
                    st["ulp_hist"][key] = st["ulp_hist"].get(key, 0) + int(c)
                for i in bad[:max(0, 8 - len(st["examples"]))]:
                    st["examples"].append({"x": "%08x" % x.view(np.uint32)[i],
                                           "got": "%08x" % got[name].view(np.uint32)[i],
                                           "ref": "%08x" % ref.view(np.uint32)[i]})
        for k in pair:
            p, q = k.split("|")
            diff = np.nonzero(got[p].view(np.uint32) != got[q].view(np.uint32))[0]
            pair[k] += int(diff.size)
            for i in diff[:max(0, 8 - len(pair_ex[k]))]:
                pair_ex[k].append({"x": "%08x" % x.view(np.uint32)[i],
                                   p: "%08x" % got[p].view(np.uint32)[i],
                                   q: "%08x" % got[q].view(np.uint32)[i]})
        print("erfinv_scan: %08x done, %d values, %.0f s" % (start, total, time.time() - t0),
              file=sys.stderr, flush=True)
        if a.out:
            with open(a.out + ".partial", "w") as f:
                json.dump({"inputs_so_far": total, "last_chunk": "%08x" % start,
                           "per_source": stats, "pairwise_differences": pair}, f, indent=1)
    if rec is not None:
        rec.close()
    for n in names:
        procs[n][0].wait()
        stats[n]["sha256_all"] = hashes[n].hexdigest()
    res = {"inputs": total, "scipy_max_rel_error_sampled": scipy_accuracy(), "doubtful_checked_with_mpmath": doubtful,
           "seconds": round(time.time() - t0), "per_source": stats,
           "pairwise_differences": pair, "pairwise_examples": pair_ex}
    if a.reference_out:
        with open(a.reference_out, "w") as f:
            json.dump({"what": "the correctly rounded float32 erfinv over every float32 in (-1, 1) "
                       "(erfinv_scan.py --reference-out): patterns 0..0x3f7fffff then "
                       "0x80000000..0xbf7fffff, results as float32 little-endian",
                       "inputs": total,
                       "sha256_all": ref_all.hexdigest(),
                       "sample_log2": a.sample_log2,
                       "sample": "patterns p of both signs with (p & 0x7fffffff) %% %d == 0, "
                       "same order" % sample_step,
                       "sha256_sample": ref_sample.hexdigest(),
                       "scipy_max_rel_error_sampled": res["scipy_max_rel_error_sampled"],
                       "near_ties_note": "inputs whose double erfinv lay within 2^-46 of a "
                       "float rounding boundary, decided by mpmath at 40 digits: [input, "
                       "correctly rounded result]",
                       "near_ties": ties,
                       "sources": {n: {"wrong": stats[n]["wrong"], "sha256_all":
                                       stats[n]["sha256_all"], "torch": stats[n]["torch"]}
                                   for n in names}}, f, indent=1)
            f.write("\n")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    json.dump({k: v for k, v in res.items() if k != "pairwise_examples"}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
