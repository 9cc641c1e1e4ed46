#!/usr/bin/python3
"""Writes x86_avx2/large.json and x86_default/large.json: nn.init primitives
on tensors large enough that weightinit splits them over up to 8 threads
(3*2^20+5 elements: ragged for normal_'s blocks of 16; 2^24+3 for the
uniform kernels, which need more elements per thread), made by torch 1.13.
Same layout as the other golden files (README.md).  Run from this folder:
    /usr/bin/python3 make_large.py                               # x86_avx2
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 make_large.py   # x86_default
"""
import hashlib, json, math, os, struct, sys
import torch

torch.set_num_threads(1)
N = 3 * 2**20 + 5
OPS = [
    {"op": "manual_seed", "seed": 0},
    {"op": "uniform_", "shape": [N], "from": -0.1, "to": 0.1},
    {"op": "normal_", "shape": [N], "mean": 0.5, "std": 2.0},
    {"op": "trunc_normal_", "shape": [N], "mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0},
    {"op": "kaiming_uniform_", "shape": [2**22 + 1, 4], "a": math.sqrt(5), "mode": "fan_in",
     "nonlinearity": "leaky_relu"},
    {"op": "uniform_", "shape": [2**24 + 3], "from": -1.0, "to": 1.0},
    {"op": "normal_", "shape": [2**21], "mean": 0.0, "std": 0.02},
    {"op": "uniform_", "shape": [1000], "from": 0.0, "to": 1.0},
    {"op": "manual_seed", "seed": 12345},
    {"op": "trunc_normal_", "shape": [2**20 + 3], "mean": 0.1, "std": 0.5, "a": -1.0, "b": 1.5},
    {"op": "normal_", "shape": [2**20 + 7], "mean": 0.0, "std": 1.0},
    {"op": "uniform_", "shape": [1000], "from": 0.0, "to": 1.0},
]


def run(op):
    t = torch.empty(op["shape"], dtype=torch.float32)
    name = op["op"]
    if name == "uniform_":
        t.uniform_(op["from"], op["to"])
    elif name == "normal_":
        t.normal_(op["mean"], op["std"])
    elif name == "trunc_normal_":
        torch.nn.init.trunc_normal_(t, op["mean"], op["std"], op["a"], op["b"])
    elif name == "kaiming_uniform_":
        torch.nn.init.kaiming_uniform_(t, a=op["a"], mode=op["mode"],
                                       nonlinearity=op["nonlinearity"])
    return t


def describe(i, op, t):
    flat = t.reshape(-1)
    raw = flat.numpy().astype("<f4").tobytes()
    bits = lambda vals: ["%08x" % struct.unpack("<I", struct.pack("<f", v))[0] for v in vals]
    first, last = flat[:64].tolist(), flat[-16:].tolist()
    return {"op_index": i, "name": "out", "shape": list(t.shape), "dtype": "float32",
            "numel": flat.numel(), "first": first, "first_bits": bits(first),
            "last": last, "last_bits": bits(last),
            "sha256": hashlib.sha256(raw).hexdigest()}


def main():
    cap = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None
    profile = "x86_default" if os.environ.get("ATEN_CPU_CAPABILITY") == "default" else "x86_avx2"
    outputs = []
    for i, op in enumerate(OPS):
        if op["op"] == "manual_seed":
            torch.manual_seed(op["seed"])
        else:
            outputs.append(describe(i, op, run(op)))
    doc = {"meta": {"producer": "torch %s, make_large.py" % torch.__version__,
                    "profile": profile, "cpu_capability": cap,
                    "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY")},
           "cases": [{"name": "large tensors split over threads", "ops": OPS, "outputs": outputs}]}
    with open(os.path.join(profile, "large.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(profile, len(outputs), "outputs")


if __name__ == "__main__":
    sys.exit(main())
