// Internal to core/heads: reading attention rows as float32 quickly (float16 through a table)
// with the model's masks applied, and running work over heads on a few threads.
#pragma once

#include "core/model/attention_stack.h"

#include <functional>
#include <vector>

namespace fovea::heads_detail {

// Which positions are real queries and which keys query q may see.
struct MaskView {
    int tokens = 0;
    bool causal = false;
    std::vector<unsigned char> validKey;  // per position (padding = 0)
    std::vector<int> visibleKeys;         // per query: number of keys it may see (0 for padding queries)
    explicit MaskView(const AttentionStack& stack);
    bool validQuery(int q) const { return validKey[std::size_t(q)] != 0; }
    int keyEnd(int q) const { return causal ? q + 1 : tokens; }  // keys at or after are never seen
};

// Row q of head `slot`, masked keys set to 0 and the row scaled to sum 1 over visible keys.
// Returns the row's sum before scaling (0: nothing to read; the row is left all zero).
float readRow(const AttentionLayer& layer, int slot, int q, const MaskView& mask, float* out);

// Calls work(job) for job = 0..jobs-1 on up to `threads` threads (0: all cores); exceptions are
// rethrown on the caller's thread.
void parallelFor(int jobs, int threads, const std::function<void(int job, int worker)>& work);
int workerCount(int jobs, int threads);

}  // namespace fovea::heads_detail
