#!/usr/bin/env python3
"""References from one torch build under one CPU capability (issue 17 item 1).

Run by regen.sh inside a venv with torch and mmengine, with
ATEN_CPU_CAPABILITY set; also runs under Debian's torch 1.13
(/usr/bin/python3, MMEngine's source on PYTHONPATH) to check the builders
against the committed 1.13 golden data.  Writes into --out:

  meta.json        torch version and build, the capability torch really
                   used, MKL, mmengine, python, pip freeze
  rng/*.json       every op file of tests/data/rng/x86_avx2 replayed (same
                   ops, same layout: first/last bits and sha256 of each
                   output), plus sweep.json: every nn.init primitive at
                   sizes around the 16-element blocks and weightinit's
                   thread split points, non-contiguous normal_, eye_,
                   dirac_, constant_, sparse_, orthogonal_ (sha256)
  cases.json       every golden case of tests/data/cases (v1 through
                   MMEngine itself, v2 and names through their generators'
                   torch builders): per tensor sha256 of the float32 bytes
                   and of .to(bfloat16) / .to(float16); MMEngine's own
                   init report, its log, or the exception
  examples.json    per-tensor sha256 of the examples (tests/refs/examples_refs.py)
  orthogonal.json  tests/data/orthogonal/reference.json's cases, values
  dtype.json       .to(bfloat16/float16) of tests/data/dtype/bits.txt's
                   patterns
  dtype_all.json   (only with --only ...,dtype_all) a sha256 per 2^28 of
                   all 2^32 patterns through .to(bfloat16/float16)

  gen.py --out DIR [--only rng,sweep,cases,examples,orthogonal,dtype]
         [--erfinv-cr]
  gen.py --raw OPFILE   (for compare.py count) every output's raw bytes

--erfinv-cr (issue 17 item 3, the torch2.0-* profiles' model): every
Tensor.erfinv_ (what torch.nn.init.trunc_normal_ up to 2.11 and MMEngine's
trunc_normal_ call) gives the correctly rounded float erfinv
(erfinv_scan.reference: scipy + mpmath) instead of MKL's.  Each output
then also records erfinv_inputs and erfinv_mkl_misses (elements of the
erfinv calls since the previous output where MKL differs from the
correctly rounded value) and, for the op replays, elements_differing: the
op run again from the same generator state without the replacement (real
torch), compared element by element.  cr_refs.py turns two such outputs
into the override file the C suites read.
"""
import argparse
import copy
import hashlib
import io
import json
import logging
import math
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DATA = os.path.join(ROOT, "tests", "data")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

torch.set_num_threads(int(os.environ.get("WI_TORCH_THREADS", "1")))


# ---- output helpers ---------------------------------------------------------

def sha(t):
    return hashlib.sha256(t.detach().contiguous().cpu().numpy().tobytes()).hexdigest()


def bits_of(t):
    t = t.detach().contiguous().reshape(-1)
    if t.dtype == torch.int64:
        return ["%016x" % (v & (2**64 - 1)) for v in t.tolist()]
    return ["%08x" % (v & 0xffffffff) for v in t.view(torch.int32).tolist()] \
        if t.dtype == torch.float32 else None


# --erfinv-cr: counts since the last output (None when not replaced).
CR_LOG = None


def take_cr_counts(out):
    global CR_LOG
    if CR_LOG is not None:
        out["erfinv_inputs"], out["erfinv_mkl_misses"] = CR_LOG["inputs"], CR_LOG["misses"]
        CR_LOG = {"inputs": 0, "misses": 0}
    return out


def install_cr_erfinv():
    """Tensor.erfinv_ -> the correctly rounded float erfinv (see --erfinv-cr)."""
    global CR_LOG
    import numpy as np
    sys.path.insert(0, HERE)
    from erfinv_scan import reference
    mkl = torch.Tensor.erfinv

    def erfinv_cr_(self):
        with torch.no_grad():
            x = self.detach().contiguous().reshape(-1).numpy().copy()
            ref, _ = reference(x)
            got = mkl(self.detach()).contiguous().reshape(-1).numpy()
            CR_LOG["inputs"] += int(x.size)
            CR_LOG["misses"] += int((got.view(np.uint32) != ref.view(np.uint32)).sum())
            self.copy_(torch.from_numpy(ref).reshape(self.shape))
        return self
    CR_LOG = {"inputs": 0, "misses": 0}
    torch.Tensor.erfinv_ = erfinv_cr_
    return erfinv_cr_


def describe(i, name, t, full=True):
    """One output in the layout of tests/data/rng (README there), less the
    decimal copies of first/last (the bit patterns say the same)."""
    flat = t.detach().contiguous().reshape(-1)
    out = {"op_index": i, "name": name, "shape": list(t.shape),
           "dtype": str(t.dtype).replace("torch.", ""), "numel": flat.numel()}
    if full:
        out.update({"first_bits": bits_of(flat[:64]),
                    "last_bits": bits_of(flat[-16:] if flat.numel() else flat[:0])})
    out["sha256"] = sha(flat)
    return take_cr_counts(out)


def real_torch_diff(op, state, model):
    """--erfinv-cr: the op once more from generator state `state` with
    torch's own erfinv; elements whose bits differ from `model`, and
    whether the generator ends where the model's run ended."""
    after = torch.get_rng_state()
    patched = torch.Tensor.erfinv_
    torch.Tensor.erfinv_ = ORIG_ERFINV_
    try:
        torch.set_rng_state(state)
        real = run_op(op)
    finally:
        torch.Tensor.erfinv_ = patched
    same_state = bool(torch.equal(torch.get_rng_state(), after))
    torch.set_rng_state(after)
    a = real.detach().contiguous().reshape(-1).view(torch.int32)
    b = model.detach().contiguous().reshape(-1).view(torch.int32)
    return int((a != b).sum()), same_state


ORIG_ERFINV_ = torch.Tensor.erfinv_


def dump(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


# ---- op replay (the layout of tests/data/rng) -------------------------------

def run_layer(op):
    kw = {k: v for k, v in op.items() if k != "op"}
    if "kernel_size" in kw and isinstance(kw["kernel_size"], list):
        kw["kernel_size"] = tuple(kw["kernel_size"])
    return getattr(nn, op["op"][3:])(**kw)


def run_op(op):
    """Returns a tensor, a module, or None (manual_seed)."""
    name = op["op"]
    init = torch.nn.init
    if name == "manual_seed":
        torch.manual_seed(op["seed"] if isinstance(op["seed"], int) else int(op["seed"]))
        return None
    if name == "random_int64":
        return torch.empty(op["n"], dtype=torch.int64).random_()
    if name.startswith("nn."):
        return run_layer(op)
    t = torch.empty(op["shape"], dtype=torch.float32)
    if op.get("layout") == "transposed":  # a non-contiguous view
        t = torch.empty(list(reversed(op["shape"])), dtype=torch.float32).t()
    if name == "uniform_":
        t.uniform_(op["from"], op["to"])
    elif name == "normal_":
        t.normal_(op["mean"], op["std"])
    elif name == "trunc_normal_":
        init.trunc_normal_(t, op["mean"], op["std"], op["a"], op["b"])
    elif name in ("xavier_uniform_", "xavier_normal_"):
        getattr(init, name)(t, gain=op["gain"])
    elif name in ("kaiming_uniform_", "kaiming_normal_"):
        getattr(init, name)(t, a=op["a"], mode=op["mode"], nonlinearity=op["nonlinearity"])
    elif name == "constant_":
        init.constant_(t, op["val"])
    elif name in ("ones_", "zeros_", "eye_"):
        getattr(init, name)(t)
    elif name == "dirac_":
        init.dirac_(t, op.get("groups", 1))
    elif name == "orthogonal_":
        init.orthogonal_(t, op["gain"])
    elif name == "sparse_":
        init.sparse_(t, op["sparsity"], op["std"])
    else:
        raise ValueError("unknown op " + name)
    return t


def replay_case(case, full=True):
    outputs = []
    for i, op in enumerate(case["ops"]):
        state = torch.get_rng_state()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = run_op(op)
        if r is None:
            continue
        if isinstance(r, nn.Module):
            for n, t in r.state_dict().items():
                outputs.append(describe(i, n, t, full))
        else:
            outputs.append(describe(i, "out", r, full))
            if outputs[-1].get("erfinv_inputs"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    diff, same = real_torch_diff(op, state, r)
                outputs[-1]["elements_differing"] = diff
                assert same, "the generator must end where torch's does"
    if case.get("outputs"):  # the order of the file replayed
        order = {(o["op_index"], o["name"]): k for k, o in enumerate(case["outputs"])}
        outputs.sort(key=lambda o: order.get((o["op_index"], o["name"]), len(order)))
    return {"name": case["name"], "ops": case["ops"], "outputs": outputs}


RNG_FILES = ["mt19937", "uniform", "normal", "trunc_normal", "init_functions",
             "sequences", "trunc_edges", "large", "layers"]


def gen_rng(out, meta):
    for f in RNG_FILES:
        src = json.load(open(os.path.join(DATA, "rng", "x86_avx2", f + ".json")))
        cases = [replay_case(c) for c in src["cases"]]
        dump(os.path.join(out, "rng", f + ".json"), {"meta": meta, "cases": cases})


# Sizes around normal_'s 16-element blocks, and around weightinit's thread
# split points (core/rng/fill.c: a thread gets >= 2^16 elements for
# trunc_normal_ and the scalar normal_, 2^19 for the AVX2 normal_, 2^21
# for uniform_; chunk starts are multiples of 2^16 plus 2048).
SMALL = [1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47, 48, 49, 63, 64, 65,
         255, 256, 257, 1000, 1023, 1024, 1025]
SPLIT = {"trunc_normal_": [2**17 - 1, 2**17, 2**17 + 2049, 3 * 2**16 + 5],
         "normal_": [2**17 + 7, 2**20 - 1, 2**20 + 2048 + 9, 3 * 2**19 + 5],
         "uniform_": [2**22 - 1, 2**22 + 2049, 3 * 2**21 + 1]}


def sweep_cases():
    cases = []

    def add(name, seed, *ops):
        cases.append({"name": name, "ops": [{"op": "manual_seed", "seed": seed}] + list(ops)})

    prims = [
        ("uniform_", {"from": -0.1, "to": 0.1}), ("uniform_", {"from": 0.0, "to": 1.0}),
        ("uniform_", {"from": -3.0, "to": 7.5}),
        ("normal_", {"mean": 0.0, "std": 1.0}), ("normal_", {"mean": 0.5, "std": 0.02}),
        ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": -2.0, "b": 2.0}),
        ("trunc_normal_", {"mean": 0.0, "std": 0.02, "a": -2.0, "b": 2.0}),
        ("trunc_normal_", {"mean": 0.1, "std": 0.5, "a": -0.3, "b": 1.5}),
    ]
    for op, args in prims:
        for n in SMALL:
            add("%s %s n=%d" % (op, json.dumps(args), n), n, dict(op=op, shape=[n], **args))
    for op, sizes in SPLIT.items():
        args = dict(next(a for o, a in prims if o == op))
        for n in sizes:
            add("%s split n=%d" % (op, n), 7, dict(op=op, shape=[n], **args),
                {"op": "uniform_", "shape": [64], "from": 0.0, "to": 1.0})
    shapes = [[16, 1], [3, 5], [8, 16], [64, 3, 3, 3], [5, 7, 2], [33, 17], [512, 257]]
    for shape in shapes:
        for name, args in [("kaiming_uniform_", {"a": math.sqrt(5), "mode": "fan_in", "nonlinearity": "leaky_relu"}),
                           ("kaiming_uniform_", {"a": 0, "mode": "fan_out", "nonlinearity": "relu"}),
                           ("kaiming_normal_", {"a": 0, "mode": "fan_out", "nonlinearity": "relu"}),
                           ("kaiming_normal_", {"a": 0.2, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
                           ("xavier_uniform_", {"gain": 1.0}), ("xavier_normal_", {"gain": 5.0 / 3}),
                           ("orthogonal_", {"gain": 1.0}), ("sparse_", {"sparsity": 0.3, "std": 0.01})]:
            if name == "sparse_" and len(shape) != 2:
                continue
            add("%s %s %s" % (name, json.dumps(args), shape), 3, dict(op=name, shape=shape, **args),
                {"op": "normal_", "shape": [3], "mean": 0.0, "std": 1.0})
    for shape in [[3, 4], [5, 5], [4, 2]]:
        add("eye_ %s" % shape, 0, {"op": "eye_", "shape": shape})
    for shape, g in [([4, 2, 3], 1), ([6, 3, 3, 3], 2), ([4, 4, 1, 3, 3], 1)]:
        add("dirac_ %s groups=%d" % (shape, g), 0, {"op": "dirac_", "shape": shape, "groups": g})
    add("constant_/ones_/zeros_", 0, {"op": "constant_", "shape": [5, 3], "val": 0.3},
        {"op": "ones_", "shape": [7]}, {"op": "zeros_", "shape": [2, 2]})
    # normal_ on a non-contiguous (transposed) view: the per-element double
    # Box-Muller for every element (log1p since 2.0), a million values.
    for n, (mean, std) in [(17, (0.0, 1.0)), (2**20, (0.0, 1.0)), (2**20, (0.5, 0.02))]:
        add("normal_ transposed %d %s" % (n, (mean, std)), 11,
            {"op": "normal_", "shape": [2, n // 2] if n % 2 == 0 else [1, n], "layout": "transposed",
             "mean": mean, "std": std})
    return cases


def gen_sweep(out, meta):
    cases = [replay_case(c) for c in sweep_cases()]
    dump(os.path.join(out, "rng", "sweep.json"), {"meta": meta, "cases": cases})


# ---- golden cases through MMEngine ------------------------------------------

BUILTIN = {"Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm",
           "LayerNorm", "Embedding", "MultiheadAttention"}


class CaseBuilder:
    """model.json (v1) -> the torch/MMEngine module tree it describes
    (docs/model-format.md): built-in layers are torch's classes, custom
    types are classes of that name deriving from BaseModule (or nn.Module
    when plain) with the given direct base-class names, which is what
    MMEngine's `layer` matching looks at (_get_bases_name)."""

    def __init__(self):
        from mmengine.model import BaseModule
        self.BaseModule = BaseModule
        self.classes = {}

    def placeholder(self, name, parent):
        """A class named `name`: only names matter to MMEngine's matching."""
        key = (name, parent)
        if key not in self.classes:
            self.classes[key] = type(name, (parent,), {})
        return self.classes[key]

    def custom_class(self, node):
        plain = bool(node.get("plain"))
        bases = node.get("bases") or (["Module"] if plain else ["BaseModule"])
        real = {"BaseModule": self.BaseModule, "Module": nn.Module}
        root = nn.Module if plain else self.BaseModule
        has_root = any(b in real for b in bases)
        base_classes = []
        for b in bases:
            if b in real:
                base_classes.append(real[b])
            elif not has_root:  # the first named base carries the module class
                base_classes.append(self.placeholder(b, root))
                has_root = True
            else:
                base_classes.append(self.placeholder(b, object))
        builder = self

        def __init__(self, node):
            if isinstance(self, builder.BaseModule):
                builder.BaseModule.__init__(self, init_cfg=copy.deepcopy(node.get("init_cfg")))
            else:
                nn.Module.__init__(self)
            builder.fill(self, node)

        return type(node["type"], tuple(base_classes), {"__init__": __init__})

    def fill(self, mod, node):
        keys = [k for k in node if k in ("children", "params")]
        for k in keys:
            if k == "params":
                for pname, shape in node["params"].items():
                    mod.register_parameter(pname, nn.Parameter(torch.zeros(shape)))
            else:
                for cname, child in node["children"].items():
                    mod.add_module(cname, self.build(child))

    def build(self, node):
        t = node["type"]
        if t in BUILTIN:
            kw = {k: v for k, v in node.items() if k != "type"}
            for k in ("kernel_size", "stride", "padding", "dilation", "output_padding"):
                if isinstance(kw.get(k), list):
                    kw[k] = tuple(kw[k])
            if t == "LayerNorm" and isinstance(kw.get("normalized_shape"), list):
                kw["normalized_shape"] = tuple(kw["normalized_shape"])
            return getattr(nn, t)(**kw)
        if t == "ToyConv":
            return ToyConv()
        if t == "ToyHead":
            return make_toyhead(self, node)
        # The class sees its own node (children, params, init_cfg).
        return self.custom_class(node)(node)


class ToyConv(nn.Module):
    """MMEngine tutorial's ToyConv (tests/plugins/toyconv.c, the test fixture)."""

    def __init__(self):
        super().__init__()
        self.custom_weight = nn.Parameter(torch.zeros(1, 1, 1, 1))
        self.custom_bias = nn.Parameter(torch.zeros(1))

    def init_weights(self):
        with torch.no_grad():
            self.custom_weight.fill_(1)
            self.custom_bias.fill_(0)


def make_toyhead(builder, node):
    from mmengine.model import BaseModule, normal_init, bias_init_with_prob

    class ToyHead(BaseModule):
        def __init__(self):
            super().__init__(init_cfg=copy.deepcopy(node.get("init_cfg")))
            builder.fill(self, node)

        def init_weights(self):
            super().init_weights()
            normal_init(self.cls, mean=0, std=0.01, bias=bias_init_with_prob(0.01))
    return ToyHead()


class LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append("%s - %s" % (record.levelname, record.getMessage()))


def tensor_entries(model):
    params = {id(p) for p in model.parameters()}
    out = []
    for key, t in model.state_dict(keep_vars=True).items():
        kind = "param" if id(t) in params else "buffer"
        t = t.detach()
        e = {"name": key, "kind": kind,
             "dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype],
             "shape": list(t.shape), "sha256": sha(t)}
        if t.dtype == torch.float32:
            e["bf16_sha256"] = sha(t.to(torch.bfloat16).view(torch.int16))
            e["f16_sha256"] = sha(t.to(torch.float16).view(torch.int16))
        out.append(e)
    return out


def run_mmengine_case(name):
    """One tests/data/cases/NAME through MMEngine, as shared/conformance did."""
    import mmengine.model as mm
    from mmengine.logging import MMLogger
    cdir = os.path.join(DATA, "cases", name)
    model_json = json.load(open(os.path.join(cdir, "model.json")))
    args = json.load(open(os.path.join(cdir, "args.json")))
    logger = MMLogger.get_instance("wi-%s" % name, log_level="DEBUG")
    cap = LogCapture()
    logger.addHandler(cap)
    for h in list(logger.handlers):
        if isinstance(h, logging.StreamHandler) and h is not cap:
            logger.removeHandler(h)
    infos = []
    orig_dump = mm.BaseModule._dump_init_info

    def dump_info(self, *a, **k):
        for n, p in self.named_parameters():
            infos.append({"name": n, "shape": list(p.shape),
                          "info": self._params_init_info[p]["init_info"]})
        return orig_dump(self, *a, **k)

    mm.BaseModule._dump_init_info = dump_info
    cwd = os.getcwd()
    tmp = tempfile.mkdtemp()
    result = {}
    try:
        for f in os.listdir(os.path.join(DATA, "golden", name)):
            if f.endswith(".pth") or (f.endswith(".safetensors") and not f.startswith("state")):
                shutil.copy(os.path.join(DATA, "golden", name, f), tmp)
        os.chdir(tmp)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.manual_seed(args.get("seed", 0))
            stage = "build"
            try:
                model = CaseBuilder().build(model_json)
                stage = "init"
                for path in args.get("set_is_init", []):
                    model.get_submodule(path).is_init = True
                if "init_cfg" in args:
                    if isinstance(model, mm.BaseModule):
                        model.init_cfg = copy.deepcopy(args["init_cfg"])
                    else:
                        mm.initialize(model, copy.deepcopy(args["init_cfg"]))
                if isinstance(model, mm.BaseModule):
                    model.init_weights()
                    if args.get("init_twice"):
                        model.init_weights()
                for call in args.get("functional", []):
                    fn = getattr(mm, call["fn"])
                    target = model.get_submodule(call["module"]) if call["module"] else model
                    fn(target, **call.get("kwargs", {}))
                result["tensors"] = tensor_entries(model)
            except Exception as e:  # the error cases
                result["error"] = {"stage": stage, "class": type(e).__name__,
                                   "message": str(e.args[0]) if e.args else str(e), "str": str(e)}
        result["init_info"] = infos
        result["log"] = cap.lines + ["warnings - %s: %s" % (w.category.__name__, w.message)
                                     for w in caught]
    finally:
        os.chdir(cwd)
        shutil.rmtree(tmp)
        mm.BaseModule._dump_init_info = orig_dump
        logger.removeHandler(cap)
    return result


def import_path(path, name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def gen_cases(out, meta):
    result = {"meta": meta, "cases": {}}
    v2 = import_path(os.path.join(ROOT, "tests", "refs", "model_v2_refs.py"), "model_v2_refs")
    names = import_path(os.path.join(DATA, "names", "make_golden.py"), "make_golden")
    for name in sorted(os.listdir(os.path.join(DATA, "cases"))):
        if name in v2.CASES:
            fn, seed = v2.CASES[name]
            torch.manual_seed(seed)
            model = fn()[1](nn, torch)
            result["cases"][name] = {"tensors": tensor_entries(model), "made_by": "model_v2_refs.py"}
        elif name in names.CASES:
            torch.manual_seed(names.SEED)
            model = names.CASES[name][1](torch)
            model.init_weights()
            result["cases"][name] = {"tensors": tensor_entries(model), "made_by": "names/make_golden.py"}
        else:
            result["cases"][name] = run_mmengine_case(name)
        take_cr_counts(result["cases"][name])
    dump(os.path.join(out, "cases.json"), result)


# ---- examples, orthogonal_, dtype -------------------------------------------

def gen_examples(out, meta):
    ex = import_path(os.path.join(ROOT, "tests", "refs", "examples_refs.py"), "examples_refs")
    b = ex.builders(nn, torch)
    res = {"meta": meta}
    for name in ["gpt2-small", "vit-b16", "resnet50", "gpt2-xl.reduced", "llama-7b.reduced"]:
        torch.manual_seed(ex.SEED)
        net = b[name]()
        res[name] = ex.safetensors_view(net, torch)
        if CR_LOG is not None:
            res[name + ".erfinv"] = take_cr_counts({})
        del net
    dump(os.path.join(out, "examples.json"), res)


def gen_orthogonal(out, meta):
    ref = json.load(open(os.path.join(DATA, "orthogonal", "reference.json")))
    cases = []
    for c in ref["cases"]:
        torch.manual_seed(c["seed"])
        w = torch.empty(c["shape"])
        torch.nn.init.orthogonal_(w, c["gain"])
        cases.append({k: c[k] for k in ("seed", "shape", "gain")} |
                     {"values": w.flatten().tolist(), "sha256": sha(w)})
    dump(os.path.join(out, "orthogonal.json"), {"meta": meta, "cases": cases})


def gen_dtype(out, meta):
    import numpy as np
    rows = [line.split() for line in open(os.path.join(DATA, "dtype", "bits.txt"))
            if line.strip() and not line.startswith("#")]
    f32 = torch.tensor(np.array([int(r[0], 16) for r in rows], dtype=np.uint32).view(np.int32)).view(torch.float32)
    bf = f32.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    hf = f32.to(torch.float16).view(torch.int16).numpy().view(np.uint16)
    table = ["%s %04x %04x" % (r[0], b, h) for r, b, h in zip(rows, bf, hf)]
    dump(os.path.join(out, "dtype.json"), {"meta": meta, "bits": table})


def gen_dtype_all(out, meta):
    """All 2^32 float32 patterns through .to(bfloat16/float16): a sha256
    per 2^28 patterns (a few minutes; not in the default --only)."""
    chunks = []
    step, group = 1 << 26, 1 << 28
    for start in range(0, 1 << 32, step):
        if start % group == 0:
            hb, hh = hashlib.sha256(), hashlib.sha256()
        u = torch.arange(start, start + step, dtype=torch.int64)
        f = (u - ((u >= (1 << 31)).to(torch.int64) << 32)).to(torch.int32).view(torch.float32)
        hb.update(f.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
        hh.update(f.to(torch.float16).view(torch.int16).numpy().tobytes())
        if (start + step) % group == 0:
            chunks.append({"start": "%08x" % (start + step - group),
                           "bf16_sha256": hb.hexdigest(), "f16_sha256": hh.hexdigest()})
        del u, f
    dump(os.path.join(out, "dtype_all.json"), {"meta": meta, "all_patterns": chunks})


# ---- meta -------------------------------------------------------------------

def cpu_capability():
    """The kernel set torch dispatches to (2.1+ has a getter; 1.13/2.0
    print it in __config__.show())."""
    try:
        import importlib
        return importlib.import_module("torch.backends.cpu").get_cpu_capability()
    except (ImportError, AttributeError):
        for line in torch.__config__.show().splitlines():
            if "CPU capability usage:" in line:
                return line.split(":", 1)[1].strip()
    return None


def make_meta():
    cap = cpu_capability()
    cfg = torch.__config__.show()
    try:
        import mmengine
        mmv, mmf = mmengine.__version__, os.path.dirname(mmengine.__file__)
    except ImportError:
        mmv = mmf = None
    try:
        freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True,
                                text=True, timeout=120).stdout.split()
    except Exception:  # Debian's python3 has no pip
        freeze = None
    return {"torch": torch.__version__, "torch_git": torch.version.git_version,
            "cpu_capability": cap, "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY"),
            "MKL_ENABLE_INSTRUCTIONS": os.environ.get("MKL_ENABLE_INSTRUCTIONS"),
            "mkl": torch.backends.mkl.is_available(), "threads": torch.get_num_threads(),
            "config": cfg.splitlines(), "mmengine": mmv, "mmengine_path": mmf,
            "python": sys.version.split()[0], "libc": "-".join(platform.libc_ver()),
            "machine": platform.machine(), "pip_freeze": freeze,
            "generator": "tests/refs/torch2/gen.py"}


def stream_raw(path):
    """--raw: every output of every case of an op file (a gen.py rng file)
    as a JSON header line and its bytes, for compare.py count."""
    w = sys.stdout.buffer
    for case in json.load(open(path))["cases"]:
        for i, op in enumerate(case["ops"]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = run_op(op)
            if r is None:
                continue
            items = r.state_dict().items() if isinstance(r, nn.Module) else [("out", r)]
            for n, t in items:
                b = t.detach().contiguous().numpy().tobytes()
                w.write((json.dumps({"case": case["name"], "op_index": i, "name": n,
                                     "dtype": str(t.dtype), "nbytes": len(b)}) + "\n").encode())
                w.write(b)
    w.flush()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--raw":
        return stream_raw(sys.argv[2])
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="rng,sweep,cases,examples,orthogonal,dtype")
    ap.add_argument("--erfinv-cr", action="store_true")
    a = ap.parse_args()
    if a.erfinv_cr:
        install_cr_erfinv()
    meta = make_meta()
    meta["erfinv"] = "correctly rounded (gen.py --erfinv-cr)" if a.erfinv_cr else "torch's"
    os.makedirs(a.out, exist_ok=True)
    dump(os.path.join(a.out, "meta.json"), meta)
    short = {k: meta[k] for k in ("torch", "cpu_capability", "ATEN_CPU_CAPABILITY", "mmengine")}
    for part in a.only.split(","):
        globals()["gen_" + part](a.out, short)
        print("gen.py: %s done" % part, file=sys.stderr)


if __name__ == "__main__":
    main()
