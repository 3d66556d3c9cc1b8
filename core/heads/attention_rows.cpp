#include "core/heads/attention_rows.h"

#include "core/io/safetensors.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

namespace fovea::heads_detail {

namespace {

// All 65,536 float16 values as float32, with v ln v (0 for v <= 0 and non-finite v): one lookup
// per value instead of bit fiddling and a logarithm.
struct HalfEntry {
    float value;
    float valueLogValue;
};

const std::vector<HalfEntry>& halfTable() {
    static const std::vector<HalfEntry> table = [] {
        std::vector<HalfEntry> t(65536);
        for (std::size_t i = 0; i < t.size(); ++i) {
            const float v = halfToFloat(std::uint16_t(i));
            t[i].value = v;
            t[i].valueLogValue =
                v > 0.0f && std::isfinite(v) ? float(double(v) * std::log(double(v))) : 0.0f;
        }
        return t;
    }();
    return table;
}

}  // namespace

MaskView::MaskView(const AttentionStack& stack)
    : tokens(stack.tokens.size()), causal(stack.causal) {
    validKey.assign(std::size_t(tokens), 1);
    if (!stack.keyMask.empty()) {
        for (int t = 0; t < tokens && t < int(stack.keyMask.size()); ++t)
            validKey[std::size_t(t)] = stack.keyMask[std::size_t(t)] ? 1 : 0;
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

float fastLog(float x) {
    std::uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    const int exponent = int((bits >> 23) & 255u) - 127;
    bits = (bits & 0x7FFFFFu) | 0x3F800000u;
    float m;
    std::memcpy(&m, &bits, sizeof m);
    // ln m = 2 atanh(t), t = (m - 1) / (m + 1) in [0, 1/3): the series to t^9 is within 1e-5.
    const float t = (m - 1.0f) / (m + 1.0f);
    const float t2 = t * t;
    const float series =
        t *
        (2.0f + t2 * (2.0f / 3.0f + t2 * (2.0f / 5.0f + t2 * (2.0f / 7.0f + t2 * (2.0f / 9.0f)))));
    return float(exponent) * 0.69314718f + series;
}

float readRow(const AttentionLayer& layer, int slot, int q, const MaskView& mask, float* out,
              double* entropy) {
    const int n = mask.tokens;
    const int end = mask.keyEnd(q);
    const std::size_t offset =
        (std::size_t(slot) * std::size_t(n) + std::size_t(q)) * std::size_t(n);
    const unsigned char* valid = mask.validKey.data();
    float sum = 0.0f, xlogx = 0.0f;
    if (layer.precision == AttentionPrecision::Float16) {
        const HalfEntry* table = halfTable().data();
        const std::uint16_t* in = layer.halfValues.data() + offset;
        for (int k = 0; k < end; ++k) {
            const HalfEntry& e = table[in[k]];
            const bool keep = valid[k] && e.value > 0.0f;  // negative only from corrupt input
            out[k] = keep ? e.value : 0.0f;
            sum += out[k];
            xlogx += keep ? e.valueLogValue : 0.0f;
        }
    } else {
        const float* in = layer.floatValues.data() + offset;
        for (int k = 0; k < end; ++k) {
            const bool keep = valid[k] && in[k] > 0.0f;
            out[k] = keep ? in[k] : 0.0f;
            sum += out[k];
        }
        if (entropy != nullptr) {
            for (int k = 0; k < end; ++k) xlogx += out[k] > 0.0f ? out[k] * fastLog(out[k]) : 0.0f;
        }
    }
    std::fill(out + end, out + n, 0.0f);
    if (!(sum > 0.0f)) {
        std::fill(out, out + n, 0.0f);
        if (entropy != nullptr) *entropy = 0.0;
        return 0.0f;
    }
    const float scale = 1.0f / sum;
    for (int k = 0; k < end; ++k) out[k] *= scale;
    if (entropy != nullptr)
        *entropy = std::max(0.0, std::log(double(sum)) - double(xlogx) / double(sum));
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
