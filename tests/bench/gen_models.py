#!/usr/bin/env python3
"""Writes the model files of the large-model benchmarks (bench_large.sh) in
weightinit's model format (docs/model-format.md).  Python 3 standard library
only; the files are several MB of JSON, so they are generated, not committed.

  gen_models.py gpt2  [--layers 48] [--width 1600] [--vocab 50257]
                      [--context 1024] -o FILE
  gen_models.py llama [--layers 32] [--hidden 4096] [--mlp 11008]
                      [--vocab 32000] -o FILE
  gen_models.py ... --params      print the parameter count and the bytes of
                                  float32 data instead of writing a file

gpt2: Hugging Face's GPT2Model names (wte, wpe, h.N.ln_1, h.N.attn.c_attn,
h.N.attn.c_proj, h.N.ln_2, h.N.mlp.c_fc, h.N.mlp.c_proj, ln_f), with
nn.Linear where HF has its Conv1D (weight (out, in) instead of (in, out);
the same numbers of parameters), and the init_cfg of GPT-2's _init_weights
written the MMEngine way: Normal(std=0.02) on every Linear and Embedding,
biases 0; LayerNorms keep their default ones/zeros.

llama: LlamaForCausalLM's names (model.embed_tokens, model.layers.N.
self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj, input_layernorm,
post_attention_layernorm, model.norm, lm_head), no biases; LlamaRMSNorm is a
plain custom module with one raw parameter `weight` (created as zeros) that
Constant(val=1, layer="RMSNorm") sets to 1, as MMEngine's constant_init sets
any module's `weight`.

Every node except the root is a plain module (nn.Module, no init_cfg of its
own), as in HF; the root is a BaseModule holding the init_cfg.  The same
models in torch.nn: torch_large.py.
"""
import argparse
import json
import sys


def linear(n_in, n_out, bias=True):
    node = {"type": "Linear", "in_features": n_in, "out_features": n_out}
    if not bias:
        node["bias"] = False
    return node


def plain(type_, children=None, params=None):
    node = {"type": type_, "plain": True}
    if params is not None:
        node["params"] = params
    if children is not None:
        node["children"] = children
    return node


def gpt2(a):
    w = a.width
    block = lambda: plain("GPT2Block", {
        "ln_1": {"type": "LayerNorm", "normalized_shape": w},
        "attn": plain("GPT2Attention", {
            "c_attn": linear(w, 3 * w),
            "c_proj": linear(w, w)}),
        "ln_2": {"type": "LayerNorm", "normalized_shape": w},
        "mlp": plain("GPT2MLP", {
            "c_fc": linear(w, 4 * w),
            "c_proj": linear(4 * w, w)}),
    })
    return {
        "type": "GPT2Model",
        "init_cfg": [{"type": "Normal", "layer": ["Linear", "Embedding"],
                      "std": 0.02, "bias": 0}],
        "children": {
            "wte": {"type": "Embedding", "num_embeddings": a.vocab,
                    "embedding_dim": w},
            "wpe": {"type": "Embedding", "num_embeddings": a.context,
                    "embedding_dim": w},
            "h": plain("ModuleList",
                       {str(i): block() for i in range(a.layers)}),
            "ln_f": {"type": "LayerNorm", "normalized_shape": w},
        },
    }


def gpt2_params(a):
    w = a.width
    per_layer = 2 * 2 * w + (w * 3 * w + 3 * w) + (w * w + w) \
        + (w * 4 * w + 4 * w) + (4 * w * w + w)
    return a.vocab * w + a.context * w + a.layers * per_layer + 2 * w


def llama(a):
    h, m = a.hidden, a.mlp
    rms = lambda: plain("RMSNorm", params={"weight": [h]})
    layer = lambda: plain("LlamaDecoderLayer", {
        "self_attn": plain("LlamaAttention", {
            name: linear(h, h, bias=False)
            for name in ("q_proj", "k_proj", "v_proj", "o_proj")}),
        "mlp": plain("LlamaMLP", {
            "gate_proj": linear(h, m, bias=False),
            "up_proj": linear(h, m, bias=False),
            "down_proj": linear(m, h, bias=False)}),
        "input_layernorm": rms(),
        "post_attention_layernorm": rms(),
    })
    return {
        "type": "LlamaForCausalLM",
        "init_cfg": [{"type": "Normal", "layer": ["Linear", "Embedding"],
                      "std": 0.02, "bias": 0},
                     {"type": "Constant", "layer": "RMSNorm", "val": 1}],
        "children": {
            "model": plain("LlamaModel", {
                "embed_tokens": {"type": "Embedding", "num_embeddings": a.vocab,
                                 "embedding_dim": h},
                "layers": plain("ModuleList",
                                {str(i): layer() for i in range(a.layers)}),
                "norm": rms(),
            }),
            "lm_head": linear(h, a.vocab, bias=False),
        },
    }


def llama_params(a):
    h, m = a.hidden, a.mlp
    per_layer = 4 * h * h + 3 * h * m + 2 * h
    return 2 * a.vocab * h + a.layers * per_layer + h


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="model", required=True)
    g = sub.add_parser("gpt2")
    g.add_argument("--layers", type=int, default=48)
    g.add_argument("--width", type=int, default=1600)
    g.add_argument("--vocab", type=int, default=50257)
    g.add_argument("--context", type=int, default=1024)
    l = sub.add_parser("llama")
    l.add_argument("--layers", type=int, default=32)
    l.add_argument("--hidden", type=int, default=4096)
    l.add_argument("--mlp", type=int, default=11008)
    l.add_argument("--vocab", type=int, default=32000)
    for s in (g, l):
        s.add_argument("-o", "--output")
        s.add_argument("--params", action="store_true")
    a = p.parse_args()
    build, count = (gpt2, gpt2_params) if a.model == "gpt2" else \
        (llama, llama_params)
    if a.params:
        n = count(a)
        print(n, 4 * n)
        return 0
    if not a.output:
        p.error("-o FILE is required")
    with open(a.output, "w") as f:
        json.dump(build(a), f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
