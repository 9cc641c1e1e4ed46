#!/usr/bin/env python3
"""Rewrites the torch golden files (tests/data/rng/<profile>/*.json) as the
plain text tests/musl/conformance.c reads, so that program needs no JSON
library.  Nothing is computed here: ops, arguments (doubles as exact C99
hex floats) and each output's sha256 are copied as they are.  The same for
PyPI torch 2.0.0's answers to those ops (tests/data/torch2/2.0.0/CAP/rng,
the torch2.0-* profiles), with the sha256 of erfinv_cr.json where MKL's
erfinv is not correctly rounded (torch 2.0.0 with a correctly rounded one),
and torch 2.12.0's and 2.15.0's (the torch2.12-* and torch2.13-* profiles).

    python3 tests/musl/convert_golden.py    # rewrites tests/musl/data/*.txt
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data', 'rng')
TORCH2 = os.path.join(HERE, '..', 'data', 'torch2', '2.0.0')
FILES = ['mt19937', 'uniform', 'normal', 'trunc_normal', 'init_functions',
         'sequences', 'layers']


def f(v):
    return float(v).hex()


def shape(s):
    return ' '.join([str(len(s))] + [str(d) for d in s])


def op_line(op):
    name = op['op']
    if name == 'manual_seed':
        return 'seed %d' % (op['seed'] % 2**64)
    if name == 'random_int64':
        return 'op random_int64 %d' % op['n']
    if name == 'uniform_':
        return 'op uniform_ %s %s %s' % (shape(op['shape']), f(op['from']), f(op['to']))
    if name == 'normal_':
        return 'op normal_ %s %s %s' % (shape(op['shape']), f(op['mean']), f(op['std']))
    if name == 'trunc_normal_':
        return 'op trunc_normal_ %s %s %s %s %s' % (
            shape(op['shape']), f(op['mean']), f(op['std']), f(op['a']), f(op['b']))
    if name in ('xavier_uniform_', 'xavier_normal_'):
        return 'op %s %s %s' % (name, shape(op['shape']), f(op['gain']))
    if name in ('kaiming_uniform_', 'kaiming_normal_'):
        return 'op %s %s %s %s %s' % (name, shape(op['shape']), f(op['a']),
                                      op['mode'], op['nonlinearity'])
    if name == 'nn.Linear':
        return 'layer Linear %d %d %d' % (op['in_features'], op['out_features'],
                                          op.get('bias', True))
    if name in ('nn.Conv2d', 'nn.ConvTranspose2d'):
        k = op['kernel_size']
        k = k if isinstance(k, list) else [k, k]
        return 'layer %s %d %d %s %d %d' % (name[3:], op['in_channels'],
                                            op['out_channels'], shape(k),
                                            op.get('groups', 1), op.get('bias', True))
    if name == 'nn.Embedding':
        p = op.get('padding_idx')
        return 'layer Embedding %d %d %s' % (op['num_embeddings'], op['embedding_dim'],
                                             'none' if p is None else str(p))
    if name == 'nn.BatchNorm2d':
        return 'layer BatchNorm2d %d' % op['num_features']
    if name == 'nn.LayerNorm':
        s = op['normalized_shape']
        return 'layer LayerNorm %s' % shape(s if isinstance(s, list) else [s])
    if name == 'nn.GroupNorm':
        return 'layer GroupNorm %d %d' % (op['num_groups'], op['num_channels'])
    if name == 'nn.MultiheadAttention':
        e = op['embed_dim']
        return 'layer MultiheadAttention %d %d %d %d %d %d' % (
            e, op['num_heads'], op.get('bias', True), op.get('add_bias_kv', False),
            op.get('kdim') or e, op.get('vdim') or e)
    raise SystemExit('unknown op %r' % name)


def convert(src, target, overrides=None):
    lines = ['# tests/musl/convert_golden.py from %s; do not edit'
             % os.path.relpath(src, os.path.join(HERE, '..', '..'))]
    for name in FILES:
        with open(os.path.join(src, name + '.json')) as fh:
            doc = json.load(fh)
        sha = {(o['case'], o['output']): o['sha256']
               for o in (overrides or {}).get(name + '.json', [])}
        lines.append('file %s.json' % name)
        for c, case in enumerate(doc['cases']):
            lines.append('case %s' % case['name'].replace(' ', '_'))
            lines.extend(op_line(op) for op in case['ops'])
            for o, out in enumerate(case['outputs']):
                lines.append('out %d %s %s %s %d %s' % (
                    out['op_index'], out['name'], out['dtype'], shape(out['shape']),
                    out['numel'], sha.pop((c, o), out['sha256'])))
            lines.append('end')
        assert not sha, 'overrides without an output: %r' % sha
    os.makedirs(os.path.join(HERE, 'data'), exist_ok=True)
    with open(os.path.join(HERE, 'data', target + '.txt'), 'w') as fh:
        fh.write('\n'.join(lines) + '\n')


for p in ('x86_avx2', 'x86_default'):
    convert(os.path.join(DATA, p), p)
for cap in ('avx2', 'default'):
    with open(os.path.join(TORCH2, cap, 'erfinv_cr.json')) as fh:
        cr = json.load(fh)['rng']
    convert(os.path.join(TORCH2, cap, 'rng'), 'torch2.0-' + cap, cr)
# The torch 2.12+ profiles: torch.nn.init.trunc_normal_ has no erfinv there.
for release, cap, profile in (('2.15.0', 'avx2', 'torch2.12-avx2'),
                              ('2.12.0', 'default', 'torch2.12-default'),
                              ('2.15.0', 'default', 'torch2.13-default')):
    convert(os.path.join(TORCH2, '..', release, cap, 'rng'), profile)
