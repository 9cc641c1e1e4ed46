#!/usr/bin/python3
"""Golden cases for init_cfg `names` entries (issue 11 item 3): each model
is written twice, as a weightinit model file and as the same torch modules
constructed in the same order, and the torch side runs the hand-written
init_weights that the init_cfg stands for (the MMEngine `layer` entries as
module.apply, each `names` entry as the same nn.init call on every
matching parameter in named_parameters() order).

Writes, in tests/data:
  cases/<name>/{model.json,args.json}        the inputs test_cases runs
  golden/<name>/manifest.json                ATEN_CPU_CAPABILITY=default
  golden/<name>/manifest.avx2.json           ATEN_CPU_CAPABILITY=avx2
  golden/<name>/init_info_exact.json         what wrote each parameter

Run from anywhere with Debian's python3-torch (1.13):
    /usr/bin/python3 tests/data/names/make_golden.py
It re-runs itself once per CPU capability (torch reads it at import).
"""
import hashlib
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
SEED = 2024


def normal_info(mean, std, bias=0):
    return f"NormalInit: mean={mean}, std={std}, bias={bias}"


# ---- GPT-2: Linear/Embedding normal(0.02), c_proj scaled by name ----------

N_LAYER = 3
PROJ_STD = 0.02 / math.sqrt(2 * N_LAYER)  # HF GPT2PreTrainedModel._init_weights


def gpt2_json():
    def lin(i, o):
        return {"type": "Linear", "in_features": i, "out_features": o}

    def ln():
        return {"type": "LayerNorm", "normalized_shape": 8}

    block = {"type": "GPT2Block", "children": {
        "ln_1": ln(),
        "attn": {"type": "GPT2Attention", "children": {"c_attn": lin(8, 24), "c_proj": lin(8, 8)}},
        "ln_2": ln(),
        "mlp": {"type": "GPT2MLP", "children": {"c_fc": lin(8, 32), "c_proj": lin(32, 8)}}}}
    return {
        "type": "GPT2Model",
        "init_cfg": [
            {"type": "Normal", "std": 0.02, "layer": ["Linear", "Embedding"]},
            {"type": "Normal", "std": PROJ_STD,
             "names": ["h.*.attn.c_proj.weight", "h.*.mlp.c_proj.weight"]},
        ],
        "children": {
            "wte": {"type": "Embedding", "num_embeddings": 50, "embedding_dim": 8},
            "wpe": {"type": "Embedding", "num_embeddings": 16, "embedding_dim": 8},
            "h": {"type": "ModuleList", "children": {str(i): block for i in range(N_LAYER)}},
            "ln_f": ln(),
        }}


def gpt2_torch(torch):
    nn = torch.nn

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(8, 24)
            self.c_proj = nn.Linear(8, 8)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(8, 32)
            self.c_proj = nn.Linear(32, 8)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(8)
            self.attn = Attn()
            self.ln_2 = nn.LayerNorm(8)
            self.mlp = MLP()

    class GPT2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(50, 8)
            self.wpe = nn.Embedding(16, 8)
            self.h = nn.ModuleList([Block() for _ in range(N_LAYER)])
            self.ln_f = nn.LayerNorm(8)

        def init_weights(self):
            info = {}

            def init(m):  # MMEngine NormalInit(std=0.02, layer=[Linear, Embedding])
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(m.weight, 0, 0.02)
                    info[id(m.weight)] = normal_info(0, 0.02)
                    if getattr(m, "bias", None) is not None:
                        nn.init.constant_(m.bias, 0)
                        info[id(m.bias)] = normal_info(0, 0.02)
            self.apply(init)
            for name, p in self.named_parameters():  # the names entry
                if name.endswith(("attn.c_proj.weight", "mlp.c_proj.weight")):
                    nn.init.normal_(p, 0, PROJ_STD)
                    info[id(p)] = normal_info(0, PROJ_STD)
            return info

    return GPT2()


# ---- ViT: pos_embed/cls_token trunc_normal_(std=.02) ----------------------

def vit_json():
    return {
        "type": "VisionTransformer",
        "init_cfg": [
            {"type": "TruncNormal", "std": 0.02, "names": ["pos_embed", "cls_token"]},
            {"type": "TruncNormal", "std": 0.02, "layer": "Linear"},
        ],
        "params": {"cls_token": [1, 1, 8], "pos_embed": [1, 5, 8]},
        "children": {
            "patch_embed": {"type": "PatchEmbed", "children": {
                "proj": {"type": "Conv2d", "in_channels": 3, "out_channels": 8,
                         "kernel_size": 4, "stride": 4}}},
            "blocks": {"type": "Sequential", "children": {
                "0": {"type": "Block", "children": {
                    "norm1": {"type": "LayerNorm", "normalized_shape": 8},
                    "fc1": {"type": "Linear", "in_features": 8, "out_features": 16},
                    "fc2": {"type": "Linear", "in_features": 16, "out_features": 8}}}}},
            "head": {"type": "Linear", "in_features": 8, "out_features": 3},
        }}


def trunc_info(std):
    return f"TruncNormalInit: a=-2, b=2, mean=0, std={std}, bias=0"


def vit_torch(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(8)
            self.fc1 = nn.Linear(8, 16)
            self.fc2 = nn.Linear(16, 8)

    class PatchEmbed(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Conv2d(3, 8, 4, stride=4)

    # TruncNormalInit runs MMEngine's own copy of the inverse-CDF method;
    # torch's nn.init.trunc_normal_ is the same algorithm only up to torch
    # 2.11 (2.12 made it a rejection sampler, docs/torch-versions.md).
    try:
        from mmengine.model.weight_init import trunc_normal_ as mmengine_trunc_normal_
    except ImportError:
        if tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 12):
            raise
        mmengine_trunc_normal_ = nn.init.trunc_normal_

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
            self.pos_embed = nn.Parameter(torch.zeros(1, 5, 8))
            self.patch_embed = PatchEmbed()
            self.blocks = nn.Sequential(Block())
            self.head = nn.Linear(8, 3)

        def init_weights(self):  # timm's, with MMEngine's TruncNormalInit for Linear
            info = {}
            nn.init.trunc_normal_(self.cls_token, std=.02)  # the names entry, in
            nn.init.trunc_normal_(self.pos_embed, std=.02)  # state_dict order
            info[id(self.cls_token)] = info[id(self.pos_embed)] = trunc_info(0.02)

            def init(m):
                if isinstance(m, nn.Linear):
                    mmengine_trunc_normal_(m.weight, 0, 0.02, -2, 2)
                    nn.init.constant_(m.bias, 0)
                    info[id(m.weight)] = info[id(m.bias)] = trunc_info(0.02)
            self.apply(init)
            return info

    return ViT()


# ---- every tensor function, `**`, one entry after another ----------------

def funcs_json():
    return {
        "type": "Net",
        "init_cfg": [
            {"type": "Constant", "val": 0.5, "names": ["**.bias"]},
            {"type": "Uniform", "a": -0.25, "b": 0.75, "names": ["a.fc.bias"]},
            {"type": "Xavier", "gain": 2, "names": ["a.fc.weight"]},
            {"type": "Xavier", "distribution": "uniform", "names": ["b.*.weight"]},
            {"type": "Kaiming", "names": ["conv.weight"]},
            {"type": "Kaiming", "a": 0.1, "mode": "fan_in", "nonlinearity": "leaky_relu",
             "distribution": "uniform", "names": ["b.conv.weight"]},
            {"type": "Caffe2Xavier", "names": ["a.**.weight"]},
            {"type": "Normal", "mean": 1, "std": 3, "names": ["scale"]},
        ],
        "params": {"scale": [4]},
        "children": {
            "conv": {"type": "Conv2d", "in_channels": 2, "out_channels": 3, "kernel_size": 3},
            "a": {"type": "A", "children": {
                "fc": {"type": "Linear", "in_features": 5, "out_features": 4},
                "deep": {"type": "D", "children": {
                    "fc": {"type": "Linear", "in_features": 3, "out_features": 2}}}}},
            "b": {"type": "B", "children": {
                "lin": {"type": "Linear", "in_features": 6, "out_features": 7},
                "conv": {"type": "Conv1d", "in_channels": 2, "out_channels": 4, "kernel_size": 3}}},
        }}


def funcs_torch(torch):
    nn = torch.nn
    init = nn.init

    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

    class A(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(5, 4)
            self.deep = D()

    class B(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(6, 7)
            self.conv = nn.Conv1d(2, 4, 3)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.zeros(4))
            self.conv = nn.Conv2d(2, 3, 3)
            self.a = A()
            self.b = B()

        def init_weights(self):
            info = {}
            p = dict(self.named_parameters())

            def each(names, fn, text):
                for n in names:  # named_parameters() order
                    fn(p[n])
                    info[id(p[n])] = text
            order = list(p)
            each([n for n in order if n.endswith(".bias")],
                 lambda t: init.constant_(t, 0.5), "ConstantInit: val=0.5, bias=0")
            each(["a.fc.bias"], lambda t: init.uniform_(t, -0.25, 0.75),
                 "UniformInit: a=-0.25, b=0.75, bias=0")
            each(["a.fc.weight"], lambda t: init.xavier_normal_(t, 2),
                 "XavierInit: gain=2, distribution=normal, bias=0")
            each(["b.lin.weight", "b.conv.weight"], lambda t: init.xavier_uniform_(t, 1),
                 "XavierInit: gain=1, distribution=uniform, bias=0")
            each(["conv.weight"],
                 lambda t: init.kaiming_normal_(t, 0, "fan_out", "relu"),
                 "KaimingInit: a=0, mode=fan_out, nonlinearity=relu, "
                 "distribution =normal, bias=0")
            each(["b.conv.weight"],
                 lambda t: init.kaiming_uniform_(t, 0.1, "fan_in", "leaky_relu"),
                 "KaimingInit: a=0.1, mode=fan_in, nonlinearity=leaky_relu, "
                 "distribution =uniform, bias=0")
            each([n for n in order if n.startswith("a.") and n.endswith(".weight")],
                 lambda t: init.kaiming_uniform_(t, 1, "fan_in", "leaky_relu"),
                 "Caffe2XavierInit: a=1, mode=fan_in, nonlinearity=leaky_relu, "
                 "distribution =uniform, bias=0")
            each(["scale"], lambda t: init.normal_(t, 1, 3), normal_info(1, 3))
            return info

    return Net()


CASES = {
    "names_gpt2_c_proj": (gpt2_json, gpt2_torch,
                          "HF GPT-2's scaled c_proj init: Normal(0.02) on Linear and "
                          "Embedding, then normal_(std=0.02/sqrt(2*n_layer)) on every "
                          "h.*.attn.c_proj.weight and h.*.mlp.c_proj.weight by name"),
    "names_vit_pos_embed": (vit_json, vit_torch,
                            "timm ViT: trunc_normal_(std=.02) on the raw parameters "
                            "pos_embed and cls_token picked by name, then TruncNormal "
                            "on Linear"),
    "names_tensor_functions": (funcs_json, funcs_torch,
                               "each initializer's tensor function through names "
                               "(constant_, uniform_, xavier_normal_/uniform_, "
                               "kaiming_normal_/uniform_, Caffe2Xavier, normal_), "
                               "'**' and '*' patterns, later entries overwriting "
                               "earlier ones"),
}


def run_torch(capability):
    """Child process: the state dicts and infos for one CPU capability."""
    import torch
    out = {}
    for name, (_, make, _) in CASES.items():
        torch.manual_seed(SEED)
        model = make(torch)
        info = model.init_weights()
        tensors, infos = [], []
        params = {id(p) for p in model.parameters()}
        for key, t in model.state_dict(keep_vars=True).items():
            data = t.detach().contiguous().numpy().astype("<f4").tobytes()
            tensors.append({"name": key, "kind": "param" if id(t) in params else "buffer",
                            "dtype": "F32", "shape": list(t.shape),
                            "sha256": hashlib.sha256(data).hexdigest()})
        for key, p in model.named_parameters():
            infos.append({"name": key, "shape": list(p.shape),
                          "info": info.get(id(p), "not written by init_weights")})
        out[name] = {"meta": {"torch": torch.__version__, "cpu_capability": capability,
                              "seed": str(SEED),
                              "made_by": "tests/data/names/make_golden.py"},
                     "tensors": tensors, "info": infos}
    json.dump(out, sys.stdout)


def dump(path, value, indent=1):
    with open(path, "w") as f:
        json.dump(value, f, indent=indent)
        f.write("\n")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        return run_torch(sys.argv[2])
    results = {}
    for cap, suffix in (("default", ""), ("avx2", ".avx2")):
        env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
        text = subprocess.run([sys.executable, __file__, "--child", cap], env=env,
                              check=True, capture_output=True, text=True).stdout
        results[suffix] = json.loads(text)
    for name, (make_json, _, why) in CASES.items():
        cdir = os.path.join(DATA, "cases", name)
        gdir = os.path.join(DATA, "golden", name)
        os.makedirs(cdir, exist_ok=True)
        os.makedirs(gdir, exist_ok=True)
        dump(os.path.join(cdir, "model.json"), make_json())
        dump(os.path.join(cdir, "args.json"), {"description": why, "seed": SEED,
                                               "made_by": "tests/data/names/make_golden.py"})
        for suffix, res in results.items():
            r = res[name]
            dump(os.path.join(gdir, f"manifest{suffix}.json"),
                 {"meta": r["meta"], "tensors": r["tensors"]})
        dump(os.path.join(gdir, "init_info_exact.json"), results[""][name]["info"])
        assert results[""][name]["info"] == results[".avx2"][name]["info"]


if __name__ == "__main__":
    main()
