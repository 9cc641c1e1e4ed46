"""weightinit's tied model loads in real torch as torch's own: run
`weightinit init` on each case, torch.load the .pth (weights_only) and
check that the tied names share one storage (data_ptr), that every value
equals the model make_refs.build() makes, and that load_state_dict
(strict=True) takes it; the safetensors file holds save_model's names.
Sharded (.bin, --max-shard-size): the files and total_size are what
huggingface_hub's split gives torch's own state dict (its rule, copied
below: a tensor whose storage was met before goes to that tensor's shard
and is counted once), and each shard loads with the tie intact.
convert keeps a torch.save file's shared storage (checkpoints/
g_shared_storage_views.pth: views of one storage stay views of one).

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

def hf_split(sd, limit):
    """huggingface_hub's split_state_dict_into_shards_factory with
    split_torch_state_dict_into_shards' storage ids (device, storage
    data_ptr, storage bytes) and tensor sizes: (shards, total_size)."""
    ids, shards, cur, cur_size, total = {}, [], {}, 0, 0
    for key, t in sd.items():
        sid = (t.device, t.storage().data_ptr(), t.storage().size() * t.element_size())
        if sid in ids:
            ids[sid].append(key)
            continue
        ids[sid] = [key]
        size = t.numel() * t.element_size()
        if size > limit:
            total += size
            shards.append({key: t})
            continue
        if cur_size + size > limit:
            shards.append(cur)
            cur, cur_size = {}, 0
        cur[key] = t
        cur_size += size
        total += size
    if cur:
        shards.append(cur)
    for keys in ids.values():
        for shard in shards:
            if keys[0] in shard:
                for key in keys:
                    shard[key] = sd[key]
                break
    return [list(s) for s in shards], total


def check_sharded(tmp, case, model, ref):
    limit = 1000  # wte (1600 bytes) alone, the tied lm_head with it
    want, total = hf_split(ref.state_dict(), limit)
    assert len(want) > 1, want
    out = os.path.join(tmp, case + "-sharded", "pytorch_model.bin")
    os.makedirs(os.path.dirname(out))
    subprocess.run([exe, "init", model, "--seed", str(make_refs.SEED), "-q", "--rng-profile",
                    "avx2", "-o", out, "--max-shard-size", "%dB" % limit], check=True)
    with open(out + ".index.json") as f:
        index = json.load(f)
    assert index["metadata"]["total_size"] == total, (case, index["metadata"], total)
    ref_sd = ref.state_dict()
    for k, names in enumerate(want):
        shard = "pytorch_model-%05d-of-%05d.bin" % (k + 1, len(want))
        sd = torch.load(os.path.join(os.path.dirname(out), shard), weights_only=True)
        assert list(sd) == names, (case, shard, list(sd), names)
        assert all(index["weight_map"][n] == shard for n in names), (case, index)
        for n in names:
            assert torch.equal(sd[n], ref_sd[n]), (case, n)
        if "wte.weight" in sd:
            assert sd["wte.weight"].data_ptr() == sd["lm_head.weight"].data_ptr(), case
    assert len(index["weight_map"]) == len(ref_sd), index
    print("%s: sharded as huggingface_hub splits torch's state dict, total_size %d, "
          "the tie in one shard" % (case, total))


def check_convert_shared(tmp):
    src = os.path.join(here, "..", "checkpoints", "g_shared_storage_views.pth")
    out = os.path.join(tmp, "shared.pth")
    subprocess.run([exe, "convert", src, out], check=True)
    want = torch.load(src, weights_only=True)
    got = torch.load(out, weights_only=True)
    assert list(got) == list(want), list(got)
    for a in want:
        assert torch.equal(got[a], want[a]), a
        assert got[a].storage_offset() == want[a].storage_offset(), a
        for b in want:
            same = want[a].storage().data_ptr() == want[b].storage().data_ptr()
            assert (got[a].storage().data_ptr() == got[b].storage().data_ptr()) == same, (a, b)
    print("convert: the views of one storage in torch's file are views of one storage")


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
        check_sharded(tmp, case, model, ref)
    check_convert_shared(tmp)
