#!/usr/bin/env python3
"""Writes the ResNet fixtures of tests/model/test_resnet.cpp: tiny random ResNets whose outputs
PyTorch itself computes, with torch.nn.functional ops (conv2d, batch_norm in eval mode, relu,
max_pool2d, adaptive_avg_pool2d, linear) following He et al. (2016) and torchvision's /
transformers' block definitions. A second reference beside the test's own plain loops.

Each folder holds model.safetensors (written by the few lines below, no safetensors package
needed), config.json where the layout has one, input_tensor.npy [1,3,H,W] and expected_*.npy:
logits and the output of the stem (after max pooling) and of every stage.

Run from this folder: /usr/bin/python3 make_reference.py (torch 1.13 and numpy; no torchvision)."""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F


def write_safetensors(path, tensors):
    """8-byte little-endian header length, the JSON header (padded with spaces to 8 bytes), data."""
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        array = tensor.detach().cpu().contiguous().numpy()
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[array.dtype]
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt", "producer": "tests/data/resnet/make_reference.py"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for raw in blobs:
            out.write(raw)


class Net:
    """A ResNet as a list of named tensors plus the rules to run it."""

    def __init__(self, bottleneck, blocks, widths, stem, classes, first_stride, stride_on_first, seed):
        torch.manual_seed(seed)
        self.bottleneck, self.blocks = bottleneck, blocks
        self.first_stride, self.stride_on_first = first_stride, stride_on_first
        self.stem = self.conv_bn(3, stem, 7, last=False)
        self.stages = []
        channels = stem
        for s, (count, out) in enumerate(zip(blocks, widths)):
            stage = []
            for b in range(count):
                stride = (first_stride if s == 0 else 2) if b == 0 else 1
                block = {"stride": stride}
                if bottleneck:
                    inner = out // 4
                    block["convs"] = [self.conv_bn(channels, inner, 1, False), self.conv_bn(inner, inner, 3, False),
                                      self.conv_bn(inner, out, 1, True)]
                else:
                    block["convs"] = [self.conv_bn(channels, out, 3, False), self.conv_bn(out, out, 3, True)]
                block["shortcut"] = self.conv_bn(channels, out, 1, False) if stride != 1 or channels != out else None
                stage.append(block)
                channels = out
            self.stages.append(stage)
        bound = 1.0 / math.sqrt(channels)
        self.fc_weight = (torch.rand(classes, channels) * 2 - 1) * bound
        self.fc_bias = (torch.rand(classes) * 2 - 1) * bound

    @staticmethod
    def conv_bn(cin, cout, k, last):
        return {
            "weight": torch.randn(cout, cin, k, k) * math.sqrt(2.0 / (cout * k * k)),
            "bn_weight": torch.rand(cout) * 0.2 + 0.1 if last else torch.rand(cout) + 0.5,
            "bn_bias": torch.randn(cout) * 0.1,
            "running_mean": torch.randn(cout) * 0.1,
            "running_var": torch.rand(cout) + 0.5,
        }

    @staticmethod
    def apply(x, c, stride):
        k = c["weight"].shape[-1]
        x = F.conv2d(x, c["weight"], None, stride, k // 2)
        return F.batch_norm(x, c["running_mean"], c["running_var"], c["bn_weight"], c["bn_bias"], False, 0.0, 1e-5)

    def forward(self, x):
        features = []
        x = F.max_pool2d(F.relu(self.apply(x, self.stem, 2)), 3, 2, 1)
        features.append(x)
        for stage in self.stages:
            for block in stage:
                stride, convs = block["stride"], block["convs"]
                if self.bottleneck:
                    strides = [stride, 1, 1] if self.stride_on_first else [1, stride, 1]
                else:
                    strides = [stride, 1]
                branch = x
                for i, (c, s) in enumerate(zip(convs, strides)):
                    branch = self.apply(branch, c, s)
                    if i + 1 < len(convs):
                        branch = F.relu(branch)
                shortcut = x if block["shortcut"] is None else self.apply(x, block["shortcut"], stride)
                x = F.relu(branch + shortcut)
            features.append(x)
        logits = F.linear(F.adaptive_avg_pool2d(x, 1).flatten(1), self.fc_weight, self.fc_bias)
        return logits, features

    def named(self, layout, prefix="resnet."):
        out = {}

        def add(conv, norm, c):
            out[conv] = c["weight"]
            for key, name in (("bn_weight", "weight"), ("bn_bias", "bias"), ("running_mean", "running_mean"),
                              ("running_var", "running_var")):
                out[norm + name] = c[key]
            out[norm + "num_batches_tracked"] = torch.tensor(100, dtype=torch.int64)

        hf = layout == "huggingface"
        if hf:
            add(prefix + "embedder.embedder.convolution.weight", prefix + "embedder.embedder.normalization.", self.stem)
        else:
            add("conv1.weight", "bn1.", self.stem)
        for s, stage in enumerate(self.stages):
            for b, block in enumerate(stage):
                p = f"{prefix}encoder.stages.{s}.layers.{b}." if hf else f"layer{s + 1}.{b}."
                for i, c in enumerate(block["convs"]):
                    if hf:
                        add(f"{p}layer.{i}.convolution.weight", f"{p}layer.{i}.normalization.", c)
                    else:
                        add(f"{p}conv{i + 1}.weight", f"{p}bn{i + 1}.", c)
                if block["shortcut"] is not None:
                    if hf:
                        add(p + "shortcut.convolution.weight", p + "shortcut.normalization.", block["shortcut"])
                    else:
                        add(p + "downsample.0.weight", p + "downsample.1.", block["shortcut"])
        out["classifier.1.weight" if hf else "fc.weight"] = self.fc_weight
        out["classifier.1.bias" if hf else "fc.bias"] = self.fc_bias
        return out


def write_fixture(folder, layout, bottleneck, blocks, widths, stem, first_stride=1, stride_on_first=False, seed=0,
                  size=(56, 40)):
    os.makedirs(folder, exist_ok=True)
    net = Net(bottleneck, blocks, widths, stem, 4, first_stride, stride_on_first, seed)
    write_safetensors(os.path.join(folder, "model.safetensors"), net.named(layout))
    if layout == "huggingface":
        labels = ["apple", "bear", "cloud", "drum"]
        config = {
            "architectures": ["ResNetForImageClassification"],
            "model_type": "resnet",
            "num_channels": 3,
            "embedding_size": stem,
            "hidden_sizes": widths,
            "depths": blocks,
            "layer_type": "bottleneck" if bottleneck else "basic",
            "hidden_act": "relu",
            "downsample_in_first_stage": first_stride == 2,
            "downsample_in_bottleneck": stride_on_first,
            "id2label": {str(i): name for i, name in enumerate(labels)},
            "label2id": {name: i for i, name in enumerate(labels)},
        }
        with open(os.path.join(folder, "config.json"), "w") as out:
            json.dump(config, out, indent=2)
    torch.manual_seed(seed + 100)
    pixels = torch.randn(1, 3, *size)
    with torch.no_grad():
        logits, features = net.forward(pixels)
    np.save(os.path.join(folder, "input_tensor.npy"), pixels.numpy())
    np.save(os.path.join(folder, "expected_logits.npy"), logits.numpy())
    for layer, f in enumerate(features):
        np.save(os.path.join(folder, f"expected_features_{layer}.npy"), f.numpy())


if __name__ == "__main__":
    write_fixture("torchvision-basic", "torchvision", False, [1, 1, 1, 1], [4, 8, 8, 8], 4, seed=1)
    write_fixture("hf-bottleneck", "huggingface", True, [1, 2, 1, 1], [8, 16, 16, 16], 4, seed=2)
    # Original ResNet (v1) strides: on the bottleneck's first 1x1, and already in the first stage.
    write_fixture("hf-bottleneck-v1", "huggingface", True, [2, 1, 1], [8, 16, 16], 4, first_stride=2,
                  stride_on_first=True, seed=3, size=(67, 45))
