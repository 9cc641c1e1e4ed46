#!/usr/bin/env python3
"""Writes hand-made seed inputs into corpus/{safetensors,pth}/ (next to the
conformance files copied there).  Pickles are assembled byte by byte: nothing
here imports torch or unpickles anything."""
import io, json, os, struct, zipfile

here = os.path.dirname(os.path.abspath(__file__))


def st(name, tensors, meta=None, lead=b"", pad=True):
    hdr, data = {}, b""
    if meta is not None:
        hdr["__metadata__"] = meta
    for k, dt, shape, raw in tensors:
        hdr[k] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = lead + json.dumps(hdr, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    path = os.path.join(here, "corpus", "safetensors", name)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def X(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def I(v):
    return b"J" + struct.pack("<i", v) if -2**31 <= v < 2**31 else b"\x8a\x08" + struct.pack("<q", v)


def G(m, n):
    return b"c" + m.encode() + b"\n" + n.encode() + b"\n"


def ints(v):
    return b"(" + b"".join(I(x) for x in v) + b"t"


def tensor(stype, key, numel, off, size, stride, pid6):
    pid = b"((" + X("storage") + G("torch", stype) + X(key) + X("cpu") + I(numel) + (b"N" if pid6 else b"") + b"tQ"
    return (G("torch._utils", "_rebuild_tensor_v2") + pid[:1] + pid[1:] + I(off) + ints(size) + ints(stride)
            + b"\x89" + G("collections", "OrderedDict") + b")Rt" + b"R")


def odict(items):
    return b"\x80\x02" + G("collections", "OrderedDict") + b")R(" + b"".join(X(k) + v for k, v in items) + b"u."


def legacy(obj, storages, little=True):
    out = b"\x80\x02\x8a\x0a" + (0x1950a86a20f9469cfc6c).to_bytes(10, "little") + b"."
    out += b"\x80\x02M\xe9\x03."
    out += b"\x80\x02}" + X("little_endian") + (b"\x88" if little else b"\x89") + b"s."
    out += obj
    out += b"\x80\x02](" + b"".join(X(k) for k, _, _ in storages) + b"e."
    for k, numel, raw in storages:
        out += struct.pack("<q" if little else ">q", numel) + raw
    return out


def write_pth(name, data):
    with open(os.path.join(here, "corpus", "pth", name), "wb") as f:
        f.write(data)


def zip_pth(name, pkl, records, byteorder=None):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        if byteorder:
            z.writestr("archive/byteorder", byteorder)
        for k, raw in records:
            z.writestr("archive/data/" + k, raw)
        z.writestr("archive/version", "3\n")
    write_pth(name, bio.getvalue())


def main():
    os.makedirs(os.path.join(here, "corpus", "safetensors"), exist_ok=True)
    os.makedirs(os.path.join(here, "corpus", "pth"), exist_ok=True)
    f6 = struct.pack("<6f", *range(6))
    sizes = {"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
    st("seed_all_dtypes.st", [(d, d, [2, 1], bytes(range(2 * n))) for d, n in sizes.items()], {"format": "pt"})
    st("seed_edges.st", [("u", "U8", [3], b"abc"), ("s", "F32", [], f6[:4]), ("e", "F32", [0, 4], b""),
                                  ("v", "F32", [1, 1, 1, 1, 1, 1, 1, 1], f6[4:8])], lead=b"  ", pad=False)
    st("seed_empty.st", [])

    six = ("k", 6, f6)
    w = tensor("FloatStorage", "k", 6, 0, [3, 2], [1, 3], True)
    v = tensor("FloatStorage", "k", 6, 4, [2], [1], True)
    c = tensor("FloatStorage", "k", 6, 5, [2, 2], [0, 0], True)
    l = tensor("LongStorage", "j", 2, 1, [], [], True)
    objs = odict([("w", w), ("n", I(3)), ("v", v), ("c", c), ("i", l)])
    longs = ("j", 2, struct.pack("<2q", -7, 1234567890123))
    write_pth("seed_legacy_views.pth", legacy(objs, [longs, six]))
    be = [("j", 2, struct.pack(">2q", -7, 1234567890123)), ("k", 6, struct.pack(">6f", *range(6)))]
    write_pth("seed_legacy_big_endian.pth", legacy(objs, be, little=False))
    wrapped = (b"\x80\x02}(" + X("meta") + G("numpy.core.multiarray", "scalar") + X("f8") + b"\x85R}b"
               + X("optimizer") + tensor("ComplexFloatStorage", "c", 3, 0, [3], [1], True)
               + X("state_dict") + b"}" + X("w") + tensor("FloatStorage", "k", 6, 0, [6], [1], True) + b"s"
               + X("hub") + G("mmengine.logging.history_buffer", "HistoryBuffer") + b")\x81}(" + X("a") + b"]("
               + I(1) + b"\x88Ne" + X("b") + b"G" + struct.pack(">d", 0.5) + b"ub" + b"u.")
    write_pth("seed_legacy_wrapped.pth", legacy(wrapped, [("c", 3, f6), six]))

    zw = tensor("FloatStorage", "0", 6, 0, [2, 3], [3, 1], False)
    zt = tensor("FloatStorage", "0", 6, 1, [2, 2], [1, 2], False)
    zh = tensor("HalfStorage", "1", 4, 0, [4], [1], False)
    zip_pth("seed_zip_views.pth", odict([("w", zw), ("t", zt), ("h", zh)]),
            [("0", f6), ("1", struct.pack("<4e", 1, 2, 3, 4))])
    zip_pth("seed_zip_big.pth", odict([("w", zw)]), [("0", struct.pack(">6f", *range(6)))], "big")


main()
