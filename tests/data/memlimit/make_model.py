#!/usr/bin/python3
"""The memory-limit test's model and its reference (tests/memlimit_test.sh).

Writes model.json (our format) and reference.json: the sha256 of the
float32 bytes of every tensor of the same model built and initialised by
PyTorch (Debian's python3-torch 1.13), concatenated in state_dict order,
which is exactly what the data section of our safetensors file holds.

The model: GPT-2 XL's embeddings and its first 12 blocks (nn.Linear
layout), 1.8 GB of float32; init_cfg Normal(std=0.02, bias=0) on Linear
and Embedding, as MMEngine's NormalInit applies it (module.apply: children
first, in registration order).  Re-run: /usr/bin/python3 make_model.py
(about a minute and 4 GB of memory)."""
import hashlib
import json

import torch
from torch import nn

LAYERS, D, VOCAB, CTX = 12, 1600, 50257, 1024


def lin(i, o):
    return {"type": "Linear", "in_features": i, "out_features": o}


def ln():
    return {"type": "LayerNorm", "normalized_shape": D}


def block():
    return {"type": "Block", "children": {
        "ln_1": ln(),
        "attn": {"type": "Attention", "children": {"c_attn": lin(D, 3 * D), "c_proj": lin(D, D)}},
        "ln_2": ln(),
        "mlp": {"type": "MLP", "children": {"c_fc": lin(D, 4 * D), "c_proj": lin(4 * D, D)}}}}


model = {"type": "GPT2", "children": {
    "wte": {"type": "Embedding", "num_embeddings": VOCAB, "embedding_dim": D},
    "wpe": {"type": "Embedding", "num_embeddings": CTX, "embedding_dim": D},
    "h": {"type": "ModuleList", "plain": True,
          "children": {str(i): block() for i in range(LAYERS)}},
    "ln_f": ln()},
    "init_cfg": [{"type": "Normal", "layer": ["Linear", "Embedding"], "std": 0.02, "bias": 0}]}


class Node(nn.Module):
    pass


def build(node):
    if node["type"] == "Linear":
        return nn.Linear(node["in_features"], node["out_features"])
    if node["type"] == "LayerNorm":
        return nn.LayerNorm(node["normalized_shape"])
    if node["type"] == "Embedding":
        return nn.Embedding(node["num_embeddings"], node["embedding_dim"])
    m = Node()
    for name, child in node["children"].items():
        setattr(m, name, build(child))
    return m


def normal_init(m):
    if type(m).__name__ in ("Linear", "Embedding"):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if getattr(m, "bias", None) is not None:
            nn.init.constant_(m.bias, 0)


torch.manual_seed(0)
net = build(model)
net.apply(normal_init)
h = hashlib.sha256()
total = 0
for name, t in net.state_dict().items():
    b = t.contiguous().numpy().tobytes()
    h.update(b)
    total += len(b)
with open("model.json", "w") as f:
    json.dump(model, f, indent=1)
    f.write("\n")
with open("reference.json", "w") as f:
    json.dump({"data_bytes": total, "data_sha256": h.hexdigest(),
               "torch": torch.__version__, "seed": 0}, f, indent=1)
    f.write("\n")
print(total, h.hexdigest())
