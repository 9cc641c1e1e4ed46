#!/usr/bin/python3
"""References for the model file's "tie" (model-format.md): a GPT-2-like
tiny model built, initialised and tied in torch 1.13 as Hugging Face does
(construct, init_weights as if untied, then tie_weights).

Re-run (Debian's python3-torch 1.13; writes only into this folder):
    cd tests/data/tie && /usr/bin/python3 make_refs.py

For each case folder (lm_head: {"lm_head.weight": "wte.weight"}, GPT-2's
tie; reversed: {"wte.weight": "lm_head.weight"}) and each CPU capability
(avx2, default: run in a child process) it writes expect.<profile>.json:
  state_dict   [{name, dtype, shape, sha256}] of model.state_dict(), seed 7
  state_dict_bf16  the same after model.to(torch.bfloat16)
  named_parameters  the names model.named_parameters() lists (a tied
               tensor once)
  pth_storages the number of storages torch.save writes for state_dict()
               (a tied tensor's storage once), and tied_names: the names
               whose tensors torch.load gives with one data_ptr
  safetensors  what safetensors' save_model writes: state_dict less the
               names _remove_duplicate_names drops (it keeps
               sorted(names)[0] of each shared group; the rule is copied
               here from bindings/python/py_src/safetensors/torch.py, as
               the safetensors package is not installed), and
  safetensors_metadata  the {dropped: kept} entries save_model records.
The init_cfg Normal(std=0.02, layer=[Linear, Embedding]) is MMEngine's
NormalInit: module.apply order, normal_(weight) then constant_(bias, 0).
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 7
CASES = {"lm_head": ("lm_head", "wte"), "reversed": ("wte", "lm_head")}


def build(case):
    """The case's model as torch builds, initialises and ties it."""
    import torch
    from torch import nn

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(50, 8)
            self.lm_head = nn.Linear(8, 50, bias=False)
            self.wpe = nn.Embedding(16, 8)
            self.ln_f = nn.LayerNorm(8)
            self.proj = nn.Linear(8, 24)

    torch.manual_seed(SEED)
    model = TinyGPT()

    def normal_init(m):
        if type(m).__name__ in ("Linear", "Embedding"):
            nn.init.normal_(m.weight, 0, 0.02)
            if getattr(m, "bias", None) is not None:
                nn.init.constant_(m.bias, 0)

    model.apply(normal_init)
    name, target = CASES[case]
    getattr(model, name).weight = getattr(model, target).weight
    return model


def child(case, cap):
    import torch
    model = build(case)

    def entries(sd):
        names = {torch.float32: "F32", torch.bfloat16: "BF16"}
        return [{"name": k, "dtype": names[v.dtype], "shape": list(v.shape),
                 "sha256": hashlib.sha256(v.contiguous().reshape(-1).view(torch.uint8)
                                          .numpy().tobytes()).hexdigest()}
                for k, v in sd.items()]

    sd = model.state_dict()
    buf = io.BytesIO()
    torch.save(sd, buf)
    storages = sum(1 for n in zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()
                   if "/data/" in n)
    loaded = torch.load(io.BytesIO(buf.getvalue()))
    ptrs = {}
    for k, v in loaded.items():
        ptrs.setdefault(v.data_ptr(), []).append(k)
    tied = [names for names in ptrs.values() if len(names) > 1]
    # safetensors' _remove_duplicate_names / save_model
    groups = {}
    for k, v in sd.items():
        groups.setdefault(v.data_ptr(), []).append(k)
    dropped = {}
    for names in groups.values():
        keep = sorted(names)[0]
        for n in sorted(names):
            if n != keep:
                dropped[n] = keep
    st = [e for e in entries(sd) if e["name"] not in dropped]
    res = {"torch": torch.__version__, "seed": SEED,
           "state_dict": entries(sd),
           "named_parameters": [k for k, _ in model.named_parameters()],
           "pth_storages": storages, "tied_names": tied,
           "safetensors": st, "safetensors_metadata": dropped,
           "state_dict_bf16": entries(model.to(torch.bfloat16).state_dict())}
    print(json.dumps(res))


def main():
    if len(sys.argv) > 2:
        child(sys.argv[1], sys.argv[2])
        return
    for case in CASES:
        for cap in ("avx2", "default"):
            env = dict(os.environ, ATEN_CPU_CAPABILITY=cap)
            out = subprocess.run([sys.executable, __file__, case, cap], env=env,
                                 check=True, capture_output=True, text=True).stdout
            with open(os.path.join(HERE, case, "expect.%s.json" % cap), "w") as f:
                json.dump(json.loads(out), f, indent=1)
                f.write("\n")


if __name__ == "__main__":
    main()
