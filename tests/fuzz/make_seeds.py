#!/usr/bin/env python3
"""Writes hand-made seed inputs into corpus/{safetensors,pth,index}/ (next
to the conformance files copied there).  Pickles are assembled byte by byte:
nothing here imports torch or unpickles anything.

corpus/index/ holds fuzz_index's packed inputs (an index, then each shard
after "\n--shard NAME\n", fuzz_index.c): the sharded checkpoints of
tests/data/checkpoints/nested/ and hand-made ones.

With WEIGHTINIT=path/to/weightinit (and WEIGHTINIT_PLUGIN_PATH set as for
running it by hand) it also writes the cli_* seeds: what `weightinit init`
itself writes with a tie, --dtype bf16/f16 and --max-shard-size."""
import io, json, os, struct, subprocess, sys, tempfile, zipfile

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(here))
SEPARATOR = b"\n--shard "


def st_bytes(tensors, meta=None, lead=b"", pad=True):
    hdr, data = {}, b""
    if meta is not None:
        hdr["__metadata__"] = meta
    for k, dt, shape, raw in tensors:
        hdr[k] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = lead + json.dumps(hdr, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def st(name, tensors, meta=None, lead=b"", pad=True):
    with open(os.path.join(here, "corpus", "safetensors", name), "wb") as f:
        f.write(st_bytes(tensors, meta, lead, pad))


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


def zip_bytes(pkl, records, byteorder=None):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_STORED) as z:
        # A fixed date: the seeds are the same on every regeneration.
        def put(name, data):
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)

        put("archive/data.pkl", pkl)
        if byteorder:
            put("archive/byteorder", byteorder)
        for k, raw in records:
            put("archive/data/" + k, raw)
        put("archive/version", "3\n")
    return bio.getvalue()


def zip_pth(name, pkl, records, byteorder=None):
    write_pth(name, zip_bytes(pkl, records, byteorder))


def pack(name, index, shards):
    """One fuzz_index input: the index (bytes or a JSON object), then
    (file name, bytes) per shard."""
    out = index if isinstance(index, bytes) else json.dumps(index, indent=1).encode()
    for file, data in shards:
        assert SEPARATOR not in data, file
        out += SEPARATOR + file.encode() + b"\n" + data
    with open(os.path.join(here, "corpus", "index", name), "wb") as f:
        f.write(out)


def bf16(values):
    """float32 -> bfloat16 bytes, rounded to nearest even (finite values)."""
    out = b""
    for v in values:
        u = struct.unpack("<I", struct.pack("<f", v))[0]
        out += struct.pack("<H", (u + 0x7FFF + ((u >> 16) & 1)) >> 16)
    return out


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

    ties_and_dtypes()
    indexes()
    if os.environ.get("WEIGHTINIT"):
        from_cli(os.environ["WEIGHTINIT"])


def ties_and_dtypes():
    """What `init --dtype` and a tie leave in a checkpoint: bf16/f16 values
    (specials included), a tied pair kept once in safetensors with the
    dropped name in __metadata__, two names over one storage in .pth."""
    specials = [0.0, -0.0, 1.0, -2.5, 65504.0, 65520.0, 2.0**-24, 2.0**-25, 3.3895e38,
                float("inf"), float("-inf"), float("nan")]
    inf = float("inf")
    f16 = struct.pack("<12e", 0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 2.0**-24, 2.0**-25,
                      6e-8, inf, -inf, float("nan"))
    meta = {"format": "pt", "seed": "0", "rng_profile": "avx2", "dtype": "bfloat16",
            "wte.weight": "lm_head.weight"}
    st("seed_tie_bf16.st", [("lm_head.weight", "BF16", [3, 4], bf16(specials)),
                            ("wpe.weight", "BF16", [2, 2], bf16([0.5, -0.5, 1e-3, 7.0])),
                            ("ln.num_batches_tracked", "I64", [], struct.pack("<q", 0))], meta)
    st("seed_f16.st", [("w", "F16", [12], f16), ("b", "F16", [0], b"")],
       {"format": "pt", "dtype": "float16"})
    # Two names over one storage (a tie) in both half types, and a view.
    t = tensor("BFloat16Storage", "0", 12, 0, [3, 4], [4, 1], False)
    h = tensor("HalfStorage", "1", 12, 0, [12], [1], False)
    v = tensor("HalfStorage", "1", 12, 4, [2, 2], [2, 1], False)
    zip_pth("seed_tie_bf16_f16.pth",
            odict([("wte.weight", t), ("lm_head.weight", t), ("h", h), ("h_view", v)]),
            [("0", bf16(specials)), ("1", f16)])
    # An f32 tie, so that the write-back's --dtype conversion runs on it.
    w = tensor("FloatStorage", "0", 6, 0, [2, 3], [3, 1], False)
    zip_pth("seed_tie_f32.pth", odict([("a.weight", w), ("b.weight", w)]),
            [("0", struct.pack("<6f", 1, -1, 0.5, float("nan"), 1e-40, 3e38))])


def indexes():
    """fuzz_index's inputs."""
    os.makedirs(os.path.join(here, "corpus", "index"), exist_ok=True)
    nested = os.path.join(top, "tests", "data", "checkpoints", "nested")

    def read(name):
        with open(os.path.join(nested, name), "rb") as f:
            return f.read()

    for stem, ext in (("sharded_safetensors", "safetensors"), ("sharded_bin", "bin")):
        index = read(f"{stem}.{ext}.index.json")
        files = sorted(set(json.loads(index)["weight_map"].values()))
        pack(f"nested_{stem}", index, [(f, read(f)) for f in files])
    pack("nested_bad_index", read("bad_index.safetensors.index.json"),
         [(f, read(f)) for f in ("sharded_safetensors-00001-of-00002.safetensors",
                                 "sharded_safetensors-00002-of-00002.safetensors")])
    pack("nested_missing_shard", read("missing_shard.safetensors.index.json"), [])

    f4 = struct.pack("<4f", 1, 2, 3, 4)
    s1 = st_bytes([("a", "F32", [2, 2], f4), ("b", "BF16", [2], bf16([1, -1]))],
                  {"format": "pt", "dtype": "bfloat16"})
    s2 = st_bytes([("c", "F16", [1], struct.pack("<e", 0.5)), ("d", "I64", [], struct.pack("<q", 7))])
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    wm = {"a": names[0], "b": names[0], "c": names[1], "d": names[1]}
    pack("hf_safetensors", {"metadata": {"total_size": 32}, "weight_map": wm},
         [(names[0], s1), (names[1], s2)])
    # weight_map order differs from file order; one shard named twice
    # under other keys; a shard of zero tensors.
    pack("order_and_empty", {"weight_map": {"d": names[1], "a": names[0], "c": names[1],
                                            "b": names[0]}},
         [(names[0], s1), (names[1], s2), ("model-00003-of-00003.safetensors", st_bytes([]))])
    # .bin shards (torch.save zip) as pytorch_model.bin.index.json names them.
    w = tensor("FloatStorage", "0", 4, 0, [2, 2], [2, 1], False)
    tie = tensor("FloatStorage", "0", 4, 0, [4], [1], False)
    b1 = zip_bytes(odict([("wte.weight", w), ("lm_head.weight", w)]), [("0", f4)])
    b2 = zip_bytes(odict([("flat", tie)]), [("0", f4)])
    bins = ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]
    pack("hf_bin_tie", {"metadata": {"total_size": 32},
                        "weight_map": {"wte.weight": bins[0], "lm_head.weight": bins[0],
                                       "flat": bins[1]}},
         [(bins[0], b1), (bins[1], b2)])
    # Mixed formats, a tensor the index puts in the wrong shard, an index
    # that is not an object, an empty weight_map.
    pack("mixed_wrong_shard", {"weight_map": {"a": bins[1], "flat": names[0]}},
         [(bins[1], b2), (names[0], s1)])
    # A shard that is itself an index (of a real shard): the fix of an
    # index naming itself is a mutation away.
    pack("shard_is_index", {"weight_map": {"a": "inner.index.json", "b": "inner.index.json"}},
         [("inner.index.json", json.dumps({"weight_map": {"a": names[0], "b": names[0]}}).encode()),
          (names[0], s1)])
    pack("not_object", b"[\"weight_map\"]", [])
    pack("empty_map", {"metadata": {}, "weight_map": {}}, [])


def from_cli(exe):
    """Seeds that weightinit itself writes (its zip layout, its metadata,
    its shards): a tied model with a bias, as bf16 .pth, f16 safetensors,
    and sharded both ways."""
    model = {"type": "Net", "tie": {"head.weight": "embed.weight"}, "children": {
        "embed": {"type": "Embedding", "num_embeddings": 4, "embedding_dim": 3},
        "norm": {"type": "BatchNorm1d", "num_features": 3},
        "head": {"type": "Linear", "in_features": 3, "out_features": 4}}}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.json")
        with open(path, "w") as f:
            json.dump(model, f)

        # Relative names (run in tmp): the metadata names the model file.
        def init(out, *args):
            subprocess.run([exe, "init", "model.json", "-q", "--no-fsync", "--seed", "3",
                            "-o", out, *args], check=True, cwd=tmp)

        def read(name):
            with open(os.path.join(tmp, name), "rb") as f:
                return f.read()

        init("tie.pth", "--dtype", "bf16")
        write_pth("cli_tie_bf16.pth", read("tie.pth"))
        init("tie.safetensors", "--dtype", "f16")
        with open(os.path.join(here, "corpus", "safetensors", "cli_tie_f16.st"), "wb") as f:
            f.write(read("tie.safetensors"))
        for ext in ("safetensors", "pth"):
            os.makedirs(os.path.join(tmp, ext))
            init(os.path.join(ext, "model." + ext), "--max-shard-size", "40")
            files = sorted(os.listdir(os.path.join(tmp, ext)))
            index = [f for f in files if f.endswith(".index.json")]
            assert len(index) == 1, files
            # The harness names the index model.safetensors.index.json:
            # the shards keep the names it lists.
            pack("cli_sharded_" + ext, read(os.path.join(ext, index[0])),
                 [(f, read(os.path.join(ext, f))) for f in files if f not in index])


main()
