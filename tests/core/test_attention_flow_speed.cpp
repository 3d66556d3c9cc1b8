// Attention flow at ViT-B/16 size (197 tokens, 12 layers, 12 heads fused by mean): how long the
// whole map takes, and how long a plain Edmonds-Karp on the explicit graph (the paper's approach)
// takes for one sink. Prints the timings; only the agreement of the two is asserted.
// Run with `ctest -L slow` or ./build/tests/test_attention_flow_speed.
#include "core/explain/attention_flow.h"
#include "core/explain/attention_maps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <random>
#include <vector>

namespace {

using namespace fovea;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

enum class Pattern { Mixed, Peaky, Sinks, Local };

// Softmax of random logits per row. Mixed: about one row in five is peaky (large logits), the
// rest diffuse; Peaky: every row; Sinks: diffuse rows with four tokens that every query favours
// (the "attention sink" pattern of trained ViTs); Local: a patch sees only the patches of its
// 3 x 3 neighbourhood (exact zeros elsewhere, as masked local attention), CLS sees all. Flow is
// then limited inside the network, not only at its ends, and takes more than one phase.
AttentionStack vitLikeStack(int layers, int heads, Pattern pattern, std::uint32_t seed) {
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 14, 14);
    const int n = layout.size();
    std::mt19937 generator(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    const int sinks[] = {0, 17, 90, 150};
    AttentionStack stack;
    stack.tokens = layout;
    stack.modelLayers = layers;
    stack.modelHeads = heads;
    for (int l = 0; l < layers; ++l) {
        AttentionLayer layer;
        layer.layer = l;
        layer.tokens = n;
        layer.precision = AttentionPrecision::Float32;
        for (int h = 0; h < heads; ++h) layer.heads.push_back(h);
        layer.floatValues.resize(std::size_t(heads) * n * n);
        std::vector<float> logits(static_cast<std::size_t>(n));
        for (std::size_t row = 0; row < std::size_t(heads) * n; ++row) {
            const bool peaky = pattern == Pattern::Peaky ||
                               (pattern == Pattern::Mixed && uniform(generator) < 0.2f);
            const float scale = peaky ? 6.0f : 1.5f;
            for (float& v : logits) v = scale * normal(generator);
            if (pattern == Pattern::Sinks) {
                for (const int s : sinks) logits[std::size_t(s)] += 5.0f;
            }
            const int query = int(row % std::size_t(n));
            if (pattern == Pattern::Local && query != 0) {
                const TokenInfo& me = layout[query];
                for (int k = 0; k < n; ++k) {
                    const TokenInfo& other = layout[k];
                    if (other.kind != TokenKind::Patch || std::abs(other.row - me.row) > 1 ||
                        std::abs(other.col - me.col) > 1) {
                        logits[std::size_t(k)] = -std::numeric_limits<float>::infinity();
                    }
                }
            }
            const float top = *std::max_element(logits.begin(), logits.end());
            float sum = 0.0f;
            for (int k = 0; k < n; ++k)
                sum += logits[std::size_t(k)] = std::exp(logits[std::size_t(k)] - top);
            for (int k = 0; k < n; ++k)
                layer.floatValues[row * n + std::size_t(k)] = logits[std::size_t(k)] / sum;
        }
        stack.layers.push_back(std::move(layer));
    }
    return stack;
}

// The explicit graph of the paper, (L+1) x N nodes, and textbook Edmonds-Karp over adjacency
// lists: a breadth-first search from scratch for every augmenting path.
struct PlainGraph {
    struct Arc {
        int to;
        int back;
        double residual;
    };
    std::vector<std::vector<Arc>> out;

    void add(int from, int to, double capacity) {
        out[std::size_t(from)].push_back({to, int(out[std::size_t(to)].size()), capacity});
        out[std::size_t(to)].push_back({from, int(out[std::size_t(from)].size()) - 1, 0.0});
    }

    double edmondsKarp(int source, int sink, long& augmentations) {
        double flow = 0.0;
        const std::size_t nodes = out.size();
        for (;;) {
            std::vector<std::pair<int, int>> parent(nodes, {-1, -1});  // node, arc index there
            parent[std::size_t(source)] = {source, -1};
            std::deque<int> queue{source};
            while (!queue.empty() && parent[std::size_t(sink)].first < 0) {
                const int u = queue.front();
                queue.pop_front();
                for (int i = 0; i < int(out[std::size_t(u)].size()); ++i) {
                    const Arc& arc = out[std::size_t(u)][std::size_t(i)];
                    if (arc.residual > 1e-12 && parent[std::size_t(arc.to)].first < 0) {
                        parent[std::size_t(arc.to)] = {u, i};
                        queue.push_back(arc.to);
                    }
                }
            }
            if (parent[std::size_t(sink)].first < 0) return flow;
            double amount = std::numeric_limits<double>::infinity();
            for (int v = sink; v != source; v = parent[std::size_t(v)].first) {
                const auto [u, i] = parent[std::size_t(v)];
                amount = std::min(amount, out[std::size_t(u)][std::size_t(i)].residual);
            }
            for (int v = sink; v != source; v = parent[std::size_t(v)].first) {
                const auto [u, i] = parent[std::size_t(v)];
                Arc& arc = out[std::size_t(u)][std::size_t(i)];
                arc.residual -= amount;
                out[std::size_t(v)][std::size_t(arc.back)].residual += amount;
            }
            flow += amount;
            ++augmentations;
        }
    }
};

struct VitCase {
    AttentionStack stack;
    std::vector<std::vector<double>> residual;  // Â_1 .. Â_L
};

VitCase vitCase(Pattern pattern) {
    const int layers = 12, heads = 12;
    VitCase c;
    c.stack = vitLikeStack(layers, heads, pattern, 2020);
    const HeadSelection mean = HeadSelection::parse("mean");
    for (int l = 0; l < layers; ++l) {
        c.residual.push_back(
            residualAttention(fuseHeads(c.stack.layer(l), mean), c.stack.tokens.size()));
    }
    return c;
}

const char* patternName(Pattern pattern) {
    switch (pattern) {
        case Pattern::Mixed:
            return "mixed";
        case Pattern::Peaky:
            return "peaky";
        case Pattern::Sinks:
            return "sinks";
        case Pattern::Local:
            return "local";
    }
    return "?";
}

// The query: CLS, or for local attention the patch at (3, 4), which cannot reach every patch.
int queryFor(Pattern pattern, const TokenLayout& layout) {
    return pattern == Pattern::Local ? layout.patchIndex(3, 4) : 0;
}

// The whole map (fusion, residual and max-flow for every token) with 1 and 2 threads, 3 runs each.
void timeFastFlow(Pattern pattern) {
    const VitCase c = vitCase(pattern);
    const int n = c.stack.tokens.size();
    for (const int threads : {1, 2}) {
        std::printf("%s: attention flow map, N=%d L=%d, %d thread(s):", patternName(pattern), n,
                    int(c.residual.size()), threads);
        for (int run = 0; run < 3; ++run) {
            const Clock::time_point start = Clock::now();
            const std::vector<float> row = attentionFlowRow(
                c.stack, HeadSelection::parse("mean"), queryFor(pattern, c.stack.tokens), threads);
            std::printf(" %.3f s", secondsSince(start));
            double sum = 0.0;
            for (const float v : row) sum += v;
            EXPECT_NEAR(sum, 1.0, 1e-5);
        }
        std::printf("\n");
    }
    const std::vector<double> flows =
        maxFlowLayered(c.residual, n, queryFor(pattern, c.stack.tokens));
    const auto [low, high] = std::minmax_element(flows.begin(), flows.end());
    std::printf("%s: flows from %.4f to %.4f\n", patternName(pattern), *low, *high);
}

// Plain Edmonds-Karp for a few sinks on the explicit graph, node (l, i) = l N + i, against the
// fast values.
void timePlainFlow(Pattern pattern) {
    const VitCase c = vitCase(pattern);
    const int n = c.stack.tokens.size();
    const int layers = int(c.residual.size());
    const int query = queryFor(pattern, c.stack.tokens);
    const std::vector<double> fast = maxFlowLayered(c.residual, n, query);
    double plainSeconds = 0.0;
    int plainSinks = 0;
    for (const int sink : {0, 100, 196}) {
        PlainGraph graph;
        graph.out.resize(std::size_t(layers + 1) * std::size_t(n));
        for (int l = 1; l <= layers; ++l) {
            for (int q = 0; q < n; ++q) {
                for (int k = 0; k < n; ++k) {
                    graph.add(l * n + q, (l - 1) * n + k,
                              c.residual[std::size_t(l - 1)][std::size_t(q) * n + std::size_t(k)]);
                }
            }
        }
        long augmentations = 0;
        const Clock::time_point start = Clock::now();
        const double flow = graph.edmondsKarp(layers * n + query, sink, augmentations);
        const double seconds = secondsSince(start);
        plainSeconds += seconds;
        ++plainSinks;
        std::printf(
            "%s: plain Edmonds-Karp, sink %d: %.3f s, %ld augmenting paths, flow %.15f (fast "
            "%.15f)\n",
            patternName(pattern), sink, seconds, augmentations, flow, fast[std::size_t(sink)]);
        EXPECT_NEAR(flow, fast[std::size_t(sink)], 1e-9);
    }
    std::printf(
        "%s: plain Edmonds-Karp: %.3f s per sink, about %.0f s for all %d sinks on one core\n",
        patternName(pattern), plainSeconds / plainSinks, plainSeconds / plainSinks * n, n);
}

TEST(AttentionFlowSpeed, Fast) {
    for (const Pattern pattern : {Pattern::Mixed, Pattern::Peaky, Pattern::Sinks, Pattern::Local}) {
        timeFastFlow(pattern);
    }
}

TEST(AttentionFlowSpeed, PlainEdmondsKarp) {
    for (const Pattern pattern : {Pattern::Mixed, Pattern::Peaky, Pattern::Sinks, Pattern::Local}) {
        timePlainFlow(pattern);
    }
}

}  // namespace
