#!/usr/bin/python3
"""PyTorch references for model format v2 (issue 11 items 1-2): repeat,
clone, definitions/use, params with init values, "order".

Each case is a model file written with the v2 features and the same model
written as plain PyTorch (a loop of constructors, nn.TransformerEncoder's
deepcopy, torch.randn(...) * S at the same point of __init__).  The script
builds the PyTorch model under torch.manual_seed(seed) in both CPU
capabilities (ATEN_CPU_CAPABILITY=default -> manifest.json, the "default"
rng profile; avx2 -> manifest.avx2.json) and writes the golden-case layout
that tests/test_cases.c runs through `weightinit init`:

  tests/data/cases/<name>/{model.json,args.json}
  tests/data/golden/<name>/{manifest.json,manifest.avx2.json,init_info_exact.json}

Re-run from the repository root with Debian's torch:
  /usr/bin/python3 tests/refs/model_v2_refs.py
It rewrites those files; commit them.  No MMEngine is needed: the one case
with an init_cfg uses MMEngine's NormalInit on Linear layers, which is
`module.apply(fn)` with nn.init.normal_(weight, mean, std) and
constant_(bias, 0) on every Linear (and subclass) in post-order, spelled
out below.
"""
import copy
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data")


# ---- the cases: (model file, torch builder) -------------------------------

def lin(i, o, bias=True):
    d = {"type": "Linear", "in_features": i, "out_features": o}
    if not bias:
        d["bias"] = False
    return d


def case_repeat_loop():
    """repeat without clone = nn.ModuleList([Block() for _ in range(3)]);
    definitions with a nested use and a use whose keys replace the
    definition's (type and children)."""
    model = {
        "type": "Net",
        "definitions": {
            "MLP": {"type": "Mlp", "children": {"fc1": lin(8, 16), "fc2": lin(16, 8)}},
            "Block": {"type": "Block", "children": {
                "norm": {"type": "LayerNorm", "normalized_shape": 8},
                "mlp": {"use": "MLP"}}},
        },
        "children": {
            "embed": {"type": "Embedding", "num_embeddings": 10, "embedding_dim": 8},
            "blocks": {"type": "ModuleList", "plain": True, "repeat": 3,
                       "child": {"use": "Block"}},
            "last": {"use": "Block", "type": "LastBlock",
                     "children": {"proj": lin(8, 4, bias=False)}},
            "head": lin(8, 5),
        },
    }

    def build(nn, torch):
        class Mlp(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(8, 16)
                self.fc2 = nn.Linear(16, 8)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = nn.LayerNorm(8)
                self.mlp = Mlp()

        class LastBlock(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(8, 4, bias=False)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(10, 8)
                self.blocks = nn.ModuleList([Block() for _ in range(3)])
                self.last = LastBlock()
                self.head = nn.Linear(8, 5)
        return Net()
    return model, build


def encoder_layer_node():
    return {"type": "TransformerEncoderLayer", "plain": True, "children": {
        "self_attn": {"type": "MultiheadAttention", "embed_dim": 8, "num_heads": 2},
        "linear1": lin(8, 16),
        "linear2": lin(16, 8),
        "norm1": {"type": "LayerNorm", "normalized_shape": 8},
        "norm2": {"type": "LayerNorm", "normalized_shape": 8}}}


def case_clone_transformer():
    """clone = nn.TransformerEncoder(layer, 3, norm): the layer is built once
    and deep-copied (identical values, no draws); a clone of 0 copies still
    builds its layer; the Linear after them draws where torch does."""
    model = {
        "type": "Net",
        "definitions": {"EncoderLayer": encoder_layer_node()},
        "children": {
            "pre": lin(6, 8),
            "encoder": {"type": "TransformerEncoder", "plain": True, "children": {
                "layers": {"type": "ModuleList", "plain": True, "repeat": 3,
                           "clone": True, "child": {"use": "EncoderLayer"}},
                "norm": {"type": "LayerNorm", "normalized_shape": 8}}},
            "none": {"type": "ModuleList", "plain": True, "repeat": 0,
                     "clone": True, "child": lin(8, 8)},
            "post": lin(8, 3),
        },
    }

    def build(nn, torch):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.pre = nn.Linear(6, 8)
                layer = nn.TransformerEncoderLayer(8, 2, 16)
                self.encoder = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8),
                                                     enable_nested_tensor=False)
                self.none = _clones(nn.Linear(8, 8), 0, nn)
                self.post = nn.Linear(8, 3)
        return Net()
    return model, build


def _clones(module, n, nn):
    # torch.nn.modules.transformer._get_clones
    return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])


def case_params_order():
    """timm ViT's __init__: patch_embed, then cls_token / pos_embed drawn as
    torch.rand/randn(...) * S, then blocks; "order" gives that construction
    order while the "params" keys are written in another order, so both
    the draw order and the registration (state_dict) order are tested."""
    model = {
        "type": "VisionTransformer",
        "order": ["patch_embed", "cls_token", "pos_embed", "dist_token",
                  "blocks", "gamma", "scale", "head", "zero"],
        "params": {
            "pos_embed": {"shape": [1, 5, 8], "init": {"randn": {"mul": 0.02}}},
            "zero": [3],
            "gamma": {"shape": [8], "init": {"full": 1e-6}},
            "cls_token": {"shape": [1, 1, 8], "init": {"rand": {"mul": 0.5}}},
            "scale": {"shape": [], "init": "ones"},
            "dist_token": {"shape": [1, 1, 8], "init": {"randn": {}}},
        },
        "children": {
            "head": lin(8, 10),
            "patch_embed": {"type": "Conv2d", "in_channels": 3, "out_channels": 8,
                            "kernel_size": 4, "stride": 4},
            "blocks": {"type": "Sequential", "plain": True, "repeat": 2,
                       "child": {"type": "Block", "params": {
                           "ls": {"shape": [8], "init": {"full": 0.1}},
                           "noise": {"shape": [20], "init": {"rand": {"mul": 3}}}},
                           "children": {"fc": lin(8, 8)}}},
        },
    }

    def build(nn, torch):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.ls = nn.Parameter(torch.full((8,), 0.1))
                self.noise = nn.Parameter(torch.rand(20) * 3)
                self.fc = nn.Linear(8, 8)

        class VisionTransformer(nn.Module):
            def __init__(self):
                super().__init__()
                self.patch_embed = nn.Conv2d(3, 8, 4, stride=4)
                self.cls_token = nn.Parameter(torch.rand(1, 1, 8) * 0.5)
                self.pos_embed = nn.Parameter(torch.randn(1, 5, 8) * .02)
                self.dist_token = nn.Parameter(torch.randn(1, 1, 8))
                self.blocks = nn.Sequential(*[Block() for _ in range(2)])
                self.gamma = nn.Parameter(1e-6 * torch.ones(8))
                self.scale = nn.Parameter(torch.ones(()))
                self.head = nn.Linear(8, 10)
                self.zero = nn.Parameter(torch.zeros(3))
        return VisionTransformer()
    return model, build


def case_params_key_order():
    """Without "order": the node's key order decides, "children" before
    "params" here, so the Linear draws before the randn parameter (which
    still comes first in state_dict, as a module's own parameters do)."""
    model = {
        "type": "Net",
        "children": {
            "fc": lin(4, 4),
            "inner": {"type": "Inner",
                      "params": {"w": {"shape": [17], "init": {"randn": {"mul": 1.5}}}},
                      "children": {"fc": lin(4, 2)}},
        },
        "params": {"v": {"shape": [2, 9], "init": {"randn": {"mul": -0.1}}},
                   "u": {"shape": [7], "init": {"rand": {}}}},
    }

    def build(nn, torch):
        class Inner(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.randn(17) * 1.5)
                self.fc = nn.Linear(4, 2)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.inner = Inner()
                self.v = nn.Parameter(torch.randn(2, 9) * -0.1)
                self.u = nn.Parameter(torch.rand(7))
        return Net()
    return model, build


def case_clone_then_init():
    """Clones are separate tensors: an init_cfg Normal on every Linear after
    construction gives each copy its own draws (MMEngine's NormalInit);
    BatchNorm buffers (float and int64) are copied too."""
    model = {
        "type": "Net",
        "children": {
            "layers": {"type": "ModuleList", "plain": True, "repeat": 3, "clone": True,
                       "child": {"type": "Layer", "plain": True,
                                 "children": {"fc": lin(5, 5),
                                              "bn": {"type": "BatchNorm1d", "num_features": 5},
                                              "out": lin(5, 2)}}},
            "extra": {"type": "ModuleList", "plain": True, "repeat": 2,
                      "child": lin(2, 2)},
        },
    }
    init_cfg = {"type": "Normal", "layer": "Linear", "std": 0.02}

    def build(nn, torch):
        class Layer(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(5, 5)
                self.bn = nn.BatchNorm1d(5)
                self.out = nn.Linear(5, 2)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = _clones(Layer(), 3, nn)
                self.extra = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
        net = Net()

        def normal_init(m):  # MMEngine NormalInit(layer='Linear', std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.02)
                nn.init.constant_(m.bias, 0)
        net.apply(normal_init)
        return net
    return model, build, init_cfg


CASES = {
    "v2_repeat_loop": (case_repeat_loop, 20261202),
    "v2_clone_transformer": (case_clone_transformer, 7),
    "v2_params_order": (case_params_order, 4242),
    "v2_params_key_order": (case_params_key_order, 99),
    "v2_clone_then_init": (case_clone_then_init, 31337),
}


# ---- running ---------------------------------------------------------------

def worker():
    """Prints {case: [tensor entries]} for the CPU capability in the env."""
    import torch
    import torch.nn as nn
    out = {}
    for name, (fn, seed) in CASES.items():
        build = fn()[1]
        torch.manual_seed(seed)
        net = build(nn, torch)
        params = {n for n, _ in net.named_parameters()}
        entries = []
        for key, t in net.state_dict().items():
            t = t.detach().contiguous()
            entries.append({
                "name": key,
                "kind": "param" if key in params else "buffer",
                "dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype],
                "shape": list(t.shape),
                "sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest(),
            })
        out[name] = entries
    out["_torch"] = torch.__version__
    print(json.dumps(out))


def run_worker(capability):
    env = dict(os.environ, ATEN_CPU_CAPABILITY=capability)
    res = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker"],
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


def write_json(path, value, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=indent)
        f.write("\n")


def write_manifest(path, entries, torch_version, capability, seed):
    meta = {"oracle_format": "1", "torch": torch_version,
            "generator": "tests/refs/model_v2_refs.py",
            "cpu_capability": capability, "seed": str(seed)}
    with open(path, "w") as f:
        f.write('{\n"meta": %s,\n"tensors": [\n' % json.dumps(meta))
        f.write(",\n".join(json.dumps(e) for e in entries))
        f.write("\n]\n}\n")


def main():
    runs = {"NO AVX": run_worker("default"), "AVX2": run_worker("avx2")}
    for name, (fn, seed) in CASES.items():
        made = fn()
        model = made[0]
        args = {"description": (fn.__doc__ or "").strip().replace("\n    ", " "),
                "seed": seed, "generated_by": "tests/refs/model_v2_refs.py"}
        if len(made) > 2:
            args["init_cfg"] = made[2]
        write_json(os.path.join(DATA, "cases", name, "model.json"), model)
        write_json(os.path.join(DATA, "cases", name, "args.json"), args)
        gold = os.path.join(DATA, "golden", name)
        os.makedirs(gold, exist_ok=True)
        for cap, fname in (("NO AVX", "manifest.json"), ("AVX2", "manifest.avx2.json")):
            write_manifest(os.path.join(gold, fname), runs[cap][name],
                           runs[cap]["_torch"], cap, seed)
        # Names and shapes only (the report's info strings are MMEngine's).
        with open(os.path.join(gold, "init_info_exact.json"), "w") as f:
            f.write("[]\n")
        same = runs["NO AVX"][name] == runs["AVX2"][name]
        print("%-24s %2d tensors%s" % (name, len(runs["AVX2"][name]),
                                      "" if not same else " (profiles agree)"))


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        worker()
    else:
        main()
