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


def main():
    what, d = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    globals()["cmp_" + what](d, *rest)


if __name__ == "__main__":
    main()
