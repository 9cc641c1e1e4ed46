#!/usr/bin/env python3
"""The override file of the torch2.0-* profiles (issue 17 item 3).

  cr_refs.py MODEL_DIR REAL_DIR > REAL_DIR/erfinv_cr.json

MODEL_DIR is gen.py --erfinv-cr's output (torch 2.0.0 with a correctly
rounded erfinv_) and REAL_DIR gen.py's plain output for the same build
and capability (tests/data/torch2/2.0.0/CAP).  Writes, for every output
whose bytes differ between the two, the model's sha256 with the counts
gen.py recorded: erfinv_inputs, erfinv_mkl_misses (inputs where MKL's
erfinv is not correctly rounded) and, for the op replays,
elements_differing (real torch against the model, element by element).
Everything else must be identical between the two runs (checked here),
so the suites compare the torch2.0-* profiles with REAL_DIR and, for the
listed outputs, with the model.  Only needs python3.
"""
import json
import os
import sys

RNG = ["mt19937", "uniform", "normal", "trunc_normal", "init_functions",
       "sequences", "trunc_edges", "sweep"]


def load(d, *p):
    with open(os.path.join(d, *p)) as f:
        return json.load(f)


def rng_part(model, real, totals):
    out = {}
    for f in RNG:
        m, r = load(model, "rng", f + ".json"), load(real, "rng", f + ".json")
        assert len(m["cases"]) == len(r["cases"]), f
        lst = []
        for c, (mc, rc) in enumerate(zip(m["cases"], r["cases"])):
            assert len(mc["outputs"]) == len(rc["outputs"]), (f, c)
            for o, (mo, ro) in enumerate(zip(mc["outputs"], rc["outputs"])):
                assert (mo["op_index"], mo["name"]) == (ro["op_index"], ro["name"])
                totals["erfinv_inputs"] += mo.get("erfinv_inputs", 0)
                totals["erfinv_mkl_misses"] += mo.get("erfinv_mkl_misses", 0)
                if mo["sha256"] == ro["sha256"]:
                    assert mo.get("elements_differing", 0) == 0, (f, c, o)
                    continue
                # Only an erfinv with MKL misses may make them differ.
                assert 0 < mo["elements_differing"] <= mo["erfinv_mkl_misses"], (f, c, o)
                totals["outputs_differing"] += 1
                totals["elements_differing"] += mo["elements_differing"]
                lst.append({"case": c, "output": o, "name": mc["name"],
                            "numel": mo["numel"], "sha256": mo["sha256"],
                            "erfinv_inputs": mo["erfinv_inputs"],
                            "erfinv_mkl_misses": mo["erfinv_mkl_misses"],
                            "elements_differing": mo["elements_differing"]})
        out[f + ".json"] = lst
    return out


def cases_part(model, real, totals):
    m, r = load(model, "cases.json")["cases"], load(real, "cases.json")["cases"]
    assert m.keys() == r.keys()
    out = {}
    for name in m:
        mt, rt = m[name].get("tensors", []), r[name].get("tensors", [])
        assert [t["name"] for t in mt] == [t["name"] for t in rt], name
        assert m[name].get("error") == r[name].get("error"), name
        diff = {t["name"]: {k: t[k] for k in ("sha256", "bf16_sha256", "f16_sha256") if k in t}
                for t, u in zip(mt, rt) if t["sha256"] != u["sha256"]}
        if diff:
            assert m[name]["erfinv_mkl_misses"] > 0, name
            out[name] = {"erfinv_inputs": m[name]["erfinv_inputs"],
                         "erfinv_mkl_misses": m[name]["erfinv_mkl_misses"], "tensors": diff}
            totals["cases_differing"] += 1
    return out


def examples_part(model, real, totals):
    m, r = load(model, "examples.json"), load(real, "examples.json")
    out = {}
    for name, mt in m.items():
        if name == "meta" or name.endswith(".erfinv"):
            continue
        rt = r[name]
        assert [t["name"] for t in mt] == [t["name"] for t in rt], name
        diff = {t["name"]: t["sha256"] for t, u in zip(mt, rt) if t["sha256"] != u["sha256"]}
        if diff:
            assert m[name + ".erfinv"]["erfinv_mkl_misses"] > 0, name
            out[name] = dict(m[name + ".erfinv"], tensors=diff)
            totals["example_tensors_differing"] += len(diff)
    return out


def main():
    model, real = sys.argv[1], sys.argv[2]
    meta = load(model, "meta.json")
    totals = dict.fromkeys(["erfinv_inputs", "erfinv_mkl_misses", "outputs_differing",
                            "elements_differing", "cases_differing",
                            "example_tensors_differing"], 0)
    doc = {"what": "torch %s (%s) with its erfinv_ replaced by the correctly rounded one "
                   "(gen.py --erfinv-cr): the outputs whose bytes differ from the real run "
                   "beside this file, which the torch2.0-* profiles reproduce instead "
                   "(tests/refs/torch2/cr_refs.py)" % (meta["torch"], meta["ATEN_CPU_CAPABILITY"]),
           "rng": rng_part(model, real, totals),
           "cases": cases_part(model, real, totals),
           "examples": examples_part(model, real, totals)}
    doc["totals"] = totals
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
