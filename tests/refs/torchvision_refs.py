#!/usr/bin/env python3
"""References for examples/vit-b16-torchvision.json: torchvision's own
vit_b_16() (no weights) built under torch.manual_seed(seed) for seeds 0
and 1, every state_dict tensor's sha256, in state_dict order.

    python3 tests/refs/torchvision_refs.py OUT.json

Run once per torch build and ATEN_CPU_CAPABILITY (tests/refs/torchvision.sh:
Debian's torch 1.13 with python3-torchvision 0.14, and the torch 2.x venvs
of tests/refs/torch2/regen.sh with the torchvision release of that torch)."""
import hashlib
import json
import platform
import sys
import warnings

import torch
import torchvision
from torchvision.models import vit_b_16

warnings.filterwarnings("ignore")


# As a safetensors header names them.
DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def tensors(seed):
    torch.manual_seed(seed)
    model = vit_b_16()
    out = []
    for name, t in model.state_dict().items():
        t = t.detach().contiguous()
        out.append({"name": name, "dtype": DTYPES[t.dtype],
                    "shape": list(t.shape),
                    "sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest()})
    return out


def main():
    cap = None
    if hasattr(torch.backends, "cpu"):
        cap = torch.backends.cpu.get_cpu_capability()
    doc = {"meta": {"torch": torch.__version__, "torchvision": torchvision.__version__,
                    "python": platform.python_version(), "capability": cap,
                    "model": "torchvision.models.vit_b_16()"},
           "seeds": {str(s): tensors(s) for s in (0, 1)}}
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
