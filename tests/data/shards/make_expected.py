#!/usr/bin/env python3
"""Writes the expected results of the sharding cases (stdlib only).

Each case is a state dict of F32 tensors (name, numel[, tied]) in
state_dict order, a shard limit in bytes and an output file name; a
tensor with a third entry is the earlier tensor of that name under a
second name (a tie: one storage).  The split below
is worked out by hand from huggingface_hub's
split_state_dict_into_shards_factory (serialization/_base.py), whose
rules are:
  - tensors are taken in state_dict order, size = numel * element size;
  - a tensor whose storage (get_torch_storage_id: device, storage
    data_ptr, storage size) was met before is skipped, then added to the
    shard of the first tensor of that storage, storage by storage in the
    order they were met, and counted once in total_size; torch gives
    every empty tensor data_ptr 0 and size 0, so the empty tensors are
    one "storage" too;
  - a tensor larger than the limit is appended as a shard of its own at
    once (so it is numbered before the shard still being filled);
  - otherwise, when current size + tensor size > limit (strictly), the
    current shard is closed and a new one started;
  - one shard in all: the file keeps its name and there is no index;
  - shard k of n is named pattern.format(suffix=f"-{k:05d}-of-{n:05d}"),
    the pattern being the weights name with "{suffix}" before ".bin" /
    ".safetensors" (transformers' save_pretrained);
  - the index is json.dumps({"metadata": {"total_size": sum of sizes
    of the tensors not skipped},
    "weight_map": {tensor: file}}, indent=2, sort_keys=True) + "\\n".
The JSON text is Python's own json module, so jansson's formatting is
checked against the real thing, not against our reading of it.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

def shard_name(out, k, n):
    stem, ext = os.path.splitext(out)
    return f"{stem}-{k:05d}-of-{n:05d}{ext}"

CASES = {
    # huggingface_hub's docstring example in units of 4 bytes: limit 10,
    # sizes [6, 6, 2, 6, 2, 2] -> [6], [6+2], [6+2+2].  Names chosen so
    # that sorted order differs from state_dict order.
    "hf_docstring": dict(out="model.safetensors", limit=40,
        tensors=[("layers.10.weight", 6), ("layers.9.weight", 6), ("embed.weight", 2),
                 ("layers.1.bias", 6), ("norm.weight", 2), ("head.weight", 2)],
        shards=[["layers.10.weight"], ["layers.9.weight", "embed.weight"],
                ["layers.1.bias", "norm.weight", "head.weight"]]),
    # A tensor over the limit (12 > 10) met while shard {a} is open gets
    # shard 1; {a, c} closes when d would overflow it (4+3+5 > 10).
    "oversized_first": dict(out="model.safetensors", limit=40,
        tensors=[("a", 4), ("big", 12), ("c", 3), ("d", 5)],
        shards=[["big"], ["a", "c"], ["d"]]),
    # Exactly the limit fits (> is strict); a tensor of exactly the limit
    # is not "larger than" it and closes the open shard first.
    "exact_fit": dict(out="model.safetensors", limit=40,
        tensors=[("x.0", 5), ("x.1", 5), ("x.2", 10), ("x.3", 1)],
        shards=[["x.0", "x.1"], ["x.2"], ["x.3"]]),
    # A 0-byte tensor never overflows: it joins the open shard.
    "zero_size": dict(out="model.safetensors", limit=16,
        tensors=[("w", 4), ("empty", 0), ("v", 4)],
        shards=[["w", "empty"], ["v"]]),
    # Within the limit: one file named as given, no index.
    "under_limit": dict(out="model.safetensors", limit=1000,
        tensors=[("a", 3), ("b", 3)], shards=[["a", "b"]]),
    # torch.save shards: transformers' pytorch_model-00001-of-00002.bin
    # and pytorch_model.bin.index.json.
    "pth_naming": dict(out="pytorch_model.bin", limit=40,
        tensors=[("fc.weight", 10), ("fc.bias", 10)],
        shards=[["fc.weight"], ["fc.bias"]]),
    # A tie (head is embed) and two empty tensors: head joins embed's
    # shard, e1 joins e0's (both data_ptr 0), each at its shard's end;
    # head is counted once.
    "ties": dict(out="pytorch_model.bin", limit=40,
        tensors=[("embed", 6), ("a", 2), ("b", 6), ("head", 6, "embed"), ("e0", 0),
                 ("c", 2), ("e1", 0)],
        shards=[["embed", "a", "head"], ["b", "e0", "c", "e1"]]),
    # Tied names are added storage by storage (x's before y's), not in
    # state_dict order.
    "ties_order": dict(out="pytorch_model.bin", limit=40,
        tensors=[("x", 2), ("y", 2), ("big", 20), ("y2", 2, "y"), ("x2", 2, "x")],
        shards=[["big"], ["x", "y", "x2", "y2"]]),
    # Names json.dumps escapes (ensure_ascii: lower-case hex, DEL,
    # surrogate pairs; quotes, backslashes, tabs).
    "escapes": dict(out="model.safetensors", limit=8,
        tensors=[("caf\u00e9.weight", 2), ("emoji\U0001F600", 2), ("del\x7f", 2),
                 ('quote"back\\slash\ttab', 2)],
        shards=[["caf\u00e9.weight"], ["emoji\U0001F600"], ["del\x7f"],
                ['quote"back\\slash\ttab']]),
}

for name, c in CASES.items():
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"output": c["out"], "max_shard_bytes": c["limit"],
                   "tensors": [list(t) for t in c["tensors"]]}, f, indent=1)
        f.write("\n")
    n = len(c["shards"])
    files = {}
    if n == 1:
        files[c["out"]] = c["shards"][0]
    else:
        for k, shard in enumerate(c["shards"], 1):
            files[shard_name(c["out"], k, n)] = shard
        index = {"metadata": {"total_size": 4 * sum(t[1] for t in c["tensors"]
                                                     if len(t) == 2)},
                 "weight_map": {t: f for f, ts in files.items() for t in ts}}
        with open(os.path.join(d, "expected.index.json"), "w") as f:
            f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    with open(os.path.join(d, "expected_files.json"), "w") as f:
        json.dump(files, f, indent=1)
        f.write("\n")
