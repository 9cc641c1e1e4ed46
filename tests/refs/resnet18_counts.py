#!/usr/bin/env python3
"""torchvision's ResNet-18 (torchvision.models.resnet18, written out in
plain torch: Debian's python3-torch has no torchvision) and what torch
counts in it: the figures tests/test_cli.c's inspect_counts asserts for
tests/data/models/resnet18.json.  Prints the parameter and buffer element
counts and checks that the state dict's names and shapes are the model
file's, as weightinit writes them.

usage: resnet18_counts.py [STATE.safetensors written by weightinit]"""
import json
import struct
import sys

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False),
                                            nn.BatchNorm2d(out))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        inp = 64
        for i, (out, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], 1):
            setattr(self, "layer%d" % i, nn.Sequential(BasicBlock(inp, out, stride),
                                                       BasicBlock(out, out, 1)))
            inp = out
        self.fc = nn.Linear(512, 1000)


m = ResNet18()
params = sum(p.numel() for p in m.parameters())
buffers = sum(b.numel() for b in m.buffers())
print("parameters", params, "buffers", buffers, "tensors", len(m.state_dict()))
if len(sys.argv) > 1:
    with open(sys.argv[1], "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    ours = [(k, v["shape"]) for k, v in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"])]
    theirs = [(k, list(t.shape)) for k, t in m.state_dict().items()]
    assert ours == theirs, "state dicts differ"
    print("state dict names and shapes equal")
