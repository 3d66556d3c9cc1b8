#include "core/heads/planted_heads.h"

#include "core/io/safetensors.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace fovea {


TokenLayout plainTextLayout(const std::vector<std::int64_t>& ids) {
    std::vector<TokenInfo> tokens;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        TokenInfo info;
        info.kind = TokenKind::Text;
        info.modality = Modality::Text;
        info.tokenId = int(ids[i]);
        info.text = "t" + std::to_string(ids[i]);
        tokens.push_back(info);
    }
    return TokenLayout::forText(tokens);
}

std::vector<float> plantedHeadMatrix(PlantedPattern pattern, const TokenLayout& layout, const std::vector<std::int64_t>& ids,
                                     bool causal, double noise, std::uint64_t seed) {
    const int n = layout.size();
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<float> out(std::size_t(n) * std::size_t(n), 0.0f);
    const int cls = layout.firstOf(TokenKind::Cls);
    const int rows = layout.gridRows(), cols = layout.gridCols();
    const bool grid = rows > 0 && cols > 0 && layout.count(TokenKind::Patch) == rows * cols;
    const int sinkToken = grid ? layout.patchIndex(std::min(rows - 1, rows / 2 + 1), cols / 4) : 0;
    std::vector<double> w(static_cast<std::size_t>(n));
    for (int q = 0; q < n; ++q) {
        const int end = causal ? q + 1 : n;
        std::fill(w.begin(), w.end(), 0.0);
        auto uniformRest = [&](double share) {  // spread `share` evenly over the visible keys
            for (int k = 0; k < end; ++k) w[std::size_t(k)] += share / end;
        };
        const TokenInfo& token = layout[q];
        const bool patch = grid && token.kind == TokenKind::Patch;
        switch (pattern) {
            case PlantedPattern::Local:
                if (patch) {
                    for (int k = 0; k < end; ++k) {
                        const TokenInfo& key = layout[k];
                        if (key.kind != TokenKind::Patch) continue;
                        const double d2 = std::pow(key.row - token.row, 2) + std::pow(key.col - token.col, 2);
                        w[std::size_t(k)] = std::exp(-d2 / 2.0);
                    }
                } else if (!grid) {
                    const int from = std::max(0, q - 4);
                    for (int k = from; k < q; ++k) w[std::size_t(k)] = 1.0;
                    if (q == 0) w[0] = 1.0;
                } else {
                    uniformRest(1.0);
                }
                break;
            case PlantedPattern::Global:
                if (patch) {
                    std::vector<std::pair<double, int>> far;
                    for (int k = 0; k < end; ++k) {
                        const TokenInfo& key = layout[k];
                        if (key.kind == TokenKind::Patch) far.push_back({-std::hypot(key.row - token.row, key.col - token.col), k});
                    }
                    std::sort(far.begin(), far.end());
                    for (std::size_t i = 0; i < far.size() && i < 12; ++i) w[std::size_t(far[i].second)] = 1.0;
                } else {
                    uniformRest(1.0);
                }
                break;
            case PlantedPattern::Sink:
                if (sinkToken < end) {
                    w[std::size_t(sinkToken)] += 0.8;
                    uniformRest(0.2);
                } else {
                    uniformRest(1.0);
                }
                break;
            case PlantedPattern::ClsCollector:
                if (cls >= 0 && cls < end) w[std::size_t(cls)] += 0.7;
                uniformRest(cls >= 0 && cls < end ? 0.3 : 1.0);
                break;
            case PlantedPattern::Self:
                w[std::size_t(q)] += 0.9;
                uniformRest(0.1);
                break;
            case PlantedPattern::Row:
            case PlantedPattern::Column:
                if (patch) {
                    for (int k = 0; k < end; ++k) {
                        const TokenInfo& key = layout[k];
                        if (key.kind != TokenKind::Patch || k == q) continue;
                        if (pattern == PlantedPattern::Row ? key.row == token.row : key.col == token.col) w[std::size_t(k)] = 1.0;
                    }
                } else {
                    uniformRest(1.0);
                }
                break;
            case PlantedPattern::Uniform: uniformRest(1.0); break;
            case PlantedPattern::PreviousToken:
                if (q >= 1) {
                    w[std::size_t(q - 1)] += 0.9;
                    uniformRest(0.1);
                } else {
                    uniformRest(1.0);
                }
                break;
            case PlantedPattern::Induction:
            case PlantedPattern::DuplicateToken: {
                int target = -1;
                for (int k = q - 1; k >= 0 && !ids.empty(); --k) {
                    if (ids[std::size_t(k)] != ids[std::size_t(q)]) continue;
                    target = pattern == PlantedPattern::Induction ? k + 1 : k;
                    break;
                }
                if (target >= 0 && target < end) {
                    w[std::size_t(target)] += 0.9;
                    uniformRest(0.1);
                } else {
                    uniformRest(1.0);
                }
                break;
            }
        }
        double sum = 0.0;
        for (int k = 0; k < end; ++k) sum += w[std::size_t(k)];
        if (!(sum > 0.0)) {
            std::fill(w.begin(), w.begin() + end, 1.0);
            sum = end;
        }
        // Mix in a random distribution (exponential draws, normalised: a flat Dirichlet).
        std::vector<double> r(static_cast<std::size_t>(end));
        double rsum = 0.0;
        for (int k = 0; k < end; ++k) {
            r[std::size_t(k)] = -std::log(std::max(1e-12, uniform(random)));
            rsum += r[std::size_t(k)];
        }
        for (int k = 0; k < end; ++k)
            out[std::size_t(q) * std::size_t(n) + std::size_t(k)] = float((1.0 - noise) * w[std::size_t(k)] / sum + noise * r[std::size_t(k)] / rsum);
    }
    return out;
}

AttentionStack plantedStack(const TokenLayout& layout, const std::vector<std::vector<PlantedPattern>>& patterns,
                            const std::vector<std::int64_t>& ids, bool causal, double noise, std::uint64_t seed, bool half) {
    if (!ids.empty() && int(ids.size()) != layout.size()) throw Error("planted stack: ids and layout differ in length");
    AttentionStack stack;
    stack.tokens = layout;
    stack.causal = causal;
    stack.modelLayers = int(patterns.size());
    const int n = layout.size();
    for (std::size_t l = 0; l < patterns.size(); ++l) {
        stack.modelHeads = std::max(stack.modelHeads, int(patterns[l].size()));
        AttentionLayer layer;
        layer.layer = int(l);
        layer.tokens = n;
        layer.precision = half ? AttentionPrecision::Float16 : AttentionPrecision::Float32;
        for (std::size_t h = 0; h < patterns[l].size(); ++h) {
            layer.heads.push_back(int(h));
            const std::vector<float> m =
                plantedHeadMatrix(patterns[l][h], layout, ids, causal, noise, seed * 1000003u + l * 1009u + h);
            if (half) {
                for (float v : m) layer.halfValues.push_back(floatToHalf(v));
            } else {
                layer.floatValues.insert(layer.floatValues.end(), m.begin(), m.end());
            }
        }
        stack.layers.push_back(std::move(layer));
    }
    return stack;
}

}  // namespace fovea
