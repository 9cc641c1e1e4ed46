#!/usr/bin/env python3
"""References for tests/data/passes/*.json (issue 19: construction-time
init, the apply / modules() idioms, buffers): the same small models written the
way Hugging Face and torchvision write them, in plain torch, built under
torch.manual_seed(seed) for seeds 0 and 1; every state_dict tensor's
sha256, as a safetensors header names the dtype.

    python3 tests/refs/passes_refs.py OUT.json

tests/refs/passes.sh runs it for each torch build and capability."""
import hashlib
import json
import math
import platform
import sys

import torch
from torch import nn

DTYPES = {torch.float32: "F32", torch.int64: "I64"}


class Attention(nn.Module):
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
        self.attn = Attention()
        self.ln_2 = nn.LayerNorm(8)
        self.mlp = MLP()


class HFStyle(nn.Module):
    """GPT-2's layout and PreTrainedModel._init_weights through
    self.apply (post-order), the c_proj rescale included."""

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(50, 8)
        self.wpe = nn.Embedding(16, 8)
        self.h = nn.ModuleList([Block() for _ in range(2)])
        self.ln_f = nn.LayerNorm(8)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=0.02)
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)
        for name, p in module.named_parameters():
            if name == "c_proj.weight":
                p.data.normal_(mean=0.0, std=0.02 / math.sqrt(2 * 2))


class Stage(nn.Module):
    """Ends its __init__ with an init of its own, before the next stage
    is built."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.proj = nn.Linear(cout, cout)
        nn.init.uniform_(self.proj.weight, -0.5, 0.5)
        nn.init.normal_(self.proj.bias, std=1e-6)


class TorchvisionStyle(nn.Module):
    """torchvision's `for m in self.modules()` (pre-order) with
    isinstance branches at the end of __init__."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3)
        # Raw parameters drawn by nn.init calls on fresh tensors (gamma
        # has 5 elements: normal_'s per-element path).
        self.scale = nn.Parameter(torch.empty(3, 4).uniform_(-0.1, 0.1))
        self.gamma = nn.Parameter(torch.empty(5).normal_(mean=1.0, std=0.5))
        self.tok = nn.Parameter(nn.init.trunc_normal_(torch.empty(2, 9), std=0.2))
        self.stage1 = Stage(4, 8)
        self.stage2 = Stage(8, 8)
        self.head = nn.Linear(8, 5)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


class WithBuffers(nn.Module):
    """register_buffer as BERT, RoPE and custom statistics use it: an
    int64 arange, a drawn float buffer, a non-persistent one (drawn, not
    in the state dict) and a 0-d counter, between layers that draw."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("position_ids", torch.arange(16).expand((1, -1)))
        self.register_buffer("noise", torch.randn(20) * 0.5)
        self.register_buffer("scratch", torch.rand(8), persistent=False)
        self.scale = nn.Parameter(torch.ones(4))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))
        self.register_buffer("steps", torch.arange(6, dtype=torch.float32).reshape(2, 3))
        self.fc2 = nn.Linear(4, 2)


MODELS = {"hf_style": HFStyle, "torchvision_style": TorchvisionStyle,
          "buffers": WithBuffers}


def tensors(cls, seed):
    torch.manual_seed(seed)
    out = []
    for name, t in cls().state_dict().items():
        t = t.detach().contiguous()
        out.append({"name": name, "dtype": DTYPES[t.dtype], "shape": list(t.shape),
                    "sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest()})
    return out


def main():
    cap = None
    if hasattr(torch.backends, "cpu"):
        cap = torch.backends.cpu.get_cpu_capability()
    doc = {"meta": {"torch": torch.__version__, "python": platform.python_version(),
                    "capability": cap},
           "models": {k: {str(s): tensors(c, s) for s in (0, 1)} for k, c in MODELS.items()}}
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
