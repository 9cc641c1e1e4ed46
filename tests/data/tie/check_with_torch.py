"""weightinit's tied model loads in real torch as torch's own: run
`weightinit init` on each case, torch.load the .pth (weights_only) and
check that the tied names share one storage (data_ptr), that every value
equals the model make_refs.build() makes, and that load_state_dict
(strict=True) takes it; the safetensors file holds save_model's names.

Usage: check_with_torch.py WEIGHTINIT (run by check_with_torch.sh)."""
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch

sys.dont_write_bytecode = True  # nothing left in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_refs  # noqa: E402

exe = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as tmp:
    for case in make_refs.CASES:
        model = os.path.join(here, case, "model.json")
        ref = make_refs.build(case)
        for ext in ("pth", "safetensors"):
            out = os.path.join(tmp, case + "." + ext)
            subprocess.run([exe, "init", model, "--seed", str(make_refs.SEED), "-q",
                            "--rng-profile", "avx2", "-o", out], check=True)
        sd = torch.load(os.path.join(tmp, case + ".pth"), weights_only=True)
        want = ref.state_dict()
        assert list(sd) == list(want), (case, list(sd))
        for k in want:
            assert torch.equal(sd[k], want[k]), (case, k)
        assert sd["wte.weight"].data_ptr() == sd["lm_head.weight"].data_ptr(), case
        fresh = make_refs.build(case)
        fresh.load_state_dict(sd, strict=True)
        with open(os.path.join(tmp, case + ".safetensors"), "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        meta = header.pop("__metadata__")
        assert sorted(header) == sorted(k for k in want if k != "wte.weight"), header.keys()
        assert meta["wte.weight"] == "lm_head.weight", meta
        print("%s: torch.load shares the tied storage, values equal; "
              "safetensors keeps lm_head.weight" % case)
