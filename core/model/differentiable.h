// Internal (core .cpp files only): what the model-level explainers (the CAM family, input
// gradients, integrated gradients, occlusion, RISE) need from a network, whatever its family.
//
//     DifferentiableModel* net = model.differentiable();      // nullptr: not supported
//     FeatureTap tap;
//     tap.layer = net->defaultFeatureLayer();                 // ViT: input of the last block's norm1
//     at::Tensor logits = net->logits(pixels, &tap);          // pixels [B, C, H, W] on net->device()
//     at::Tensor grads = torch::autograd::grad({logits.select(1, c).sum()}, {tap.features})[0];
//
// Feature maps always come back as a grid [B, channels, rows, cols]: a CNN stage's output as is,
// a ViT's patch tokens (prefix tokens dropped) reshaped to the patch grid. The grid tensor is part
// of the autograd graph, so gradients can be taken with respect to it, and `replace` lets a
// caller substitute it (Score-CAM-style ablations and tests that probe the tap).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <functional>
#include <string>

namespace fovea {

struct FeatureTap {
    int layer = -1;        // which feature layer to expose; -1: none
    at::Tensor features;   // filled by logits(): [B, channels, rows, cols]
    // Optional: called with the grid before the network goes on; what it returns is used in its
    // place (must keep the shape).
    std::function<at::Tensor(const at::Tensor&)> replace;
};

class DifferentiableModel {
public:
    virtual ~DifferentiableModel() = default;
    virtual c10::Device device() const = 0;
    // pixels [B, C, H, W], normalised, on device() -> logits [B, classes]. Differentiable with
    // respect to the pixels and to tap->features; weights are never updated here.
    virtual at::Tensor logits(const at::Tensor& pixels, FeatureTap* tap = nullptr) = 0;
    // Feature layers a tap can name: 0 .. featureLayerCount() - 1.
    virtual int featureLayerCount() const = 0;
    // The layer the CAM family uses unless told otherwise.
    virtual int defaultFeatureLayer() const = 0;
    // What a layer is, in the checkpoint's own names ("blocks.11.norm1 (input)", "layer4").
    virtual std::string featureLayerName(int layer) const = 0;
};

}  // namespace fovea
