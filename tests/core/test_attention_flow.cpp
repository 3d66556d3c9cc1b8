// Attention flow: the fast layered max-flow against a brute-force Edmonds-Karp on the explicit
// graph written here, hand-worked small cases, and the map through an AttentionStack.
#include "core/explain/attention_flow.h"
#include "core/explain/attention_maps.h"
#include "core/util/error.h"
#include "core/util/progress.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace fovea;

using Layers = std::vector<std::vector<double>>;

// Max flow by Edmonds-Karp on a dense capacity matrix of the whole paper graph: nodes (l, i) =
// l n + i for l = 0..L, all of them, an edge (l, q) -> (l-1, k) of capacity layers[l-1][q][k].
double bruteForceFlow(const Layers& layers, int n, int query, int key) {
    const int depth = int(layers.size());
    const int nodes = (depth + 1) * n;
    std::vector<std::vector<double>> residual(std::size_t(nodes),
                                              std::vector<double>(std::size_t(nodes), 0.0));
    for (int l = 1; l <= depth; ++l) {
        for (int q = 0; q < n; ++q) {
            for (int k = 0; k < n; ++k) {
                residual[std::size_t(l * n + q)][std::size_t((l - 1) * n + k)] =
                    layers[std::size_t(l - 1)][std::size_t(q * n + k)];
            }
        }
    }
    const int source = depth * n + query;
    const int sink = key;
    double flow = 0.0;
    for (;;) {
        // Shortest augmenting path by breadth-first search.
        std::vector<int> parent(std::size_t(nodes), -1);
        parent[std::size_t(source)] = source;
        std::vector<int> queue = {source};
        for (std::size_t head = 0; head < queue.size() && parent[std::size_t(sink)] < 0; ++head) {
            const int u = queue[head];
            for (int v = 0; v < nodes; ++v) {
                if (parent[std::size_t(v)] < 0 &&
                    residual[std::size_t(u)][std::size_t(v)] > 1e-15) {
                    parent[std::size_t(v)] = u;
                    queue.push_back(v);
                }
            }
        }
        if (parent[std::size_t(sink)] < 0) return flow;
        double amount = std::numeric_limits<double>::infinity();
        for (int v = sink; v != source; v = parent[std::size_t(v)]) {
            amount =
                std::min(amount, residual[std::size_t(parent[std::size_t(v)])][std::size_t(v)]);
        }
        for (int v = sink; v != source; v = parent[std::size_t(v)]) {
            const int u = parent[std::size_t(v)];
            residual[std::size_t(u)][std::size_t(v)] -= amount;
            residual[std::size_t(v)][std::size_t(u)] += amount;
        }
        flow += amount;
    }
}

enum class Kind { Stochastic, Residual, Arbitrary };

// Random non-negative n x n matrices, about a third of the entries exactly zero (never a whole
// row). Stochastic: rows sum to 1; Residual: rownorm(0.5 A + 0.5 I) of a stochastic A; Arbitrary:
// values up to 2 with no normalisation.
Layers randomLayers(int depth, int n, Kind kind, std::mt19937& generator) {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    Layers layers;
    for (int l = 0; l < depth; ++l) {
        std::vector<double> m(std::size_t(n) * std::size_t(n));
        for (int q = 0; q < n; ++q) {
            double sum = 0.0;
            for (int k = 0; k < n; ++k) {
                const double v =
                    uniform(generator) < 0.35 ? 0.0 : std::pow(uniform(generator), 2.0);
                m[std::size_t(q * n + k)] = v;
                sum += v;
            }
            if (sum == 0.0) {
                m[std::size_t(q * n) + std::size_t(generator() % std::uint32_t(n))] = 1.0;
                sum = 1.0;
            }
            for (int k = 0; k < n; ++k) {
                double& v = m[std::size_t(q * n + k)];
                if (kind == Kind::Arbitrary) {
                    v *= 2.0;
                } else {
                    v /= sum;
                    if (kind == Kind::Residual)
                        v = 0.5 * v + (q == k ? 0.5 : 0.0);  // rows still sum to 1
                }
            }
        }
        layers.push_back(std::move(m));
    }
    return layers;
}

TEST(MaxFlowLayered, MatchesBruteForceOnRandomGraphs) {
    std::mt19937 generator(7);
    int cases = 0;
    for (int n = 2; n <= 8; ++n) {
        for (int depth = 1; depth <= 5; ++depth) {
            for (const Kind kind : {Kind::Stochastic, Kind::Residual, Kind::Arbitrary}) {
                const Layers layers = randomLayers(depth, n, kind, generator);
                const int query = int(generator() % std::uint32_t(n));
                const int threads = 1 + int(generator() % 3u);
                const std::vector<double> flows = maxFlowLayered(layers, n, query, threads);
                ASSERT_EQ(flows.size(), std::size_t(n));
                for (int key = 0; key < n; ++key) {
                    ASSERT_NEAR(flows[std::size_t(key)], bruteForceFlow(layers, n, query, key),
                                1e-9)
                        << "n " << n << " L " << depth << " kind " << int(kind) << " query "
                        << query << " key " << key;
                }
                ++cases;
            }
        }
    }
    EXPECT_EQ(cases, 7 * 5 * 3);
}

TEST(MaxFlowLayered, SparseGraphsWithUnreachableTokens) {
    // Mostly zeros, including whole columns: some keys get no flow at all.
    std::mt19937 generator(3);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (int trial = 0; trial < 40; ++trial) {
        const int n = 3 + trial % 5, depth = 1 + trial % 4;
        Layers layers;
        for (int l = 0; l < depth; ++l) {
            std::vector<double> m(std::size_t(n) * std::size_t(n), 0.0);
            for (double& v : m) {
                if (uniform(generator) < 0.25) v = uniform(generator);
            }
            layers.push_back(std::move(m));
        }
        const int query = trial % n;
        const std::vector<double> flows = maxFlowLayered(layers, n, query, 2);
        for (int key = 0; key < n; ++key) {
            ASSERT_NEAR(flows[std::size_t(key)], bruteForceFlow(layers, n, query, key), 1e-9)
                << "trial " << trial << " key " << key;
        }
    }
}

TEST(MaxFlowLayered, DeepSparseGraphsThatNeedSeveralPhases) {
    // Larger sparse graphs with unnormalised capacities put the minimum cut inside the network,
    // so augmenting paths must cancel earlier flow (reverse arcs) over several phases.
    std::mt19937 generator(19);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (int trial = 0; trial < 60; ++trial) {
        const int n = 8 + trial % 9, depth = 4 + trial % 6;
        const double density = trial % 2 == 0 ? 0.15 : 0.3;
        Layers layers;
        for (int l = 0; l < depth; ++l) {
            std::vector<double> m(std::size_t(n) * std::size_t(n), 0.0);
            for (double& v : m) {
                if (uniform(generator) < density) v = uniform(generator);
            }
            layers.push_back(std::move(m));
        }
        const int query = trial % n;
        const std::vector<double> flows = maxFlowLayered(layers, n, query, 1);
        for (int key = 0; key < n; ++key) {
            ASSERT_NEAR(flows[std::size_t(key)], bruteForceFlow(layers, n, query, key), 1e-9)
                << "trial " << trial << " key " << key;
        }
    }
}

TEST(MaxFlowLayered, HandWorkedCases) {
    // N = 2, L = 1: the only path is the edge (1, q) -> (0, k), so the flow is Â_1[q][k].
    const Layers one = {{0.7, 0.3, 0.4, 0.6}};
    EXPECT_NEAR(maxFlowLayered(one, 2, 0)[0], 0.7, 1e-15);
    EXPECT_NEAR(maxFlowLayered(one, 2, 0)[1], 0.3, 1e-15);
    EXPECT_NEAR(maxFlowLayered(one, 2, 1)[0], 0.4, 1e-15);

    // N = 2, L = 2, query 0. Â_2 row 0 = (0.2, 0.8); Â_1 = [[0.7, 0.3], [0.4, 0.6]].
    // The two paths to (0, k) go through (1, 0) and (1, 1) and share no edge, so the flow is the
    // sum of their bottlenecks:
    //   k = 0: min(0.2, 0.7) + min(0.8, 0.4) = 0.2 + 0.4 = 0.6
    //   k = 1: min(0.2, 0.3) + min(0.8, 0.6) = 0.2 + 0.6 = 0.8
    // (Rollout would give 0.2 * 0.7 + 0.8 * 0.4 = 0.46 and 0.54.)
    const Layers two = {{0.7, 0.3, 0.4, 0.6}, {0.2, 0.8, 0.5, 0.5}};
    const std::vector<double> flows2 = maxFlowLayered(two, 2, 0);
    EXPECT_NEAR(flows2[0], 0.6, 1e-12);
    EXPECT_NEAR(flows2[1], 0.8, 1e-12);

    // N = 2, L = 3, query 0. Â_3 row 0 = (0.9, 0.1); Â_2 = [[0.6, 0.4], [0, 1]];
    // Â_1 = [[1, 0], [0.2, 0.8]].
    //   k = 0: (1, 0) is fed only by (2, 0), at most 0.6, and passes all of it on; (1, 1) passes at
    //          most 0.2. Flow 0.6 + 0.2 = 0.8, reached by (2, 0) sending 0.6 and 0.2 down. The cut
    //          {(2,0)->(1,0), (1,1)->(0,0)} has capacity 0.8 too.
    //   k = 1: only (1, 1) leads to (0, 1) (0.8). It gets at most 0.4 from (2, 0) and 0.1 from
    //          (2, 1), which receives only 0.1: flow 0.5, the cut {(3,0)->(2,1), (2,0)->(1,1)}.
    const Layers three = {{1.0, 0.0, 0.2, 0.8}, {0.6, 0.4, 0.0, 1.0}, {0.9, 0.1, 0.5, 0.5}};
    const std::vector<double> flows3 = maxFlowLayered(three, 2, 0);
    EXPECT_NEAR(flows3[0], 0.8, 1e-12);
    EXPECT_NEAR(flows3[1], 0.5, 1e-12);

    // N = 2, L = 3, query 0, where the first, greedy path has to be partly undone. Write a = (2,
    // 0), b = (2, 1), c = (1, 0), d = (1, 1), t = (0, 0). Â_3 row 0 = (0.5, 0.5): s->a, s->b 0.5
    // each; Â_2 = [[0.5, 0.5], [1, 0]]: a->c, a->d 0.5 each, b->c 1; Â_1 = 0.5 everywhere: c->t,
    // d->t 0.5. Ties go to the lower index, so s-a-c-t (0.5) comes first and leaves b only c, whose
    // arc to t is full. The maximum, 1 (both arcs into t full), needs s-b-c-a-d-t, which sends b's
    // 0.5 to c in place of a's and a's 0.5 on to d: a path that uses the reverse arc c->a.
    const Layers cancel = {{0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 1.0, 0.0}, {0.5, 0.5, 0.5, 0.5}};
    const std::vector<double> flowsCancel = maxFlowLayered(cancel, 2, 0);
    EXPECT_NEAR(flowsCancel[0], 1.0, 1e-12);
    EXPECT_NEAR(flowsCancel[1], 1.0, 1e-12);
}

TEST(MaxFlowLayered, SameResultForEveryThreadCount) {
    std::mt19937 generator(11);
    const int n = 24;
    const Layers layers = randomLayers(4, n, Kind::Residual, generator);
    const std::vector<double> one = maxFlowLayered(layers, n, 3, 1);
    for (const int threads : {0, 2, 5, 64})
        EXPECT_EQ(maxFlowLayered(layers, n, 3, threads), one) << threads;
    for (const double v : one) {
        EXPECT_GT(v, 0.0);
        EXPECT_LE(v, 1.0 + 1e-12);  // the source sends at most the sum of its row
    }
}

TEST(MaxFlowLayered, ProgressAndCancel) {
    std::mt19937 generator(5);
    const int n = 10;
    const Layers layers = randomLayers(3, n, Kind::Residual, generator);
    std::vector<double> seen;
    const std::vector<double> flows = maxFlowLayered(layers, n, 0, 2, [&](double fraction) {
        seen.push_back(fraction);
        return true;
    });
    ASSERT_FALSE(seen.empty());
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_DOUBLE_EQ(seen.back(), 1.0);
    EXPECT_EQ(flows, maxFlowLayered(layers, n, 0, 1));

    int calls = 0;
    EXPECT_THROW(maxFlowLayered(layers, n, 0, 2,
                                [&](double) {
                                    ++calls;
                                    return false;
                                }),
                 Cancelled);
    EXPECT_GE(calls, 1);

    // An exception from the hook reaches the caller after the workers have stopped.
    EXPECT_THROW(
        maxFlowLayered(layers, n, 0, 2, [](double) -> bool { throw Error("hook failed"); }), Error);
}

TEST(MaxFlowLayered, RejectsMalformedInput) {
    const Layers good = {{0.5, 0.5, 0.5, 0.5}};
    EXPECT_THROW(maxFlowLayered({}, 2, 0), Error);
    EXPECT_THROW(maxFlowLayered(good, 2, 2), Error);
    EXPECT_THROW(maxFlowLayered(good, 2, -1), Error);
    EXPECT_THROW(maxFlowLayered(good, 3, 0), Error);
    EXPECT_THROW(maxFlowLayered({{0.5, -0.5, 0.5, 0.5}}, 2, 0), Error);
    EXPECT_THROW(maxFlowLayered({{0.5, std::numeric_limits<double>::quiet_NaN(), 0.5, 0.5}}, 2, 0),
                 Error);
}

// A float32 stack of every layer and head from a [L,H,N,N] array.
AttentionStack stackFromArray(const std::vector<float>& values, int layers, int heads,
                              const TokenLayout& layout) {
    const int tokens = layout.size();
    AttentionStack stack;
    stack.tokens = layout;
    stack.modelLayers = layers;
    stack.modelHeads = heads;
    const std::size_t perLayer = std::size_t(heads) * std::size_t(tokens) * std::size_t(tokens);
    for (int l = 0; l < layers; ++l) {
        AttentionLayer layer;
        layer.layer = l;
        layer.tokens = tokens;
        layer.precision = AttentionPrecision::Float32;
        for (int h = 0; h < heads; ++h) layer.heads.push_back(h);
        layer.floatValues.assign(values.begin() + std::ptrdiff_t(perLayer * std::size_t(l)),
                                 values.begin() + std::ptrdiff_t(perLayer * std::size_t(l + 1)));
        stack.layers.push_back(std::move(layer));
    }
    return stack;
}

// Random row-stochastic attention, [L,H,N,N], float.
std::vector<float> randomAttention(int layers, int heads, int tokens, std::uint32_t seed) {
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> values(std::size_t(layers) * std::size_t(heads) * std::size_t(tokens) *
                              std::size_t(tokens));
    for (std::size_t row = 0; row < values.size() / std::size_t(tokens); ++row) {
        float sum = 0.0f;
        for (std::size_t k = 0; k < std::size_t(tokens); ++k) {
            sum += values[row * std::size_t(tokens) + k] = std::pow(uniform(generator), 3.0f);
        }
        for (std::size_t k = 0; k < std::size_t(tokens); ++k)
            values[row * std::size_t(tokens) + k] /= sum;
    }
    return values;
}

TEST(AttentionFlow, RowIsTheNormalisedFlowOfTheResidualAttention) {
    const int layers = 3, heads = 4;
    const TokenLayout layout =
        TokenLayout::forVisionTransformer(true, false, 1, 2, 3);  // CLS REG + 6 patches
    const int n = layout.size();
    const std::vector<float> values = randomAttention(layers, heads, n, 21);
    const AttentionStack stack = stackFromArray(values, layers, heads, layout);
    for (const char* fusion : {"mean", "max", "2"}) {
        const HeadSelection selection = HeadSelection::parse(fusion);
        // Â_l computed here: fused heads, 0.5 A + 0.5 I, rows renormalised.
        Layers residual;
        for (int l = 0; l < layers; ++l) {
            std::vector<double> m(std::size_t(n) * std::size_t(n));
            for (int q = 0; q < n; ++q) {
                double sum = 0.0;
                for (int k = 0; k < n; ++k) {
                    double fused = 0.0;  // attention is non-negative, so 0 also starts the max
                    for (int h = 0; h < heads; ++h) {
                        const double a = values[((std::size_t(l) * heads + std::size_t(h)) * n +
                                                 std::size_t(q)) *
                                                    n +
                                                std::size_t(k)];
                        if (std::string(fusion) == "mean") fused += a / heads;
                        if (std::string(fusion) == "max") fused = std::max(fused, a);
                        if (std::string(fusion) == "2" && h == 2) fused = a;
                    }
                    sum += m[std::size_t(q * n + k)] = 0.5 * fused + (q == k ? 0.5 : 0.0);
                }
                for (int k = 0; k < n; ++k) m[std::size_t(q * n + k)] /= sum;
            }
            residual.push_back(std::move(m));
        }
        for (const int query : {0, 1, 5}) {
            const std::vector<float> row = attentionFlowRow(stack, selection, query, 2);
            ASSERT_EQ(row.size(), std::size_t(n));
            const double total = std::accumulate(row.begin(), row.end(), 0.0);
            EXPECT_NEAR(total, 1.0, 1e-6);
            std::vector<double> expected(static_cast<std::size_t>(n));
            for (int key = 0; key < n; ++key)
                expected[std::size_t(key)] = bruteForceFlow(residual, n, query, key);
            const double expectedTotal = std::accumulate(expected.begin(), expected.end(), 0.0);
            for (int key = 0; key < n; ++key) {
                EXPECT_NEAR(row[std::size_t(key)], expected[std::size_t(key)] / expectedTotal, 1e-6)
                    << fusion << " query " << query << " key " << key;
            }
            // The map is the row at the patch positions, laid on the 2 x 3 grid.
            const cv::Mat map = attentionFlowMap(stack, selection, query, 1);
            ASSERT_EQ(map.size(), cv::Size(3, 2));
            ASSERT_EQ(map.type(), CV_32F);
            for (int r = 0; r < 2; ++r) {
                for (int c = 0; c < 3; ++c)
                    EXPECT_EQ(map.at<float>(r, c), row[std::size_t(layout.patchIndex(r, c))]);
            }
        }
    }
}

TEST(AttentionFlow, OneLayerIsTheResidualAttentionRow) {
    // With L = 1 the only path is the edge itself, and a row of Â already sums to 1.
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 2, 2);
    const int n = layout.size();
    const AttentionStack stack = stackFromArray(randomAttention(1, 2, n, 4), 1, 2, layout);
    const HeadSelection mean = HeadSelection::parse("mean");
    const std::vector<double> residual = residualAttention(fuseHeads(stack.layer(0), mean), n);
    const std::vector<float> row = attentionFlowRow(stack, mean, 0);
    for (int k = 0; k < n; ++k) EXPECT_NEAR(row[std::size_t(k)], residual[std::size_t(k)], 1e-6);
}

TEST(AttentionFlow, NeedsEveryLayer) {
    const TokenLayout layout = TokenLayout::forVisionTransformer(true, false, 0, 2, 2);
    AttentionStack stack = stackFromArray(randomAttention(3, 2, layout.size(), 8), 3, 2, layout);
    const HeadSelection mean = HeadSelection::parse("mean");
    EXPECT_NO_THROW(attentionFlowRow(stack, mean, 0));
    EXPECT_THROW(attentionFlowRow(stack, mean, layout.size()), Error);
    EXPECT_THROW(attentionFlowRow(stack, HeadSelection::parse("5"), 0),
                 Error);  // head not captured
    stack.layers.erase(stack.layers.begin() + 1);
    try {
        attentionFlowMap(stack, mean, 0);
        FAIL() << "a stack without layer 1 was accepted";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("layer 1"), std::string::npos) << error.what();
    }
    EXPECT_THROW(attentionFlowRow(AttentionStack{}, mean, 0), Error);
}

}  // namespace
