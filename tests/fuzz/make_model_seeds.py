#!/usr/bin/env python3
"""Writes the fuzz_model seed corpus (corpus/model/) from the golden cases
(tests/data/cases/*/model.json with init_cfg and seed from args.json),
examples/*.json (the full-size ones shrunk), the model error cases
(tests/data/model_errors/, tests/data/tie/) and hand-made version 2
models, as the harness's input document {"model", "init_cfg", "seed",
"rng_profile", "init_twice", "dtype", "format", "max_shard"}.  The save
options ("dtype", "format", "max_shard": --dtype, -o's extension,
--max-shard-size) take turns over the golden cases, so that every
combination starts from valid models."""
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


# --dtype, -o NAME.safetensors or .pth, --max-shard-size (as an int of
# bytes or as the option's text): each golden case gets the next one.
SAVE = [{}, {"dtype": "bf16"}, {"dtype": "f16", "format": "pth"}, {"format": "pth"},
        {"max_shard": 64}, {"max_shard": "1KiB", "format": "pth", "dtype": "bf16"},
        {"max_shard": 200, "dtype": "f16"}]

for i, case in enumerate(sorted((top / "tests/data/cases").iterdir())):
    model = json.loads((case / "model.json").read_text())
    args = json.loads((case / "args.json").read_text())
    doc = {"model": model}
    if "init_cfg" in args:
        doc["init_cfg"] = args["init_cfg"]
    doc["seed"] = int64(args.get("seed", 0))
    if args.get("init_twice"):
        doc["init_twice"] = True
    doc.update(SAVE[i % len(SAVE)])
    write(case.name, doc)

# Every model error case (one error each, the fuzzer's way into each check)
# and the tie cases.
# The model's text is spliced in as it is, so that a duplicate key stays
# one; a file that is not JSON at all has no place in the document.
for case in sorted((top / "tests/data/model_errors").iterdir()):
    text = (case / "model.json").read_text().strip()
    try:
        json.loads(text)
    except ValueError:
        continue
    (out / f"merr_{case.name}.json").write_text('{"model":' + text + "}\n")
for model in sorted((top / "tests/data/tie").glob("**/model.json")):
    name = "tie_" + "_".join(model.parent.relative_to(top / "tests/data/tie").parts)
    write(name, {"model": json.loads(model.read_text()), "seed": 7, "format": "pth",
                 "max_shard": 900})

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

# The full-size examples shrunk (every size divided by 96, at least 1, so
# equal sizes stay equal; every repeat at most 2): the same definitions,
# tie, order, names and drawn parameters at a few KB.
SIZES = {"in_features", "out_features", "num_embeddings", "embedding_dim", "in_channels",
         "out_channels", "num_features", "normalized_shape"}


def shrink(node):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in SIZES and isinstance(v, int):
                out[k] = max(1, v // 96)
            elif k == "shape" and isinstance(v, list):
                out[k] = [max(1, d // 96) for d in v]
            elif k == "repeat" and isinstance(v, int):
                out[k] = min(v, 2)
            else:
                out[k] = shrink(v)
        return out
    if isinstance(node, list):
        return [shrink(v) for v in node]
    return node


for i, stem in enumerate(["gpt2-small", "llama-7b", "resnet50", "vit-b16"]):
    model = shrink(json.loads((top / "examples" / f"{stem}.json").read_text()))
    doc = {"model": model, "seed": i}
    doc.update(SAVE[(i * 2 + 1) % len(SAVE)])
    write("small_" + stem, doc)

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
# Version 2 as written by hand: every key and init kind, a use that
# replaces keys of a definition that uses another, nested repeats,
# clone of a repeat 0, order across params and children, ties, and the
# save options.
LIN = {"type": "Linear", "in_features": 3, "out_features": 2}
v2 = {
    "v2_params_every_init": {"model": {"type": "Net", "params": {
        "z": [2], "zeros": {"shape": [2], "init": "zeros"}, "ones": {"shape": [1, 2], "init": "ones"},
        "full": {"shape": [3], "init": {"full": -1.5}}, "fint": {"shape": [], "init": {"full": 7}},
        "randn": {"shape": [2, 3], "init": {"randn": {"mul": 0.02}}},
        "randn16": {"shape": [16], "init": {"randn": {"mul": 3}}},
        "randn_plain": {"shape": [5], "init": {"randn": {}}},
        "rand": {"shape": [4], "init": {"rand": {"mul": -2}}},
        "rand17": {"shape": [17], "init": {"rand": {}}},
        "empty": {"shape": [0, 4], "init": {"randn": {"mul": 1e30}}}}},
        "seed": 11, "dtype": "f16"},
    "v2_definitions_chain": {"model": {"type": "Net", "definitions": {
        "Lin": LIN,
        "Mlp": {"type": "Mlp", "children": {"fc1": {"use": "Lin"},
                                            "fc2": {"use": "Lin", "in_features": 2}}},
        "Block": {"type": "Block", "order": ["mlp", "scale"],
                  "params": {"scale": {"shape": [2], "init": {"full": 0.1}}},
                  "children": {"mlp": {"use": "Mlp"}}}},
        "children": {"b0": {"use": "Block"},
                     "b1": {"use": "Block", "type": "LastBlock",
                            "params": {"scale": {"shape": [2], "init": "ones"}}}},
        "init_cfg": {"type": "Kaiming", "layer": "Linear", "override": {"name": "b1"}}},
        "seed": 4, "format": "pth"},
    "v2_nested_repeat_clone": {"model": {"type": "Net", "children": {
        "stages": {"type": "ModuleList", "repeat": 2, "child": {
            "type": "Sequential", "plain": True, "repeat": 2, "clone": True, "child": LIN}},
        "none": {"type": "ModuleList", "plain": True, "repeat": 0, "clone": True,
                 "child": {"type": "Embedding", "num_embeddings": 3, "embedding_dim": 2}}},
        "init_cfg": {"type": "Normal", "std": 0.5, "layer": "Linear"}},
        "seed": 2, "dtype": "bf16", "rng_profile": "default", "max_shard": 40},
    "v2_order_repeat": {"model": {"type": "Enc", "repeat": 3, "child": {"use": "L"},
                                  "order": ["2", "pos", "0", "1"],
                                  "params": {"pos": {"shape": [1, 4], "init": {"randn": {"mul": 0.02}}}},
                                  "definitions": {"L": LIN}},
                        "init_cfg": [{"type": "TruncNormal", "std": 0.02, "names": ["pos"]},
                                     {"type": "Constant", "val": 1, "names": ["**.bias"]}],
                        "seed": 5, "format": "pth", "max_shard": "100B"},
    "v2_tie_sharded": {"model": {"type": "TinyLM", "definitions": {"Lin": LIN}, "children": {
        "wte": {"type": "Embedding", "num_embeddings": 2, "embedding_dim": 3},
        "mid": {"use": "Lin"},
        "lm_head": {"type": "Linear", "in_features": 3, "out_features": 2, "bias": False}},
        "tie": {"lm_head.weight": "wte.weight", "mid.weight": "wte.weight"}},
        "seed": 9, "dtype": "bf16", "max_shard": 8},
    "v2_tie_pth_f16": {"model": {"type": "TinyLM", "children": {
        "wte": {"type": "Embedding", "num_embeddings": 5, "embedding_dim": 2},
        "lm_head": {"type": "Linear", "in_features": 2, "out_features": 5}},
        "tie": {"lm_head.weight": "wte.weight"}},
        "seed": 1, "dtype": "f16", "format": "pth", "max_shard": 24},
    "v2_use_root": {"model": {"use": "Root", "definitions": {
        "Root": {"type": "Root", "repeat": 2, "child": {"type": "Vec", "params": {
            "w": {"shape": [3], "init": {"rand": {"mul": 4}}}}}}}},
        "init_cfg": {"type": "Uniform", "a": -1, "b": 1, "names": ["*.w"]}},
}
extra.update(v2)


# Chains of definitions at the documented depth limit (64) and one past
# it, written in dependency order and reversed: the check must not depend
# on key order (issue 16), and a mutation away is a chain deep enough to
# test the builder's recursion.
def chain(n, reverse):
    defs = {"D0": LIN}
    for i in range(1, n):
        defs[f"D{i}"] = {"type": "M", "children": {"c": {"use": f"D{i - 1}"}}}
    if reverse:
        defs = dict(reversed(list(defs.items())))
    return {"model": {"type": "Net", "definitions": defs,
                      "children": {"x": {"use": f"D{n - 1}"}}}}


for n in (64, 65):
    extra[f"v2_definitions_chain_{n}"] = chain(n, False)
    extra[f"v2_definitions_chain_{n}_reversed"] = chain(n, True)

for name, doc in extra.items():
    write(name, doc)
