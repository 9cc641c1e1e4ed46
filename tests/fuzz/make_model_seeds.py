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

for i, example in enumerate(sorted((top / "examples").glob("*.json"))):
    doc = {"model": json.loads(example.read_text()), "seed": i}
    if i % 2:
        doc["rng_profile"] = "default"
    write("example_" + example.stem, doc)
