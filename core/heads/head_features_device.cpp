#include "core/heads/head_features_device.h"

#include "core/explain/head_patterns.h"
#include "core/heads/attention_rows.h"
#include "core/util/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace fovea {

namespace {

// Heads per trip to the device: at most 128, and fewer for long inputs, so that a chunk's rows
// and their temporaries (the kept values, the shares, the sorted copy in double and its running
// sums: about 32 bytes per attention value) stay near 256 MB -- 128 heads at 197 tokens, 8 at
// 1,024.
int chunkHeads(int tokens) {
    const double perHead = 32.0 * double(tokens) * double(tokens);
    return std::clamp(int(256.0 * 1024 * 1024 / perHead), 1, 128);
}

at::Tensor ints(const std::vector<int>& values, const at::Device& device) {
    return at::tensor(std::vector<std::int64_t>(values.begin(), values.end()),
                      at::TensorOptions().dtype(at::kLong))
        .to(device);
}

at::Tensor floats(const std::vector<float>& values, const at::Device& device) {
    return at::tensor(values, at::TensorOptions().dtype(at::kFloat)).to(device);
}

// A [count, n, n] float32 tensor on `device` holding heads [first, first + count) of the layer.
at::Tensor layerHeads(const AttentionLayer& layer, int first, int count, int n,
                      const at::Device& device) {
    const std::size_t offset = std::size_t(first) * std::size_t(n) * std::size_t(n);
    if (layer.precision == AttentionPrecision::Float16) {
        // from_blob does not write; the copy to the device (or the conversion) comes first.
        auto* data = const_cast<std::uint16_t*>(layer.halfValues.data() + offset);
        return at::from_blob(data, {count, n, n}, at::TensorOptions().dtype(at::kHalf))
            .to(device)
            .to(at::kFloat);
    }
    auto* data = const_cast<float*>(layer.floatValues.data() + offset);
    return at::from_blob(data, {count, n, n}, at::TensorOptions().dtype(at::kFloat)).to(device);
}

// What stays fixed for one input: masks and per-query constants as device tensors.
struct InputTensors {
    int n = 0;
    at::Tensor allowed;            // [n, n] bool: q a valid query, k a valid key q may see
    at::Tensor validQuery;         // [n] bool
    at::Tensor inverseLogVisible;  // [n]: 1 / ln(visible keys), 0 below 2 keys
    at::Tensor normalizedQuery;    // [n] bool: >= 2 visible keys
    at::Tensor inverseVisible;     // [n]: 1 / max(1, visible keys)
    at::Tensor previousValid;      // [n - 1] bool: q - 1 a valid key (entry q - 1)
    at::Tensor slots;              // [n * n] long: offset slot, or `offsets` for none
    int offsets = 0;
    at::Tensor duplicate, induction;        // [n, n] float 0/1 (with ids)
    at::Tensor hasDuplicate, hasInduction;  // [n] bool
    bool hasIds = false;
};

InputTensors inputTensors(const AttentionStack& stack, const at::Device& device,
                          const std::vector<std::int64_t>& ids) {
    const heads_detail::MaskView mask(stack);
    InputTensors t;
    const int n = mask.tokens;
    t.n = n;
    std::vector<int> allowed(std::size_t(n) * std::size_t(n), 0), valid(std::size_t(n), 0);
    std::vector<float> inverseLog(std::size_t(n), 0.0f), inverse(std::size_t(n), 0.0f);
    std::vector<int> normalized(std::size_t(n), 0), previous(std::size_t(std::max(0, n - 1)), 0);
    for (int q = 0; q < n; ++q) {
        valid[std::size_t(q)] = mask.validQuery(q) ? 1 : 0;
        for (int k = 0; k < mask.keyEnd(q); ++k) {
            allowed[std::size_t(q) * std::size_t(n) + std::size_t(k)] =
                mask.validQuery(q) && mask.validKey[std::size_t(k)] ? 1 : 0;
        }
        const int visible = mask.visibleKeys[std::size_t(q)];
        if (visible >= 2) {
            inverseLog[std::size_t(q)] = float(1.0 / std::log(visible));
            normalized[std::size_t(q)] = 1;
        }
        inverse[std::size_t(q)] = float(1.0 / std::max(1, visible));
        if (q >= 1) previous[std::size_t(q - 1)] = mask.validKey[std::size_t(q - 1)] ? 1 : 0;
    }
    const auto asBool = [&](const std::vector<int>& v) { return ints(v, device).to(at::kBool); };
    t.allowed = asBool(allowed).view({n, n});
    t.validQuery = asBool(valid);
    t.inverseLogVisible = floats(inverseLog, device);
    t.normalizedQuery = asBool(normalized);
    t.inverseVisible = floats(inverse, device);
    t.previousValid = asBool(previous);
    HeadOffsetSlots slots = headOffsetSlots(stack.tokens);
    t.offsets = slots.count;
    for (int& s : slots.slot) s = s < 0 ? t.offsets : s;  // one slot past the end: dropped
    t.slots = ints(slots.slot, device);
    if (!ids.empty()) {
        t.hasIds = true;
        const std::vector<float> duplicate = headDetectionPattern(HeadPattern::DuplicateToken, ids);
        const std::vector<float> induction = headDetectionPattern(HeadPattern::Induction, ids);
        std::vector<float> d(duplicate.size()), i(induction.size());
        for (std::size_t x = 0; x < d.size(); ++x) {
            d[x] = duplicate[x] > 0.0f ? 1.0f : 0.0f;
            i[x] = induction[x] > 0.0f ? 1.0f : 0.0f;
        }
        t.duplicate = floats(d, device).view({n, n});
        t.induction = floats(i, device).view({n, n});
        t.hasDuplicate = t.duplicate.sum(-1) > 0;
        t.hasInduction = t.induction.sum(-1) > 0;
    }
    return t;
}

// The sums of `count` heads whose rows are v [count, n, n] (raw float32), appended to `out`.
void measureChunk(at::Tensor v, const InputTensors& t, double sparsityMass,
                  std::vector<HeadRowSums>& out) {
    const int n = t.n;
    const std::int64_t count = v.size(0);
    // Kept values: a valid key the query may see, a value > 0 (negative and NaN read as 0).
    v = at::where(t.allowed.unsqueeze(0) & (v > 0), v, at::zeros({}, v.options()));
    const at::Tensor sum = v.sum(-1);  // [count, n]
    const at::Tensor rowOk = t.validQuery.unsqueeze(0) & (sum > 0) & at::isfinite(sum);
    const at::Tensor p =
        at::where(rowOk.unsqueeze(-1), v / sum.unsqueeze(-1), at::zeros({}, v.options()));
    const at::Tensor okFloat = rowOk.to(at::kDouble);

    const at::Tensor entropy = (-at::xlogy(p, p).sum(-1)).clamp_min(0.0).to(at::kDouble) * okFloat;
    const at::Tensor normalizedRows = rowOk & t.normalizedQuery.unsqueeze(0);
    const at::Tensor normalized =
        entropy * t.inverseLogVisible.to(at::kDouble).unsqueeze(0) * normalizedRows.to(at::kDouble);
    const at::Tensor self = p.diagonal(0, -2, -1).to(at::kDouble);
    at::Tensor previous = at::zeros({count}, okFloat.options()), previousRows = previous;
    if (n >= 2) {
        // p[q, q - 1] for q = 1..n-1, where q - 1 is a valid key.
        const at::Tensor rows = rowOk.narrow(1, 1, n - 1) & t.previousValid.unsqueeze(0);
        previous = (p.diagonal(-1, -2, -1).to(at::kDouble) * rows.to(at::kDouble)).sum(-1);
        previousRows = rows.sum(-1).to(at::kDouble);
    }
    // Sparsity: the row sorted descending, summed in double (exact for float16 values); the keys
    // counted until the running sum reaches sparsityMass - 1e-9 of the row's total.
    const at::Tensor sorted = std::get<0>(v.sort(-1, true)).to(at::kDouble);
    const at::Tensor running = sorted.cumsum(-1);
    const at::Tensor total = running.select(-1, n - 1).unsqueeze(-1);
    const at::Tensor counted = ((running - sorted) < (sparsityMass - 1e-9) * total) & (sorted > 0);
    // Rows left out (no mass, or an infinite one) count nothing, NaN sums included.
    const at::Tensor needed =
        at::where(rowOk, counted.sum(-1).to(at::kDouble), at::zeros({}, okFloat.options()));
    const at::Tensor fraction = needed * t.inverseVisible.to(at::kDouble).unsqueeze(0);
    const at::Tensor columnMass = p.sum(1);  // [count, n]
    const at::Tensor offsetMass =
        at::zeros({count, t.offsets + 1}, p.options())
            .index_add_(1, t.slots, p.reshape({count, std::int64_t(n) * n}))
            .narrow(1, 0, t.offsets);

    std::vector<at::Tensor> columns = {entropy.sum(-1),
                                       normalized.sum(-1),
                                       self.mul(okFloat).sum(-1),
                                       previous,
                                       needed.sum(-1),
                                       fraction.sum(-1),
                                       okFloat.sum(-1),
                                       normalizedRows.sum(-1).to(at::kDouble),
                                       previousRows};
    if (t.hasIds) {
        const at::Tensor dupRows = rowOk & t.hasDuplicate.unsqueeze(0);
        const at::Tensor indRows = rowOk & t.hasInduction.unsqueeze(0);
        columns.push_back(
            ((p * t.duplicate.unsqueeze(0)).sum(-1).to(at::kDouble) * dupRows.to(at::kDouble))
                .sum(-1));
        columns.push_back(dupRows.sum(-1).to(at::kDouble));
        columns.push_back(
            ((p * t.induction.unsqueeze(0)).sum(-1).to(at::kDouble) * indRows.to(at::kDouble))
                .sum(-1));
        columns.push_back(indRows.sum(-1).to(at::kDouble));
    }
    const at::Tensor scalars = at::stack(columns, 1).to(at::kCPU).contiguous();
    const at::Tensor columnHost = columnMass.to(at::kCPU).contiguous();
    const at::Tensor offsetHost = offsetMass.to(at::kCPU).contiguous();
    const double* s = scalars.data_ptr<double>();
    const std::int64_t width = scalars.size(1);
    for (std::int64_t h = 0; h < count; ++h) {
        const double* row = s + h * width;
        HeadRowSums sums;
        sums.entropy = row[0];
        sums.normalizedEntropy = row[1];
        sums.self = row[2];
        sums.previous = row[3];
        sums.sparsity = row[4];
        sums.sparsityFraction = row[5];
        sums.queries = int(std::lround(row[6]));
        sums.normalizedRows = int(std::lround(row[7]));
        sums.previousRows = int(std::lround(row[8]));
        if (t.hasIds) {
            sums.duplicate = row[9];
            sums.duplicateRows = int(std::lround(row[10]));
            sums.induction = row[11];
            sums.inductionRows = int(std::lround(row[12]));
        }
        const float* c = columnHost.data_ptr<float>() + h * n;
        sums.columnMass.assign(c, c + n);
        const float* o = offsetHost.data_ptr<float>() + h * t.offsets;
        sums.offsetMass.assign(o, o + t.offsets);
        out.push_back(std::move(sums));
    }
}

}  // namespace

std::vector<HeadRowSums> measureHeadRows(const AttentionStack& stack, const std::string& device,
                                         const HeadFeatureOptions& options,
                                         const std::vector<std::int64_t>& ids) {
    checkHeadInput(stack, ids);
    if (!(options.sparsityMass > 0.0 && options.sparsityMass <= 1.0))
        throw Error("head features: sparsityMass must be in (0, 1]");
    const int n = stack.tokens.size();
    at::Device where = at::kCPU;
    try {
        where = at::Device(device);
    } catch (const std::exception&) {
        throw Error("head features: '" + device + "' is not a device LibTorch knows");
    }
    const InputTensors tensors = inputTensors(stack, where, ids);
    std::vector<HeadRowSums> out;
    // Heads of consecutive layers share a chunk (small layers would mean many small launches).
    std::vector<at::Tensor> pending;
    int pendingHeads = 0;
    auto flush = [&] {
        if (pendingHeads == 0) return;
        measureChunk(pending.size() == 1 ? pending[0] : at::cat(pending), tensors,
                     options.sparsityMass, out);
        pending.clear();
        pendingHeads = 0;
    };
    const int perChunk = chunkHeads(n);
    for (const AttentionLayer& layer : stack.layers) {
        const int heads = int(layer.heads.size());
        for (int first = 0; first < heads;) {
            const int count = std::min(perChunk - pendingHeads, heads - first);
            pending.push_back(layerHeads(layer, first, count, n, where));
            pendingHeads += count;
            first += count;
            if (pendingHeads == perChunk) flush();
        }
    }
    flush();
    return out;
}

}  // namespace fovea
