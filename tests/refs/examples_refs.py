#!/usr/bin/python3
"""PyTorch references for the model files in examples/ (issue 11 item 8).

Each example is rebuilt here by hand in plain torch 1.13 (no transformers,
timm or torchvision needed), with the construction order and the init
calls of the library it imitates, under torch.manual_seed(0):

  gpt2-small  Hugging Face GPT2LMHeadModel (nn.Linear instead of HF's
              Conv1D): the example's init_cfg, i.e. MMEngine's NormalInit
              (std 0.02, bias 0) on every Linear and Embedding in post-order,
              ConstantInit(1, bias 0) on LayerNorm, then normal_(std
              0.02/sqrt(2*n_layer)) on each h.*.{attn,mlp}.c_proj.weight in
              state_dict order; then lm_head.weight = wte.weight.
  vit-b16     timm VisionTransformer (default weight_init ''):
              trunc_normal_(pos_embed, .02), normal_(cls_token, 1e-6), then
              init_weights_vit_timm in post-order (trunc_normal_ .02 on
              Linear weights, zeros on their biases).
  resnet50    torchvision resnet50(): kaiming_normal_(fan_out, relu) on every
              Conv2d and weight 1 / bias 0 on BatchNorm2d, in modules() order;
              fc keeps nn.Linear's default init.
  gpt2-xl     as gpt2-small, 48 layers, width 1600.
  llama-7b    Hugging Face LlamaForCausalLM shape: normal_(0.02) on Linear and
              Embedding, RMSNorm weights 1, lm_head not tied.

For gpt2-small, vit-b16 and resnet50 the full per-tensor sha256 of the
float32 (int64 for num_batches_tracked) bytes, as the safetensors file
holds them: a tied tensor under the one name safetensors' save_model keeps
(sorted(names)[0]), at that name's place.  gpt2-xl and llama-7b are too
large for a test: their state_dict names and shapes and element counts
(checked here against Hugging Face's published parameter counts), plus the
full sha256 list of a depth-reduced variant (the example file with its
layer repeat set to `reduced.repeat`, the same edit the test makes).

Both RNG profiles: ATEN_CPU_CAPABILITY=default ("default") and avx2.
Re-run from the repository root (a few minutes, ~6 GB of memory):
  /usr/bin/python3 tests/refs/examples_refs.py
It rewrites tests/data/examples/*.json; commit them.
"""
import hashlib
import json
import math
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "examples")
SEED = 0


# ---- the models ------------------------------------------------------------

def gpt2(nn, n_layer, n_embd, c_proj_std, vocab=50257, ctx=1024):
    class GPT2Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)

    class GPT2MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd)
            self.c_proj = nn.Linear(4 * n_embd, n_embd)

    class GPT2Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd)
            self.attn = GPT2Attention()
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = GPT2MLP()

    class GPT2Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, n_embd)
            self.wpe = nn.Embedding(ctx, n_embd)
            self.h = nn.ModuleList([GPT2Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)

    class GPT2LMHeadModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = GPT2Model()
            self.lm_head = nn.Linear(n_embd, vocab, bias=False)

    m = GPT2LMHeadModel()

    def normal(mod):  # MMEngine NormalInit(std=0.02, layer=[Linear, Embedding])
        if isinstance(mod, (nn.Linear, nn.Embedding)):
            nn.init.normal_(mod.weight, 0, 0.02)
            if getattr(mod, "bias", None) is not None:
                nn.init.constant_(mod.bias, 0)
    m.apply(normal)

    def const(mod):  # ConstantInit(val=1, bias=0, layer=LayerNorm)
        if isinstance(mod, nn.LayerNorm):
            nn.init.constant_(mod.weight, 1)
            nn.init.constant_(mod.bias, 0)
    m.apply(const)
    pat = re.compile(r"transformer\.h\.[^.]*\.(attn|mlp)\.c_proj\.weight\Z")
    for name, p in m.named_parameters():  # the `names` entry
        if pat.match(name):
            nn.init.normal_(p, 0, c_proj_std)
    m.lm_head.weight = m.transformer.wte.weight  # tie_weights
    return m


def llama(nn, torch, n_layer, hidden=4096, inter=11008, vocab=32000):
    class LlamaRMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(hidden))

    class LlamaAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj = nn.Linear(hidden, hidden, bias=False)
            self.k_proj = nn.Linear(hidden, hidden, bias=False)
            self.v_proj = nn.Linear(hidden, hidden, bias=False)
            self.o_proj = nn.Linear(hidden, hidden, bias=False)

    class LlamaMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate_proj = nn.Linear(hidden, inter, bias=False)
            self.up_proj = nn.Linear(hidden, inter, bias=False)
            self.down_proj = nn.Linear(inter, hidden, bias=False)

    class LlamaDecoderLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.self_attn = LlamaAttention()
            self.mlp = LlamaMLP()
            self.input_layernorm = LlamaRMSNorm()
            self.post_attention_layernorm = LlamaRMSNorm()

    class LlamaModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Embedding(vocab, hidden)
            self.layers = nn.ModuleList([LlamaDecoderLayer() for _ in range(n_layer)])
            self.norm = LlamaRMSNorm()

    class LlamaForCausalLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = LlamaModel()
            self.lm_head = nn.Linear(hidden, vocab, bias=False)

    m = LlamaForCausalLM()

    def init(mod):  # HF LlamaPreTrainedModel._init_weights, initializer_range 0.02
        if isinstance(mod, (nn.Linear, nn.Embedding)):
            nn.init.normal_(mod.weight, 0, 0.02)
        elif isinstance(mod, LlamaRMSNorm):
            nn.init.constant_(mod.weight, 1)
    m.apply(init)
    return m


def resnet50(nn):
    def conv1x1(i, o, stride=1):
        return nn.Conv2d(i, o, kernel_size=1, stride=stride, bias=False)

    def conv3x3(i, o, stride=1):
        return nn.Conv2d(i, o, kernel_size=3, stride=stride, padding=1, bias=False)

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv1x1(inplanes, planes)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = conv3x3(planes, planes, stride)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = conv1x1(planes, planes * 4)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample
            self.stride = stride

    class ResNet(nn.Module):
        def __init__(self, layers=(3, 4, 6, 3), num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(64, layers[0])
            self.layer2 = self._make_layer(128, layers[1], stride=2)
            self.layer3 = self._make_layer(256, layers[2], stride=2)
            self.layer4 = self._make_layer(512, layers[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * 4, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

        def _make_layer(self, planes, blocks, stride=1):
            # torchvision builds the downsample before the first block
            downsample = None
            if stride != 1 or self.inplanes != planes * 4:
                downsample = nn.Sequential(conv1x1(self.inplanes, planes * 4, stride),
                                           nn.BatchNorm2d(planes * 4))
            layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * 4
            for _ in range(1, blocks):
                layers.append(Bottleneck(self.inplanes, planes))
            return nn.Sequential(*layers)

    return ResNet()


def vit_b16(nn, torch):
    dim = 768

    class PatchEmbed(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Conv2d(3, dim, kernel_size=16, stride=16)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(dim, dim * 3, bias=True)
            self.proj = nn.Linear(dim, dim)

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(dim, 4 * dim)
            self.fc2 = nn.Linear(4 * dim, dim)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(dim, eps=1e-6)
            self.attn = Attention()
            self.norm2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = Mlp()

    def init_weights_vit_timm(module):
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def named_apply(fn, module, include_root=False):  # timm: depth first
        for child in module.children():
            named_apply(fn, child, True)
        if include_root:
            fn(module)

    class VisionTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = PatchEmbed()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.randn(1, 197, dim) * .02)
            self.blocks = nn.Sequential(*[Block() for _ in range(12)])
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.head = nn.Linear(dim, 1000)
            # timm's init_weights(mode='')
            nn.init.trunc_normal_(self.pos_embed, std=.02)
            nn.init.normal_(self.cls_token, std=1e-6)
            named_apply(init_weights_vit_timm, self)

    return VisionTransformer()


# name -> (builder, full sha list?, reduced repeat path, reduced repeat)
def builders(nn, torch):
    xl_std = 0.02 / math.sqrt(2 * 48)
    return {
        "gpt2-small": lambda: gpt2(nn, 12, 768, 0.02 / math.sqrt(2 * 12)),
        "vit-b16": lambda: vit_b16(nn, torch),
        "resnet50": lambda: resnet50(nn),
        "gpt2-xl": lambda: gpt2(nn, 48, 1600, xl_std),
        "gpt2-xl.reduced": lambda: gpt2(nn, REDUCED["gpt2-xl"][1], 1600, xl_std),
        "llama-7b": lambda: llama(nn, torch, 32),
        "llama-7b.reduced": lambda: llama(nn, torch, REDUCED["llama-7b"][1]),
    }


# example -> (JSON path of its layer repeat, the reduced repeat)
REDUCED = {
    "gpt2-xl": (["children", "transformer", "children", "h", "repeat"], 2),
    "llama-7b": (["children", "model", "children", "layers", "repeat"], 1),
}
# Hugging Face's published parameter counts (model.num_parameters())
HF_COUNTS = {"gpt2-xl": 1557611200, "llama-7b": 6738415616}


def safetensors_view(net, torch):
    """What a safetensors file of net's state_dict holds, in order: one name
    per storage, the one save_model keeps (sorted(names)[0])."""
    sd = net.state_dict()
    groups = {}
    for k, t in sd.items():
        groups.setdefault(t.data_ptr(), []).append(k)
    keep = {min(g) for g in groups.values()}
    out = []
    for k, t in sd.items():
        if k not in keep:
            continue
        t = t.detach().contiguous()
        out.append({"name": k,
                    "dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype],
                    "shape": list(t.shape),
                    "sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest()})
    return out


def worker(names):
    """Prints {name: [tensor entries]} for the CPU capability in the env."""
    import torch
    import torch.nn as nn
    torch.set_num_threads(1)
    b = builders(nn, torch)
    out = {"_torch": torch.__version__}
    for name in names:
        torch.manual_seed(SEED)
        net = b[name]()
        out[name] = safetensors_view(net, torch)
        del net
    print(json.dumps(out))


def shapes(name):
    """state_dict names and shapes on the meta device (no values)."""
    import torch
    import torch.nn as nn
    # tensors on the meta device (shapes, no storage), init calls as no-ops
    saved = {f: getattr(nn.init, f) for f in (
        "normal_", "uniform_", "trunc_normal_", "kaiming_uniform_",
        "kaiming_normal_", "constant_", "zeros_", "ones_")}
    factories = {f: getattr(torch, f) for f in ("empty", "ones", "zeros", "randn")}
    for f in saved:
        setattr(nn.init, f, lambda t, *a, **k: t)
    for f, fn in factories.items():
        setattr(torch, f, lambda *a, _fn=fn, **k: _fn(*a, **dict(k, device="meta")))
    try:
        net = builders(nn, torch)[name]()
    finally:
        for f, v in saved.items():
            setattr(nn.init, f, v)
        for f, v in factories.items():
            setattr(torch, f, v)
    sd = net.state_dict()
    entries = [{"name": k, "shape": list(t.shape)} for k, t in sd.items()]
    total = sum(t.numel() for t in sd.values())
    unique = sum(p.numel() for p in net.parameters())  # tied counted once
    return entries, total, unique


def run_worker(capability, names):
    env = dict(os.environ, ATEN_CPU_CAPABILITY=capability)
    res = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker"] + names,
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


def write(name, value):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        f.write("{\n")
        items = list(value.items())
        for i, (k, v) in enumerate(items):
            sep = "," if i + 1 < len(items) else ""
            if isinstance(v, dict) and all(isinstance(x, list) for x in v.values()):
                f.write("%s: {\n" % json.dumps(k))
                for j, (p, lst) in enumerate(v.items()):
                    f.write(" %s: [\n  %s\n ]%s\n" % (json.dumps(p), ",\n  ".join(
                        json.dumps(e) for e in lst), "," if j + 1 < len(v) else ""))
                f.write("}%s\n" % sep)
            elif isinstance(v, list):
                f.write("%s: [\n %s\n]%s\n" % (json.dumps(k), ",\n ".join(
                    json.dumps(e) for e in v), sep))
            else:
                f.write("%s: %s%s\n" % (json.dumps(k), json.dumps(v), sep))
        f.write("}\n")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
        return
    only = sys.argv[1:] or ["gpt2-small", "vit-b16", "resnet50", "gpt2-xl", "llama-7b"]
    for name in only:
        meta = {"example": "examples/%s.json" % name, "seed": SEED,
                "generator": "tests/refs/examples_refs.py"}
        runs = [name + ".reduced"] if name in REDUCED else [name]
        profiles = {}
        for cap, prof in (("avx2", "avx2"), ("default", "default")):
            got = run_worker(cap, runs)
            meta["torch"] = got["_torch"]
            profiles[prof] = got[runs[0]]
        if name in REDUCED:
            entries, total, unique = shapes(name)
            assert unique == HF_COUNTS[name], (name, unique)
            path, n = REDUCED[name]
            value = dict(meta, elements=total, unique_elements=unique,
                         reduced_path=path, reduced_repeat=n,
                         reduced=profiles, state_dict=entries)
        else:
            value = dict(meta, tensors=profiles)
        write(name, value)
        print("wrote", name, file=sys.stderr)


if __name__ == "__main__":
    main()
