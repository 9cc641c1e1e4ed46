"""What weightinit writes as .pth is what torch.load(f, weights_only=True)
reads back, equal to what torch itself saved.

For each case, torch builds a state dict and saves it with torch.save
(the reference); tests/pth_convert reads that file with weightinit's
readers and writes it again with wi_pth_write; torch then loads our file
with weights_only=True and must get an OrderedDict with the same names in
the same order, dtypes, shapes and values, tied tensors sharing one
storage, records stored uncompressed with their data 64-byte aligned, and
a model that load_state_dict(strict=True)s it.

Usage: check_with_torch.py PTH_CONVERT DATA_DIR (DATA_DIR unused: the
cases are built here so that the reference is always real torch)."""
import collections
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

import torch


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(8, 4))


class Tied(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 4)
        self.head = torch.nn.Linear(4, 10, bias=False)
        self.head.weight = self.emb.weight


def dtypes():
    g = torch.Generator().manual_seed(1)
    sd = collections.OrderedDict()
    base = torch.randn(3, 5, generator=g) * 100
    for dt in [torch.float32, torch.float64, torch.float16, torch.bfloat16,
               torch.int64, torch.int32, torch.int16, torch.int8,
               torch.uint8, torch.bool]:
        sd["t_" + str(dt).split(".")[1]] = base.to(dt)
    sd["scalar"] = torch.tensor(7, dtype=torch.int64)
    sd["empty_0x3"] = torch.zeros(0, 3)
    sd["empty_3x0"] = torch.zeros(3, 0)
    sd["big"] = torch.randn(300, 300, generator=g)  # several 64 KiB chunks
    return sd


def many():
    # More than Python's 1000-item SETITEMS batch.
    return collections.OrderedDict(
        (f"layer{i}.w", torch.full((2,), float(i))) for i in range(1500))


CASES = [
    ("conv_bn_linear", lambda: model().state_dict(), None, model),
    ("tied", lambda: Tied().state_dict(), ("emb.weight", "head.weight"), Tied),
    ("dtypes", dtypes, None, None),
    ("many", many, None, None),
    ("empty", collections.OrderedDict, None, None),
]


def check_zip(path):
    raw = open(path, "rb").read()
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        folder = names[0].split("/")[0]
        assert all(n.startswith(folder + "/") for n in names), names
        assert z.read(folder + "/version") == b"3\n"
        assert z.read(folder + "/byteorder") == b"little"
        for info in z.infolist():
            assert info.compress_type == zipfile.ZIP_STORED, info.filename
            if "/data/" in info.filename:
                off = info.header_offset
                n, e = struct.unpack("<HH", raw[off + 26:off + 30])
                assert (off + 30 + n + e) % 64 == 0, info.filename
    return folder


def main():
    conv = sys.argv[1]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, make, tie, module in CASES:
            ref = make()
            ref_path = os.path.join(tmp, name + "_ref.pth")
            ours = os.path.join(tmp, name + ".pth")
            torch.save(ref, ref_path)
            cmd = [conv, ref_path, ours] + (["--tie", *tie] if tie else [])
            subprocess.run(cmd, check=True)
            try:
                assert check_zip(ours) == name
                got = torch.load(ours, weights_only=True)
                assert type(got) is collections.OrderedDict, type(got)
                assert list(got) == list(ref), (list(got), list(ref))
                for k in ref:
                    a, b = ref[k], got[k]
                    assert a.dtype == b.dtype, (k, a.dtype, b.dtype)
                    assert a.shape == b.shape, (k, a.shape, b.shape)
                    assert b.is_contiguous() and not b.requires_grad, k
                    assert torch.equal(a, b), k
                if tie:
                    assert got[tie[0]].data_ptr() == got[tie[1]].data_ptr()
                    zf = zipfile.ZipFile(ours)
                    n_data = sum("/data/" in n for n in zf.namelist())
                    assert n_data == len(ref) - 1, n_data
                if module:
                    module().load_state_dict(got, strict=True)
                print(f"ok {name}: {len(ref)} tensors")
            except AssertionError as e:
                failures += 1
                print(f"FAIL {name}: {e!r}")
    print(f"{len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
