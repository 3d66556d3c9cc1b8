#include "core/explain/head_patterns.h"

#include "core/util/error.h"

#include <random>

namespace fovea {

std::vector<float> headDetectionPattern(HeadPattern pattern, const std::vector<std::int64_t>& ids) {
    const int n = int(ids.size());
    std::vector<float> out(std::size_t(n) * n, 0.0f);
    for (int q = 0; q < n; ++q) {
        for (int k = 0; k < n; ++k) {
            bool on = false;
            switch (pattern) {
                case HeadPattern::PreviousToken: on = k == q - 1; break;
                case HeadPattern::DuplicateToken: on = k < q && ids[std::size_t(k)] == ids[std::size_t(q)]; break;
                case HeadPattern::Induction: on = k >= 1 && k - 1 < q && ids[std::size_t(k - 1)] == ids[std::size_t(q)]; break;
            }
            out[std::size_t(q) * n + k] = on ? 1.0f : 0.0f;
        }
    }
    return out;
}

float headPatternScore(const std::vector<float>& attention, const std::vector<float>& pattern, int tokens, bool patternRowsOnly) {
    if (attention.size() != std::size_t(tokens) * tokens || pattern.size() != attention.size()) {
        throw Error("head pattern score: attention and pattern must both be " + std::to_string(tokens) + "x" + std::to_string(tokens));
    }
    double hit = 0.0, total = 0.0;
    for (int q = 0; q < tokens; ++q) {
        double rowHit = 0.0, rowTotal = 0.0, rowPattern = 0.0;
        for (int k = 0; k < tokens; ++k) {
            const std::size_t i = std::size_t(q) * tokens + k;
            rowHit += double(attention[i]) * pattern[i];
            rowTotal += attention[i];
            rowPattern += pattern[i];
        }
        if (patternRowsOnly && rowPattern == 0.0) continue;
        hit += rowHit;
        total += rowTotal;
    }
    return total > 0.0 ? float(hit / total) : 0.0f;
}

HeadPatternScores scoreHeadPatterns(const AttentionStack& stack, const std::vector<std::int64_t>& ids) {
    const int n = int(ids.size());
    if (stack.tokens.size() != n) {
        throw Error("head pattern scores: the attention covers " + std::to_string(stack.tokens.size()) + " tokens, the ids " +
                    std::to_string(n));
    }
    const std::vector<float> previous = headDetectionPattern(HeadPattern::PreviousToken, ids);
    const std::vector<float> duplicate = headDetectionPattern(HeadPattern::DuplicateToken, ids);
    const std::vector<float> induction = headDetectionPattern(HeadPattern::Induction, ids);
    HeadPatternScores scores;
    for (const AttentionLayer& layer : stack.layers) {
        scores.layers.push_back(layer.layer);
        std::vector<float> p(std::size_t(stack.modelHeads), 0.0f), d = p, ind = p, pr = p, ir = p;
        for (std::size_t slot = 0; slot < layer.heads.size(); ++slot) {
            const std::vector<float> a = layer.matrix(int(slot));
            const std::size_t h = std::size_t(layer.heads[slot]);
            p[h] = headPatternScore(a, previous, n);
            d[h] = headPatternScore(a, duplicate, n);
            ind[h] = headPatternScore(a, induction, n);
            pr[h] = headPatternScore(a, previous, n, true);
            ir[h] = headPatternScore(a, induction, n, true);
        }
        scores.previousToken.push_back(p);
        scores.duplicateToken.push_back(d);
        scores.induction.push_back(ind);
        scores.previousTokenRows.push_back(pr);
        scores.inductionRows.push_back(ir);
    }
    return scores;
}

std::vector<std::int64_t> repeatedRandomSequence(int half, int vocab, std::uint64_t seed, std::int64_t bos) {
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<std::int64_t> draw(0, vocab - 1);
    std::vector<std::int64_t> r;
    while (int(r.size()) < half) {
        const std::int64_t id = draw(random);
        if (id != bos) r.push_back(id);
    }
    std::vector<std::int64_t> out;
    if (bos >= 0) out.push_back(bos);
    out.insert(out.end(), r.begin(), r.end());
    out.insert(out.end(), r.begin(), r.end());
    return out;
}

}  // namespace fovea
