#!/usr/bin/python3
"""The PyTorch side of bench_large.sh: builds the models of gen_models.py
with torch.nn modules in float32 (the same class names, registration order
and shapes), initialises them exactly as MMEngine's NormalInit/ConstantInit
would for the same init_cfg, and saves the state dict.  Run with Debian's
python3-torch 1.13 (/usr/bin/python3); MMEngine itself is not needed: its
BaseInit.__call__ is module.apply(fn) (children before their parent) with
fn matching the class name and base-class names against `layer`, and
normal_init/constant_init write `weight` then set `bias` when present.

  torch_large.py gpt2  [--layers ...] -o OUT [--format pth|safetensors] [--seed 0]
  torch_large.py llama [--layers ...] -o OUT [--max-shard-size BYTES] ...
  torch_large.py check OURS TORCH   bit-for-bit comparison of two state
                                    dicts (.safetensors, .pth or an HF
                                    index.json with its shards)

The size options are gen_models.py's.  --format pth is torch.save (what
Debian's torch can write: the safetensors package is not installed);
safetensors is a minimal standard-library writer of that format (header,
then each tensor's bytes written from the tensor's memory), so that both
sides can be compared on the same format.  --max-shard-size splits the
state dict as huggingface_hub's split_torch_state_dict_into_shards does (a
tensor larger than the limit gets a shard of its own at once, otherwise a
new shard starts when the next tensor would overflow the current one) into
NAME-0000i-of-0000N.EXT plus NAME.EXT.index.json.
"""
import argparse
import json
import os
import struct
import sys

import torch
from torch import nn


class Plain(nn.Module):
    """A container with the given children, like the plain model nodes."""

    def __init__(self, **children):
        super().__init__()
        for name, m in children.items():
            self.add_module(name, m)


def plain_class(name):
    return type(name, (Plain,), {})


GPT2Model, GPT2Block, GPT2Attention, GPT2MLP, ModuleList = map(
    plain_class, ["GPT2Model", "GPT2Block", "GPT2Attention", "GPT2MLP",
                  "ModuleList"])
LlamaForCausalLM, LlamaModel, LlamaDecoderLayer, LlamaAttention, LlamaMLP = \
    map(plain_class, ["LlamaForCausalLM", "LlamaModel", "LlamaDecoderLayer",
                      "LlamaAttention", "LlamaMLP"])


class RMSNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n))


def build_gpt2(a):
    w = a.width
    # Children are constructed in registration order, as HF's __init__ does,
    # so the default initialisation draws come in the same order.
    def block():
        ln_1 = nn.LayerNorm(w)
        attn = GPT2Attention(c_attn=nn.Linear(w, 3 * w), c_proj=nn.Linear(w, w))
        ln_2 = nn.LayerNorm(w)
        mlp = GPT2MLP(c_fc=nn.Linear(w, 4 * w), c_proj=nn.Linear(4 * w, w))
        return GPT2Block(ln_1=ln_1, attn=attn, ln_2=ln_2, mlp=mlp)
    wte = nn.Embedding(a.vocab, w)
    wpe = nn.Embedding(a.context, w)
    h = ModuleList(**{str(i): block() for i in range(a.layers)})
    return GPT2Model(wte=wte, wpe=wpe, h=h, ln_f=nn.LayerNorm(w))


def build_llama(a):
    h, m = a.hidden, a.mlp
    lin = lambda i, o: nn.Linear(i, o, bias=False)

    def layer():
        attn = LlamaAttention(**{n: lin(h, h) for n in
                                 ("q_proj", "k_proj", "v_proj", "o_proj")})
        mlp = LlamaMLP(gate_proj=lin(h, m), up_proj=lin(h, m),
                       down_proj=lin(m, h))
        return LlamaDecoderLayer(self_attn=attn, mlp=mlp,
                                 input_layernorm=RMSNorm(h),
                                 post_attention_layernorm=RMSNorm(h))
    emb = nn.Embedding(a.vocab, h)
    layers = ModuleList(**{str(i): layer() for i in range(a.layers)})
    model = LlamaModel(embed_tokens=emb, layers=layers, norm=RMSNorm(h))
    return LlamaForCausalLM(model=model, lm_head=lin(h, a.vocab))


def bases_of(m):
    return [b.__name__ for b in type(m).__mro__[1:]]


def mmengine_init(root, layers, write):
    """BaseInit.__call__ without wholemodule: module.apply(init)."""
    def init(m):
        if set(layers) & set([type(m).__name__] + bases_of(m)):
            write(m)
    root.apply(init)


def normal_init(mean, std, bias):
    def write(m):
        if getattr(m, "weight", None) is not None:
            nn.init.normal_(m.weight, mean, std)
        if getattr(m, "bias", None) is not None:
            nn.init.constant_(m.bias, bias)
    return write


def constant_init(val, bias):
    def write(m):
        if getattr(m, "weight", None) is not None:
            nn.init.constant_(m.weight, val)
        if getattr(m, "bias", None) is not None:
            nn.init.constant_(m.bias, bias)
    return write


def save_safetensors(sd, path):
    """safetensors' layout: u64 header length, JSON header, raw data."""
    header, off = {}, 0
    for name, t in sd.items():
        n = t.numel() * t.element_size()
        header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}
                        [t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + n]}
        off += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for t in sd.values():
            f.write(memoryview(t.contiguous().numpy()).cast("B"))


def save(sd, path, fmt):
    if fmt == "pth":
        torch.save(sd, path)
    else:
        save_safetensors(sd, path)


def save_sharded(sd, path, fmt, max_bytes):
    shards, cur, cur_size = [], {}, 0
    for name, t in sd.items():
        n = t.numel() * t.element_size()
        if n > max_bytes:
            shards.append({name: t})
            continue
        if cur and cur_size + n > max_bytes:
            shards.append(cur)
            cur, cur_size = {}, 0
        cur[name] = t
        cur_size += n
    if cur:
        shards.append(cur)
    if len(shards) == 1:
        save(sd, path, fmt)
        return
    folder, base = os.path.split(path)
    stem, ext = os.path.splitext(base)
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        fname = "%s-%05d-of-%05d%s" % (stem, i + 1, len(shards), ext)
        save(shard, os.path.join(folder, fname), fmt)
        for name, t in shard.items():
            weight_map[name] = fname
            total += t.numel() * t.element_size()
    with open(path + ".index.json", "w") as f:
        json.dump({"metadata": {"total_size": total},
                   "weight_map": dict(sorted(weight_map.items()))},
                  f, indent=2)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        header.pop("__metadata__", None)
        for name, info in header.items():
            a, b = info["data_offsets"]
            f.seek(base + a)
            yield name, info, f.read(b - a)


def files_of(path):
    """One file, or the shards an HF index names, in order."""
    if not path.endswith(".index.json"):
        return [path]
    with open(path) as f:
        weight_map = json.load(f)["weight_map"]
    folder = os.path.dirname(path)
    return [os.path.join(folder, n) for n in sorted(set(weight_map.values()))]


def read_any(path):
    for f in files_of(path):
        if f.endswith((".pth", ".pt", ".bin")):
            for name, t in torch.load(f).items():
                yield name, {"shape": list(t.shape)}, t
        else:
            yield from read_safetensors(f)


def check(ours, ref):
    """Same names in the same order, same dtypes, shapes and bytes; either
    side may be an HF index.json with its shards."""
    sd = {name: data for name, _, data in read_any(ref)}
    names, bad = [], 0
    for name, info, data in read_any(ours):
        names.append(name)
        t = sd.get(name)
        ref_bytes = t if isinstance(t, bytes) else \
            (None if t is None else t.contiguous().numpy().tobytes())
        if ref_bytes != data:
            print("differs: %s %s" % (name, info["shape"]))
            bad += 1
    if names != list(sd.keys()):
        print("names or order differ: %s vs %s" % (names, list(sd.keys())))
        bad += 1
    print("%s: %d tensors, %s" % (ours, len(names),
                                   "identical" if bad == 0 else "%d differ" % bad))
    return 1 if bad else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        return check(sys.argv[2], sys.argv[3])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="model", required=True)
    g = sub.add_parser("gpt2")
    g.add_argument("--layers", type=int, default=48)
    g.add_argument("--width", type=int, default=1600)
    g.add_argument("--vocab", type=int, default=50257)
    g.add_argument("--context", type=int, default=1024)
    l = sub.add_parser("llama")
    l.add_argument("--layers", type=int, default=32)
    l.add_argument("--hidden", type=int, default=4096)
    l.add_argument("--mlp", type=int, default=11008)
    l.add_argument("--vocab", type=int, default=32000)
    for s in (g, l):
        s.add_argument("-o", "--output", required=True)
        s.add_argument("--format", choices=["pth", "safetensors"],
                       default="pth")
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--max-shard-size", type=int, default=0,
                       help="bytes; 0 = one file")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    if a.model == "gpt2":
        root = build_gpt2(a)
        mmengine_init(root, ["Linear", "Embedding"], normal_init(0, 0.02, 0))
    else:
        root = build_llama(a)
        mmengine_init(root, ["Linear", "Embedding"], normal_init(0, 0.02, 0))
        mmengine_init(root, ["RMSNorm"], constant_init(1, 0))
    sd = root.state_dict()
    if a.max_shard_size:
        save_sharded(sd, a.output, a.format, a.max_shard_size)
    else:
        save(sd, a.output, a.format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
