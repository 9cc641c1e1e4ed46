"""Makes the nested-checkpoint cases with real torch (run with Debian's
python3-torch 1.13; the outputs are committed so the tests need no torch).

Each CASE.pth (or CASE.index.json) gets CASE.expect.json:
  inspect: every tensor with its full key path (name, dtype, shape, sha256
           of its row-major bytes as torch sees them), exit status;
  convert: the automatic choice's exit status and, when it succeeds, the
           dict it takes (key) and its tensors named relative to it;
           or the words its error must contain.
"""
import argparse
import collections
import hashlib
import json
import struct

import torch


def net(seed):
    torch.manual_seed(seed)
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    return m.state_dict()


def desc(sd, prefix=""):
    out = []
    for k, t in sd.items():
        t = t.contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        out.append({"name": prefix + k, "dtype": DT[t.dtype],
                    "shape": list(t.shape), "sha256": hashlib.sha256(raw).hexdigest()})
    return out


DT = {torch.float32: "F32", torch.int64: "I64", torch.float16: "F16"}


def save(name, obj, inspect, convert):
    torch.save(obj, name + ".pth")
    json.dump({"file": name + ".pth", "inspect": inspect, "convert": convert},
              open(name + ".expect.json", "w"), indent=1)


def safetensors(sd, path):
    header, off, blobs = {}, 0, []
    for k, t in sd.items():
        raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[k] = {"dtype": DT[t.dtype], "shape": list(t.shape),
                     "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    sd, ema = net(0), net(1)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1, momentum=0.9)
    opt.state[opt.param_groups[0]["params"][0]]["momentum_buffer"] = torch.full((2,), 0.5)
    args = argparse.Namespace(lr=0.1, model="net")
    timm = {"model": sd, "optimizer": opt.state_dict(), "epoch": 3, "args": args}
    every = desc(sd, "model.") + [{"name": "optimizer.state.0.momentum_buffer", "dtype": "F32",
                                   "shape": [2], "sha256": desc({"x": torch.full((2,), 0.5)})[0]["sha256"]}]
    save("timm_model_epoch", timm, {"exit": 0, "tensors": every},
         {"exit": 0, "key": "model", "tensors": desc(sd)})
    save("mmengine_state_dict", {"state_dict": sd, "meta": {"epoch": 3, "seed": 0}},
         {"exit": 0, "tensors": desc(sd, "state_dict.")},
         {"exit": 0, "key": "state_dict", "tensors": desc(sd)})
    save("ema_and_model", {"model": sd, "ema": ema},
         {"exit": 0, "tensors": desc(sd, "model.") + desc(ema, "ema.")},
         {"exit": 2, "error_mentions": ["several keys", "'model' (", "'ema' (", "--key"]})
    save("empty_dict", {}, {"exit": 2, "error_mentions": ["no tensors"]},
         {"exit": 2, "error_mentions": ["no tensors"]})
    save("no_tensors", {"epoch": 3, "lr": 0.1, "names": ["a", "b"]},
         {"exit": 2, "error_mentions": ["no tensors", "epoch"]},
         {"exit": 2, "error_mentions": ["no tensors", "epoch"]})
    empty = collections.OrderedDict([("w", torch.zeros(0, 3)), ("b", torch.zeros(3))])
    save("empty_tensor", empty, {"exit": 0, "tensors": desc(empty)},
         {"exit": 0, "key": "", "tensors": desc(empty)})
    # Hugging Face sharded checkpoints: safetensors shards (written here by
    # the format's spec) and torch.save shards.
    names = list(sd)
    a = collections.OrderedDict((k, sd[k]) for k in names[:3])
    b = collections.OrderedDict((k, sd[k]) for k in names[3:])
    for ext, write in (("safetensors", safetensors), ("bin", torch.save)):
        stem = "sharded_" + ext
        files = [f"{stem}-00001-of-00002.{ext}", f"{stem}-00002-of-00002.{ext}"]
        write(a, files[0])
        write(b, files[1])
        wm = {k: files[0] for k in a} | {k: files[1] for k in b}
        json.dump({"metadata": {"total_size": sum(t.numel() * t.element_size() for t in sd.values())},
                   "weight_map": wm}, open(f"{stem}.{ext}.index.json", "w"), indent=1)
        json.dump({"file": f"{stem}.{ext}.index.json",
                   "inspect": {"exit": 0, "tensors": desc(sd)},
                   "convert": {"exit": 0, "key": "", "tensors": desc(sd)}},
                  open(stem + ".expect.json", "w"), indent=1)
    # an index whose weight_map puts a tensor in the wrong shard
    wm = {k: "sharded_safetensors-00001-of-00002.safetensors" for k in names}
    json.dump({"weight_map": wm}, open("bad_index.safetensors.index.json", "w"), indent=1)
    json.dump({"file": "bad_index.safetensors.index.json",
               "inspect": {"exit": 2, "error_mentions": ["has no such tensor"]},
               "convert": {"exit": 2, "error_mentions": ["has no such tensor"]}},
              open("bad_index.expect.json", "w"), indent=1)
    # an index naming a shard that is not there
    json.dump({"weight_map": {names[0]: "absent-00001-of-00001.safetensors"}},
              open("missing_shard.safetensors.index.json", "w"), indent=1)
    json.dump({"file": "missing_shard.safetensors.index.json",
               "inspect": {"exit": 2, "error_mentions": ["absent-00001-of-00001.safetensors", "can not be found"]},
               "convert": {"exit": 2, "error_mentions": ["absent-00001-of-00001.safetensors", "can not be found"]}},
              open("missing_shard.expect.json", "w"), indent=1)


if __name__ == "__main__":
    main()
