#include "core/heads/attention_rows.h"

#include "core/heads/row_kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

namespace fovea::heads_detail {

MaskView::MaskView(const AttentionStack& stack)
    : tokens(stack.tokens.size()), causal(stack.causal) {
    validKey.assign(std::size_t(tokens), 1);
    if (!stack.keyMask.empty()) {
        for (int t = 0; t < tokens && t < int(stack.keyMask.size()); ++t)
            validKey[std::size_t(t)] = stack.keyMask[std::size_t(t)] ? 1 : 0;
    }
    keyBits.assign(std::size_t(paddedLength(tokens)), 0u);
    for (int t = 0; t < tokens; ++t) {
        keyBits[std::size_t(t)] = validKey[std::size_t(t)] ? ~0u : 0u;
        allValid = allValid && validKey[std::size_t(t)] != 0;
    }
    visibleKeys.assign(std::size_t(tokens), 0);
    int seen = 0;
    int total = 0;
    for (int t = 0; t < tokens; ++t) total += validKey[std::size_t(t)];
    for (int q = 0; q < tokens; ++q) {
        seen += validKey[std::size_t(q)];
        if (validKey[std::size_t(q)]) visibleKeys[std::size_t(q)] = causal ? seen : total;
    }
}

float readRow(const AttentionLayer& layer, int slot, int q, const MaskView& mask, float* out,
              double* entropy) {
    const int n = mask.tokens;
    const int end = mask.keyEnd(q);
    const std::size_t offset =
        (std::size_t(slot) * std::size_t(n) + std::size_t(q)) * std::size_t(n);
    const RowTotals totals = layer.precision == AttentionPrecision::Float16
                                 ? loadRow(layer.halfValues.data() + offset, std::size_t(end),
                                           mask.keyBits.data(), end, out, entropy != nullptr)
                                 : loadRow(layer.floatValues.data() + offset, std::size_t(end),
                                           mask.keyBits.data(), end, out, entropy != nullptr);
    std::fill(out + end, out + n, 0.0f);
    if (!(totals.sum > 0.0f) || !std::isfinite(totals.sum)) {
        std::fill(out, out + n, 0.0f);
        if (entropy != nullptr) *entropy = 0.0;
        return 0.0f;
    }
    const float scale = 1.0f / totals.sum;
    for (int k = 0; k < end; ++k) out[k] *= scale;
    if (entropy != nullptr)
        *entropy = std::max(0.0, std::log(double(totals.sum)) - double(totals.xlogx) / totals.sum);
    return totals.sum;
}

int workerCount(int jobs, int threads) {
    int count = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, std::min(count, jobs));
}

void parallelFor(int jobs, int threads, const std::function<void(int, int)>& work) {
    const int workers = workerCount(jobs, threads);
    if (workers <= 1) {
        for (int job = 0; job < jobs; ++job) work(job, 0);
        return;
    }
    std::atomic<int> next{0};
    std::exception_ptr failure;
    std::mutex failureMutex;
    auto run = [&](int worker) {
        try {
            for (int job = next++; job < jobs; job = next++) work(job, worker);
        } catch (...) {
            const std::lock_guard<std::mutex> lock(failureMutex);
            if (!failure) failure = std::current_exception();
            next = jobs;
        }
    };
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; ++w) pool.emplace_back(run, w);
    run(0);
    for (auto& thread : pool) thread.join();
    if (failure) std::rethrow_exception(failure);
}

}  // namespace fovea::heads_detail
