// The head features' row pass on a LibTorch device: every head of an input at once, as batched
// tensor operations (the rows sorted for the sparsity, the offsets gathered with index_add).
// On a GPU this is the fast way through thousands of heads; on the CPU the hand-written pass of
// HeadFeatureAccumulator::add is faster, and this one serves to check the two against each
// other. Both give the same HeadRowSums up to float rounding (the sparsity here sums the sorted
// row in double against the row's total in double, exact for float16 rows).
//
//     HeadFeatureAccumulator features(options);
//     const std::string device = resolveDevice("auto");       // "cuda:0" where there is one
//     for (const AttentionStack& stack : inputs) {
//         if (device == "cpu") features.add(stack, ids, norms);
//         else features.addMeasured(stack, measureHeadRows(stack, device, options, ids), ids,
//         norms);
//     }
#pragma once

#include "core/heads/head_features.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fovea {

// The row sums of every head of `stack` (layer by layer in stack order, heads in each layer's
// order), computed on `device` ("cpu", "cuda", "cuda:N"; see resolveDevice). ids: the input's
// token ids for DuplicateToken and Induction (text), as in HeadFeatureAccumulator::add. Heads go
// to the device a chunk at a time (up to 128; fewer for long inputs), so that its memory holds
// about 256 MB of rows and temporaries, not the stack.
// Throws fovea::Error for a stack whose values do not match its shape, or a device LibTorch
// cannot use.
std::vector<HeadRowSums> measureHeadRows(const AttentionStack& stack, const std::string& device,
                                         const HeadFeatureOptions& options = {},
                                         const std::vector<std::int64_t>& ids = {});

}  // namespace fovea
