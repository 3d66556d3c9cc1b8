// Internal to core/heads: reading attention rows as float32 (through row_kernels.h)
// with the model's masks applied, and running work over heads on a few threads.
#pragma once

#include "core/model/attention_stack.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace fovea::heads_detail {

// Which positions are real queries and which keys query q may see.
struct MaskView {
    int tokens = 0;
    bool causal = false;
    std::vector<unsigned char> validKey;  // per position (padding = 0)
    std::vector<std::uint32_t> keyBits;   // the same as all-ones / zero bits, padded for SIMD
    bool allValid = true;                 // no padding: every key valid
    std::vector<int> visibleKeys;  // per query: number of keys it may see (0 for padding queries)
    explicit MaskView(const AttentionStack& stack);
    bool validQuery(int q) const { return validKey[std::size_t(q)] != 0; }
    int keyEnd(int q) const { return causal ? q + 1 : tokens; }  // keys at or after are never seen
};

// Row q of head `slot`, masked keys set to 0 and the row scaled to sum 1 over visible keys.
// Returns the row's sum before scaling (0: nothing to read; the row is left all zero). With
// `entropy`, also the row's entropy in nats after scaling, from H = ln s - (1/s) sum a ln a over
// the raw values a (row_kernels.h).
float readRow(const AttentionLayer& layer, int slot, int q, const MaskView& mask, float* out,
              double* entropy = nullptr);

// Calls work(job) for job = 0..jobs-1 on up to `threads` threads (0: all cores); exceptions are
// rethrown on the caller's thread.
void parallelFor(int jobs, int threads, const std::function<void(int job, int worker)>& work);
int workerCount(int jobs, int threads);

}  // namespace fovea::heads_detail
