#!/usr/bin/env python3
"""Writes the fuzz_model seed corpus (corpus/model/) from the golden cases
(tests/data/cases/*/model.json with init_cfg and seed from args.json) and
examples/*.json, as the harness's input document
{"model", "init_cfg", "seed", "rng_profile", "init_twice"}."""
import json
import pathlib

top = pathlib.Path(__file__).resolve().parents[2]
out = top / "tests/fuzz/corpus/model"
out.mkdir(parents=True, exist_ok=True)


def int64(seed):
    seed = int(seed) % 2**64
    return seed - 2**64 if seed >= 2**63 else seed


def write(name, doc):
    # Compact: libFuzzer's mutations then spend less on whitespace.
    text = json.dumps(doc, separators=(",", ":"))
    (out / f"{name}.json").write_text(text + "\n")


for case in sorted((top / "tests/data/cases").iterdir()):
    model = json.loads((case / "model.json").read_text())
    args = json.loads((case / "args.json").read_text())
    doc = {"model": model}
    if "init_cfg" in args:
        doc["init_cfg"] = args["init_cfg"]
    doc["seed"] = int64(args.get("seed", 0))
    if args.get("init_twice"):
        doc["init_twice"] = True
    write(case.name, doc)

# The full-size examples (GPT-2, LLaMA-7B, ResNet-50, ViT-B/16) take
# seconds per run under the sanitizers, most of it recording writes the
# harness's memory cap then refuses to compute: as seeds they would only
# slow the fuzzer and the fuzz_build test down.
full_size = {"gpt2-small", "gpt2-xl", "llama-7b", "resnet50", "vit-b16"}
examples = [e for e in sorted((top / "examples").glob("*.json")) if e.stem not in full_size]
for i, example in enumerate(examples):
    doc = {"model": json.loads(example.read_text()), "seed": i}
    if i % 2:
        doc["rng_profile"] = "default"
    write("example_" + example.stem, doc)

# Layer and plugin types no golden case uses, so the fuzzer starts from a
# valid instance of each.
extra = {
    "extra_mha": {"model": {"type": "Net", "init_cfg": {"type": "Xavier", "layer": "Linear"},
                            "children": {"att": {"type": "MultiheadAttention", "embed_dim": 8,
                                                 "num_heads": 2}}}, "seed": 3},
    "extra_mha_kv": {"model": {"type": "MultiheadAttention", "embed_dim": 4, "num_heads": 1,
                               "kdim": 3, "vdim": 2, "add_bias_kv": True, "bias": False,
                               "batch_first": True, "dropout": 0.1, "add_zero_attn": True}},
    "extra_positional": {"model": {"type": "Net",
                                   "children": {"pos": {"type": "PositionalEmbedding",
                                                        "num_positions": 6, "embedding_dim": 4}}}},
    "extra_orthogonal": {"model": {"type": "Net", "children": {
        "fc": {"type": "Linear", "in_features": 4, "out_features": 3},
        "conv": {"type": "Conv2d", "in_channels": 2, "out_channels": 3, "kernel_size": [1, 2]}}},
        "init_cfg": [{"type": "Orthogonal", "gain": 2, "layer": ["Linear", "_ConvNd"]}], "seed": 9},
    "extra_embedding": {"model": {"type": "Embedding", "num_embeddings": 5, "embedding_dim": 3,
                                  "padding_idx": -2, "max_norm": 1.5}, "rng_profile": "default"},
    "extra_plain_root": {"model": {"type": "Seq", "plain": True, "children": {
        "0": {"type": "LayerNorm", "normalized_shape": [2, 3]},
        "1": {"type": "GroupNorm", "num_groups": 2, "num_channels": 4}}},
        "init_cfg": {"type": "Constant", "val": 2, "bias": 1, "layer": ["LayerNorm", "GroupNorm"]}},
    # Found by fuzz_model: a deferred (write plan) tensor over the harness's
    # 4 MiB calloc cap first gets storage when the report reads it, and the
    # documented NULL (out of memory) from wi_tensor_const_data must be
    # handled there.
    "regress_deferred_oom": {"model": {"type": "Net", "init_cfg": {
        "type": "Normal", "layer": "Vec", "mean": 0.1, "std": 2},
        "children": {"small": {"type": "Vec", "params": {"weight": [16]}},
                     "big": {"type": "Vec", "params": {"weight": [2000000]}}}}, "seed": 1},
}
for name, doc in extra.items():
    write(name, doc)
