#!/usr/bin/env python3
"""Compares references written by gen.py with what weightinit reproduces
today (issue 17 item 2).

  compare.py cases DIR [DIR2]   DIR/cases.json against the golden data the
                                suites use (tests/data/golden: manifest.json =
                                profile `default`, manifest.avx2.json =
                                profile `avx2` where present), or against DIR2
                                (another gen.py output) when given: tensors,
                                .to(bf16/f16), MMEngine's report, log, errors
  compare.py rng DIR            DIR/rng/*.json against tests/data/rng/x86_*
                                (the files the suites replay) and, for
                                sweep.json, against WEIGHTINIT_REF (a gen.py
                                output of the same sweep under torch 1.13,
                                default tests/data/torch2/1.13/<cap>)
  compare.py examples DIR       per-tensor sha256 against tests/data/examples
  compare.py orthogonal DIR     values against tests/data/orthogonal (max abs)
  compare.py dtype DIR          bits against tests/data/dtype/bits.txt and the
                                all-pattern hashes against WEIGHTINIT_REF

Each prints one line per item: `same as avx2`, `same as default`, `same as
both`, or `DIFFERS` with the count of differing elements where known.
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DATA = os.path.join(ROOT, "tests", "data")


def load(path):
    with open(path) as f:
        return json.load(f)


def verdict(match_avx2, match_default):
    if match_avx2 and match_default:
        return "same as both"
    if match_avx2:
        return "same as avx2"
    if match_default:
        return "same as default"
    return "DIFFERS"


# ---- cases ------------------------------------------------------------------

def golden_case(name):
    g = os.path.join(DATA, "golden", name)
    out = {}
    for prof, fname in (("default", "manifest.json"), ("avx2", "manifest.avx2.json")):
        p = os.path.join(g, fname)
        if os.path.exists(p):
            out[prof] = [(t["name"], t["sha256"]) for t in load(p)["tensors"]]
    if "avx2" not in out and "default" in out:
        out["avx2"] = out["default"]
    for f in ("error.json", "init_info.json"):
        p = os.path.join(g, f)
        if os.path.exists(p):
            out[f] = load(p)
    return out


def tensors_of(c, key="sha256"):
    return [(t["name"], t[key]) for t in c.get("tensors", [])]


def cmp_cases(d, d2=None):
    mine = load(os.path.join(d, "cases.json"))
    other = load(os.path.join(d2, "cases.json")) if d2 else None
    n_diff = 0
    for name, c in mine["cases"].items():
        notes = []
        if other is not None:
            o = other["cases"].get(name, {})
            for key in ("sha256", "bf16_sha256", "f16_sha256"):
                a, b = [(n, h) for n, h in ((t["name"], t.get(key)) for t in c.get("tensors", []))], \
                    [(n, h) for n, h in ((t["name"], t.get(key)) for t in o.get("tensors", []))]
                if a != b:
                    diff = sum(1 for x, y in zip(a, b) if x != y) + abs(len(a) - len(b))
                    notes.append("%s differs in %d tensors" % (key, diff))
            for key in ("error", "init_info", "log"):
                if c.get(key) != o.get(key):
                    notes.append("%s differs: %s" % (key, first_diff(c.get(key), o.get(key))))
            line = "same" if not notes else "DIFFERS: " + "; ".join(notes)
        else:
            g = golden_case(name)
            got = tensors_of(c)
            if "error" in c or "error.json" in g:
                e = g.get("error.json", {})
                same = c.get("error", {}).get("class") == e.get("class") and \
                    c.get("error", {}).get("message") == e.get("message")
                line = "error same" if same else "ERROR DIFFERS: %s vs %s" % (c.get("error"), e)
            else:
                line = verdict(got == g.get("avx2"), got == g.get("default"))
                if line == "DIFFERS":
                    line += " (%s)" % ", ".join(
                        "%d/%d tensors vs %s" % (sum(1 for x, y in zip(got, g[p]) if x != y), len(got), p)
                        for p in ("avx2", "default") if p in g)
            info = g.get("init_info.json")
            if info is not None and c.get("init_info") and \
                    [(i["name"], i["info"].rstrip()) for i in info] != \
                    [(i["name"], i["info"].rstrip()) for i in c["init_info"]]:
                line += "; MMEngine's report differs"
        n_diff += "DIFFERS" in line
        print("%-40s %s" % (name, line))
    print("cases: %d of %d differ" % (n_diff, len(mine["cases"])))


def first_diff(a, b):
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return "[%d] %r vs %r" % (i, x, y)
        return "length %d vs %d" % (len(a), len(b))
    return "%r vs %r" % (a, b)


# ---- rng replays -------------------------------------------------------------

def outputs(doc):
    return [(c["name"], o["op_index"], o["name"], o["sha256"], o["numel"])
            for c in doc["cases"] for o in c["outputs"]]


def ref_dir(prof):
    """Where the 1.13 outputs of an op file are: the suites' copies for the
    files they replay, a gen.py run under Debian's torch for the sweep."""
    return os.environ.get("WEIGHTINIT_REF_" + prof.upper())


def cmp_rng(d):
    for f in sorted(os.listdir(os.path.join(d, "rng"))):
        mine = outputs(load(os.path.join(d, "rng", f)))
        refs = {}
        for prof in ("avx2", "default"):
            p = os.path.join(DATA, "rng", "x86_" + prof, f)
            if not os.path.exists(p) and ref_dir(prof):
                p = os.path.join(ref_dir(prof), "rng", f)
            if os.path.exists(p):
                refs[prof] = outputs(load(p))
        if not refs:
            print("%-22s no 1.13 reference" % f)
            continue
        diff = {}
        for p in refs:
            ref = {(r[0], r[1], r[2]): r[3] for r in refs[p]}
            diff[p] = [m for m in mine if ref.get((m[0], m[1], m[2])) != m[3]]
        n = len(mine)
        print("%-22s %4d outputs, %7d elements: differ from avx2 in %d, from default in %d outputs"
              % (f, n, sum(m[4] for m in mine), len(diff.get("avx2", mine)),
                 len(diff.get("default", mine))))
        best = min(refs, key=lambda p: len(diff[p]))
        for m in diff[best][:int(os.environ.get("WI_LIST", "40"))]:
            print("    vs %-7s %s | op %d %s (%d elements)" % (best, m[0], m[1], m[2], m[4]))


def read_raw(stream):
    import numpy as np
    while True:
        line = stream.readline()
        if not line:
            return
        h = json.loads(line)
        b = stream.read(h["nbytes"])
        dt = {"torch.float32": np.float32, "torch.int64": np.int64}[h["dtype"]]
        yield h, np.frombuffer(b, dtype=dt)


def spawn(spec, path):
    """spec = ENV=V,...:PYTHON; the child streams gen.py --raw path."""
    import subprocess
    envs, py = spec.rsplit(":", 1)
    env = dict(os.environ)
    for kv in filter(None, envs.split(",")):
        k, v = kv.split("=", 1)
        env[k] = v
    return subprocess.Popen([py, os.path.join(HERE, "gen.py"), "--raw", path],
                            env=env, stdout=subprocess.PIPE)


def cmp_count(path, spec_a, spec_b):
    """Element counts: every output of op file `path` under two builds
    (e.g. torch 2.x in its venv against Debian's 1.13 = weightinit's
    profile): differing elements, and the largest difference in ulps."""
    import numpy as np
    pa, pb = spawn(spec_a, path), spawn(spec_b, path)
    tot = dif = 0
    for (ha, a), (hb, b) in zip(read_raw(pa.stdout), read_raw(pb.stdout)):
        assert (ha["case"], ha["name"]) == (hb["case"], hb["name"])
        tot += a.size
        if a.dtype == np.float32:
            ia, ib = a.view(np.int32).astype(np.int64), b.view(np.int32).astype(np.int64)
            ka = np.where(ia < 0, -(ia & 0x7fffffff), ia)
            kb = np.where(ib < 0, -(ib & 0x7fffffff), ib)
            u = np.abs(ka - kb)
        else:
            u = (a != b).astype(np.int64)
        n = int((u != 0).sum())
        dif += n
        if n:
            big = np.abs(a.astype(np.float64) - b.astype(np.float64))
            print("%s | op %d %s: %d of %d differ, max %d ulp, max abs %.3g, ulp counts %s" % (
                ha["case"], ha["op_index"], ha["name"], n, a.size, int(u.max()), float(big.max()),
                dict(zip(*[x.tolist() for x in np.unique(np.minimum(u[u != 0], 9), return_counts=True)]))))
    print("total: %d of %d elements differ" % (dif, tot))


# ---- examples, orthogonal_, dtype ------------------------------------------

def cmp_examples(d):
    mine = load(os.path.join(d, "examples.json"))
    for name, lst in mine.items():
        if name == "meta":
            continue
        base = name.split(".")[0]
        ref = load(os.path.join(DATA, "examples", base + ".json"))
        for prof in ("avx2", "default"):
            exp = ref["reduced" if name.endswith(".reduced") else "tensors"].get(prof)
            if exp is None:
                print("%-18s %-7s no reference" % (name, prof))
                continue
            a = [(e["name"], e["sha256"]) for e in lst]
            b = [(e["name"], e["sha256"]) for e in exp]
            nd = sum(1 for x, y in zip(a, b) if x != y)
            print("%-18s vs %-7s %s (%d of %d tensors differ)" % (
                name, prof, "same" if a == b else "DIFFERS", nd, len(a)))


def cmp_orthogonal(d):
    """Against torch 1.13 under the same capability: WEIGHTINIT_REF_<CAP>
    when set, else tests/data/orthogonal (made under avx2)."""
    mine = load(os.path.join(d, "orthogonal.json"))
    cap = "default" if mine["meta"].get("ATEN_CPU_CAPABILITY") == "default" else "avx2"
    p = os.path.join(ref_dir(cap) or "", "orthogonal.json")
    if not ref_dir(cap) or not os.path.exists(p):
        cap, p = "avx2", os.path.join(DATA, "orthogonal", "reference.json")
    ref = load(p)["cases"]
    worst = 0.0
    same = 0
    for m, r in zip(mine["cases"], ref):
        e = max(abs(a - b) for a, b in zip(m["values"], r["values"]))
        worst = max(worst, e)
        same += e == 0
    print("orthogonal_: %d of %d cases bit-identical to torch 1.13 %s, max abs difference %.3g"
          % (same, len(ref), cap, worst))


def cmp_dtype(d):
    mine = load(os.path.join(d, "dtype.json"))
    rows = [line.split() for line in open(os.path.join(DATA, "dtype", "bits.txt"))
            if line.strip() and not line.startswith("#")]
    bad = {"bf16 vs avx2": 0, "bf16 vs default": 0, "f16": 0}
    for mrow, r in zip(mine["bits"], rows):
        f, b, h = mrow.split()
        bad["bf16 vs avx2"] += b != r[1]
        bad["bf16 vs default"] += b != r[2]
        bad["f16"] += h != r[3]
    print("dtype bits.txt (%d patterns): differing %s" % (len(rows), bad))
    for prof in ("avx2", "default"):
        if ref_dir(prof):
            p, q = os.path.join(ref_dir(prof), "dtype_all.json"), os.path.join(d, "dtype_all.json")
            if not (os.path.exists(p) and os.path.exists(q)):
                continue
            ref, got = load(p)["all_patterns"], load(q)["all_patterns"]
            print("dtype all 2^32 patterns vs 1.13 %s: %s" % (
                prof, "same" if ref == got else "DIFFERS in %d of %d groups" % (
                    sum(1 for a, b in zip(ref, got) if a != b), len(ref))))


def main():
    what, d = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    globals()["cmp_" + what](d, *rest)


if __name__ == "__main__":
    main()
