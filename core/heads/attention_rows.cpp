#include "core/heads/attention_rows.h"

#include "core/io/safetensors.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace fovea::heads_detail {

namespace {

// All 65,536 float16 values as float32: one lookup per value instead of bit fiddling.
const std::vector<float>& halfTable() {
    static const std::vector<float> table = [] {
        std::vector<float> t(65536);
        for (std::size_t i = 0; i < t.size(); ++i) t[i] = halfToFloat(std::uint16_t(i));
        return t;
    }();
    return table;
}

}  // namespace

MaskView::MaskView(const AttentionStack& stack) : tokens(stack.tokens.size()), causal(stack.causal) {
    validKey.assign(std::size_t(tokens), 1);
    if (!stack.keyMask.empty()) {
        for (int t = 0; t < tokens && t < int(stack.keyMask.size()); ++t) validKey[std::size_t(t)] = stack.keyMask[std::size_t(t)] ? 1 : 0;
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

float readRow(const AttentionLayer& layer, int slot, int q, const MaskView& mask, float* out) {
    const int n = mask.tokens;
    const int end = mask.keyEnd(q);
    const std::size_t offset = (std::size_t(slot) * std::size_t(n) + std::size_t(q)) * std::size_t(n);
    if (layer.precision == AttentionPrecision::Float16) {
        const float* table = halfTable().data();
        const std::uint16_t* in = layer.halfValues.data() + offset;
        for (int k = 0; k < end; ++k) out[k] = table[in[k]];
    } else {
        const float* in = layer.floatValues.data() + offset;
        std::copy(in, in + end, out);
    }
    std::fill(out + end, out + n, 0.0f);
    const unsigned char* valid = mask.validKey.data();
    float sum = 0.0f;
    for (int k = 0; k < end; ++k) {
        const float v = valid[k] && out[k] > 0.0f ? out[k] : 0.0f;  // negative only from corrupt input
        out[k] = v;
        sum += v;
    }
    if (!(sum > 0.0f)) {
        std::fill(out, out + n, 0.0f);
        return 0.0f;
    }
    const float scale = 1.0f / sum;
    for (int k = 0; k < end; ++k) out[k] *= scale;
    return sum;
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
