#!/usr/bin/env python3
"""References for the layer types added in issue 19 (PReLU, InstanceNorm*,
SyncBatchNorm, RMSNorm, Bilinear, EmbeddingBag, RNN/LSTM/GRU, Hugging
Face's Conv1D): each built by the real library (torch.nn, and
transformers.pytorch_utils.Conv1D where transformers is installed) under
torch.manual_seed, every parameter and buffer's sha256, in the format of
tests/data/rng/<profile>/layers.json.

    python3 tests/refs/layers_more_refs.py OUT.json

Run it once per torch build and ATEN_CPU_CAPABILITY (regen: the
layers_more.sh beside this file).  Layer types the running torch lacks
(nn.RMSNorm before 2.4) and Conv1D without transformers are left out of
that file's cases, and recorded under "skipped"."""
import hashlib
import json
import sys

import torch
from torch import nn

try:
    from transformers.pytorch_utils import Conv1D
except ImportError:  # Debian's torch 1.13 has no transformers beside it
    Conv1D = None

# (type, args): constructor arguments as the model file writes them.
LAYERS = [
    ("PReLU", {}),
    ("PReLU", {"num_parameters": 3, "init": 0.1}),
    ("InstanceNorm1d", {"num_features": 4, "affine": True}),
    ("InstanceNorm2d", {"num_features": 3, "affine": True, "track_running_stats": True}),
    ("InstanceNorm3d", {"num_features": 2}),
    ("SyncBatchNorm", {"num_features": 5}),
    ("SyncBatchNorm", {"num_features": 2, "affine": False}),
    ("RMSNorm", {"normalized_shape": [2, 3]}),
    ("RMSNorm", {"normalized_shape": 4, "elementwise_affine": False}),
    ("Bilinear", {"in1_features": 5, "in2_features": 4, "out_features": 3}),
    ("Bilinear", {"in1_features": 2, "in2_features": 3, "out_features": 4, "bias": False}),
    ("EmbeddingBag", {"num_embeddings": 10, "embedding_dim": 6, "padding_idx": 2, "mode": "sum"}),
    ("EmbeddingBag", {"num_embeddings": 3, "embedding_dim": 2}),
    ("Conv1D", {"nf": 12, "nx": 5}),
    ("Conv1D", {"nf": 3, "nx": 2}),
    ("RNN", {"input_size": 5, "hidden_size": 7, "num_layers": 2, "nonlinearity": "relu"}),
    ("LSTM", {"input_size": 4, "hidden_size": 6, "num_layers": 2, "bidirectional": True,
              "proj_size": 3}),
    ("LSTM", {"input_size": 1, "hidden_size": 2}),
    ("GRU", {"input_size": 3, "hidden_size": 5, "bias": False, "bidirectional": True}),
    ("GRU", {"input_size": 8, "hidden_size": 16, "num_layers": 3, "batch_first": True,
             "dropout": 0.5}),
]


def make(kind, args):
    if kind == "Conv1D":
        return Conv1D(**args) if Conv1D else None
    cls = getattr(nn, kind, None)
    return cls(**args) if cls else None


def case(seed):
    ops = [{"op": "manual_seed", "seed": seed}]
    outputs, skipped = [], []
    torch.manual_seed(seed)
    for kind, args in LAYERS:
        m = make(kind, args)
        if m is None:
            skipped.append(kind)
            continue
        ops.append(dict({"op": "nn." + kind}, **args))
        for name, t in m.state_dict().items():
            t = t.detach().contiguous()
            outputs.append({
                "op_index": len(ops) - 1, "name": name,
                "dtype": str(t.dtype).replace("torch.", ""),
                "shape": list(t.shape),
                "sha256": hashlib.sha256(t.numpy().tobytes()).hexdigest()})
    return {"name": "layers added in issue 19, seed=%d" % seed, "ops": ops,
            "outputs": outputs}, sorted(set(skipped))


def main():
    cases, skipped = [], []
    for seed in (0, 1):
        c, s = case(seed)
        cases.append(c)
        skipped = s
    import platform
    meta = {"torch": torch.__version__, "python": platform.python_version(),
            "capability": torch.backends.cpu.get_cpu_capability()
            if hasattr(torch.backends, "cpu") else None,
            "transformers": None, "skipped": skipped}
    try:
        import transformers
        meta["transformers"] = transformers.__version__
    except ImportError:
        pass
    with open(sys.argv[1], "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
