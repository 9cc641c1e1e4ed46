#!/usr/bin/env python3
"""`weightinit plan` against closed-form facts (tests/meson.build runs it).

GPT-2 XL as Hugging Face lays it out (nn.Linear projections): the plan
must list its 580 parameters in state_dict order with torch's shapes and
HF's published total of 1,557,611,200, and for every parameter the draws
PyTorch's kernels take: normal_ on n elements takes n draws (plus 16 when
n is not a multiple of 16: the redrawn last block), uniform_ n; the
construction-time kaiming_uniform_/uniform_/normal_ are skipped.  A
misspelt `layer` is flagged with a did-you-mean; --strict makes it exit 2.
Usage: plan_cmd_test.py WEIGHTINIT"""
import json
import os
import subprocess
import sys
import tempfile

exe = sys.argv[1]
L, D, V, C = 48, 1600, 50257, 1024


def lin(i, o):
    return {"type": "Linear", "in_features": i, "out_features": o}


def ln():
    return {"type": "LayerNorm", "normalized_shape": D}


def model(layer="Linear"):
    block = {"type": "Block", "children": {
        "ln_1": ln(), "attn": {"type": "Attention", "children": {"c_attn": lin(D, 3 * D), "c_proj": lin(D, D)}},
        "ln_2": ln(), "mlp": {"type": "MLP", "children": {"c_fc": lin(D, 4 * D), "c_proj": lin(4 * D, D)}}}}
    return {"type": "GPT2", "definitions": {"Block": block}, "children": {
        "wte": {"type": "Embedding", "num_embeddings": V, "embedding_dim": D},
        "wpe": {"type": "Embedding", "num_embeddings": C, "embedding_dim": D},
        "h": {"type": "ModuleList", "plain": True, "repeat": L, "child": {"use": "Block"}},
        "ln_f": ln()},
        "init_cfg": [{"type": "Normal", "layer": [layer, "Embedding"], "std": 0.02, "bias": 0}]}


def expected():
    """(name, shape, construction kind) in torch's state_dict order."""
    out = [("wte.weight", [V, D], "normal"), ("wpe.weight", [C, D], "normal")]
    for i in range(L):
        p = "h.%d." % i
        out += [(p + "ln_1.weight", [D], "ones"), (p + "ln_1.bias", [D], "zeros")]
        for name, i_, o in (("attn.c_attn", D, 3 * D), ("attn.c_proj", D, D)):
            out += [(p + name + ".weight", [o, i_], "kaiming"), (p + name + ".bias", [o], "uniform")]
        out += [(p + "ln_2.weight", [D], "ones"), (p + "ln_2.bias", [D], "zeros")]
        for name, i_, o in (("mlp.c_fc", D, 4 * D), ("mlp.c_proj", 4 * D, D)):
            out += [(p + name + ".weight", [o, i_], "kaiming"), (p + name + ".bias", [o], "uniform")]
    return out + [("ln_f.weight", [D], "ones"), ("ln_f.bias", [D], "zeros")]


def normal_draws(n):  # the fill path (n >= 16, as every tensor here)
    return n + (16 if n % 16 else 0)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "gpt2-xl.json")
    with open(path, "w") as f:
        json.dump(model(), f)
    r = subprocess.run([exe, "plan", path, "--json", "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        fail("plan exit %d: %s" % (r.returncode, r.stderr))
    plan = json.loads(r.stdout)
    params = plan["parameters"]
    want = expected()
    if [p["name"] for p in params] != [w[0] for w in want]:
        fail("names or order differ from torch's state_dict")
    total = 0
    for p, (name, shape, built) in zip(params, want):
        n = 1
        for d in shape:
            n *= d
        total += n
        if p["shape"] != shape or p["numel"] != n:
            fail("%s: shape %s, torch's %s" % (name, p["shape"], shape))
        f = p["final"]
        if name.endswith("weight") and built in ("normal", "kaiming"):
            # init_cfg's normal_ gives the values; construction's draws are skipped
            if f["kind"] != "normal" or f["draws"] != normal_draws(n):
                fail("%s: final %s" % (name, f))
            if f["skipped_draws"] != (normal_draws(n) if built == "normal" else n):
                fail("%s: skipped %d" % (name, f["skipped_draws"]))
            if [w["source"] for w in p["writes"]] != ["construction", "init_cfg[0]"]:
                fail("%s: writes %s" % (name, p["writes"]))
        elif built == "uniform":  # a Linear bias: uniform_ at construction, then constant_(0)
            if f["kind"] != "constant" or f["params"]["value"] != 0 or f["skipped_draws"] != n:
                fail("%s: final %s" % (name, f))
        elif f["draws"] or f["skipped_draws"]:
            fail("%s: LayerNorm parameters draw nothing: %s" % (name, f))
        elif p.get("final_writer", "absent") is not None:  # docs/plan.md: null
            fail("%s: only construction wrote it, final_writer %r" % (name, p.get("final_writer", "absent")))
    if total != 1557611200 or plan["totals"]["elements"] != total:
        fail("total %d, HF's GPT-2 XL has 1,557,611,200" % total)
    if plan["diagnostics"] and any(d["kind"] != "construction-only" for d in plan["diagnostics"]):
        fail("unexpected diagnostics: %s" % plan["diagnostics"][:3])

    # A misspelt layer: a warning with a did-you-mean; --strict: exit 2.
    with open(path, "w") as f:
        json.dump(model("Lnear"), f)
    r = subprocess.run([exe, "plan", path, "--json"], capture_output=True, text=True)
    diags = json.loads(r.stdout)["diagnostics"] if r.returncode == 0 else fail(r.stderr)
    hits = [d for d in diags if d["path"] == "init_cfg[0].layer[0]"]
    if not hits or hits[0]["suggestion"] != "Linear" or "did you mean 'Linear'" not in r.stderr:
        fail("no did-you-mean for Lnear: %s / %s" % (diags[:3], r.stderr[:300]))
    r = subprocess.run([exe, "plan", path, "--strict"], capture_output=True, text=True)
    if r.returncode != 2 or "did you mean 'Linear'" not in r.stderr or r.stdout:
        fail("--strict: exit %d, out %r, err %r" % (r.returncode, r.stdout[:200], r.stderr))
    r = subprocess.run([exe, "plan", path, "-o", os.path.join(tmp, "x.safetensors")],
                       capture_output=True, text=True)
    if r.returncode != 2 or "plan writes no file" not in r.stderr or os.listdir(tmp) != ["gpt2-xl.json"]:
        fail("plan -o: exit %d: %s" % (r.returncode, r.stderr))

# examples/gpt2-xl.json: Hugging Face's GPT2LMHeadModel, lm_head.weight
# tied to transformer.wte.weight after init.  torch's named_parameters()
# lists the shared tensor once: 580 parameters, HF's 1,557,611,200, and
# the tie adds no entry and no draws.  Closed forms from the example's
# init_cfg: Normal(0.02) gives every Linear and Embedding weight (n draws,
# every n a multiple of 16), the `names` Normal redraws both c_proj
# weights (the first Normal's draws skipped), biases and LayerNorms are
# constants; skipped = construction's draws (normal_ for the embeddings,
# kaiming_uniform_ / uniform_ for the Linears) plus the overwritten Normal.
example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "gpt2-xl.json")
r = subprocess.run([exe, "plan", example, "--json", "-q"], capture_output=True, text=True)
plan = json.loads(r.stdout) if r.returncode == 0 else fail("plan %s: %s" % (example, r.stderr))
names = [p["name"] for p in plan["parameters"]]
if len(names) != 580 or "lm_head.weight" in names or names[0] != "transformer.wte.weight":
    fail("gpt2-xl example: %d parameters (lm_head.weight listed: %s), want torch's 580"
         % (len(names), "lm_head.weight" in names))
if plan["ties"] != [{"name": "lm_head.weight", "tensor": "transformer.wte.weight"}]:
    fail("gpt2-xl example: ties %s" % plan["ties"])
block_w = 3 * D * D + D * D + 4 * D * D + 4 * D * D   # c_attn, attn.c_proj, c_fc, mlp.c_proj
block_b = 3 * D + D + 4 * D + D
draws = V * D + C * D + L * block_w
skipped = V * D + C * D + L * (block_w + block_b + D * D + 4 * D * D)
want = {"parameters": 580, "elements": 1557611200, "draws": draws, "skipped_draws": skipped}
if plan["totals"] != want:
    fail("gpt2-xl example: totals %s, want %s" % (plan["totals"], want))
# The text form, on the example cut to one block (a plan of GPT-2 XL
# takes a minute under the sanitizers): the tie on its own line.
with open(example) as f:
    one = json.load(f)
one["children"]["transformer"]["children"]["h"]["repeat"] = 1
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "gpt2-xl-1.json")
    with open(path, "w") as f:
        json.dump(one, f)
    r = subprocess.run([exe, "plan", path, "-q"], capture_output=True, text=True)
lines = r.stdout.splitlines()
draws1 = V * D + C * D + block_w
skipped1 = V * D + C * D + block_w + block_b + D * D + 4 * D * D
if lines[-2:] != ["tie: lm_head.weight is transformer.wte.weight (one tensor, listed once; no draws of its own)",
                  "16 parameters, %d elements; %d draws computed when written, %d skipped (never computed)"
                  % (V * D + C * D + block_w + block_b + 6 * D, draws1, skipped1)] \
        or any(l.startswith("lm_head.weight") for l in lines):
    fail("gpt2-xl example cut to one block, text form: %s" % lines[-2:])
print("plan: GPT-2 XL's 580 parameters, shapes, order and draws as torch's; the tied lm_head once")
