// Attention flow, after Abnar & Zuidema, "Quantifying Attention Flow in Transformers" (ACL 2020).
//
// The paper reads a transformer with L layers over N tokens as a directed graph with L+1 layers
// of N nodes: node (l, i) is token i after layer l, and for l = 1..L an edge from (l, q) to
// (l-1, k) has capacity Â_l[q][k], the head-fused attention with the residual added,
// Â = rownorm(0.5 A + 0.5 I). The flow of input token k to output token q is the value of a
// maximum flow from (L, q) to (0, k). The authors' code runs a generic max-flow from networkx for
// every pair, which takes hours for 197 tokens. This file computes the same numbers exactly; the
// speed comes from the structure of the graph and from an efficient max-flow algorithm.
//
// Structure (each step leaves every max-flow value unchanged):
// * Only one source matters, (L, query). Nodes (L, j), j != query, have no incoming edge, so no
//   flow from the source can reach them; they are left out.
// * For sink (0, k) the other input nodes (0, j) have no outgoing edge: flow into them could never
//   leave, so they are left out too, and every node (1, i) keeps a single arc, to the sink, with
//   capacity Â_1[i][k]. The graph is then the same for all sinks except the capacities of those N
//   arcs: its topology is built once (CSR: per node its forward arcs in descending capacity, which
//   makes the first paths found wide ones, then its reverse arcs) and shared by all sinks.
// * Edges of capacity exactly 0 carry no flow in any solution and are not built.
// * A flow is at most B = min(Σ capacities out of the source, Σ capacities into the sink); with
//   rows of Â summing to 1, at most 1. Once the flow reaches B it is maximum and the solver stops
//   at once, without the search that would otherwise prove that no augmenting path is left.
// * The sinks are independent problems. Worker threads take them one at a time, each with its own
//   residual capacities, levels and stacks, allocated once; between sinks only the arcs that the
//   previous sink's augmenting paths changed are reset.
//
// Max-flow is Dinic's algorithm. A phase labels nodes with their breadth-first distance from the
// source in the residual graph and then saturates every shortest augmenting path (a blocking
// flow) by depth-first search with a current-arc pointer per node, dropping nodes that lead
// nowhere. Before any flow is sent every arc with capacity leads exactly one layer down, so the
// first phase's distances are the layer distances and need no search; later phases, which follow
// reverse arcs to cancel earlier flow, run the breadth-first search. The sink's distance grows
// strictly from phase to phase, so there are fewer phases than nodes, with real capacities as
// with integers. The result is a maximum flow: the solver stops only at the bound B or when no
// augmenting path is left, and then the nodes the source still reaches form a cut whose capacity
// equals the flow (max-flow min-cut theorem). On dense ViT attention nearly every sink finishes
// in the first phase.
//
// Floating point: capacities and flows are doubles, and a residual capacity of at most
// kResidualEpsilon (1e-12) counts as saturated, so that rounding noise left by cancelling flow
// cannot start endless augmentations of a few ulps. The returned value may therefore fall short
// of the exact maximum by at most 1e-12 per arc crossing the final cut (and by 1e-12 at the
// bound B); against a plain Edmonds-Karp at ViT-B size the values agree to about 1e-15.
#include "core/explain/attention_flow.h"

#include "core/util/error.h"
#include "core/util/progress.h"
#include "core/util/system.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>

namespace fovea {

namespace {

constexpr double kResidualEpsilon = 1e-12;

// The flow network shared by all sinks (topology and the capacities that do not depend on the
// sink).
struct FlowNetwork {
    int nodes = 0;
    int source = 0;
    int sink = 0;
    std::vector<int> depth;        // distance from the source in layers: L - l for (l, i)
    std::vector<int> firstArc;     // arcs of node u: firstArc[u] .. firstArc[u + 1] - 1
    std::vector<int> head;         // node an arc points to
    std::vector<int> partner;      // the arc in the opposite direction
    std::vector<double> capacity;  // 0 for reverse arcs and (until set per sink) sink arcs
    std::vector<int> sinkArcs;     // forward arc into the sink from each node of layer 1
    std::vector<int> sinkArcRows;  // the row of Â_1 that gives that arc's capacity
    double sourceCapacity = 0.0;
};

struct Edge {
    int from;
    int to;
    double capacity;
};

FlowNetwork buildNetwork(const std::vector<std::vector<double>>& layers, int n, int query) {
    const int depth = int(layers.size());
    FlowNetwork net;
    // Node ids: 0 is (L, query); (l, i) for l = L-1 .. 1 is 1 + (L-1-l) n + i; the sink is last.
    net.nodes = 1 + (depth - 1) * n + 1;
    net.source = 0;
    net.sink = net.nodes - 1;
    auto node = [&](int layer, int token) {
        return layer == depth ? net.source : 1 + (depth - 1 - layer) * n + token;
    };
    net.depth.assign(std::size_t(net.nodes), 0);
    for (int u = 1; u < net.nodes; ++u) net.depth[std::size_t(u)] = 1 + (u - 1) / n;
    net.depth[std::size_t(net.sink)] = depth;

    std::vector<Edge> edges;
    std::vector<int> order(std::size_t(n), 0);
    auto addRow = [&](int layer, int row) {  // edges of (layer, row) into layer - 1
        const double* values =
            layers[std::size_t(layer - 1)].data() + std::size_t(row) * std::size_t(n);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [values](int a, int b) { return values[a] > values[b]; });
        for (const int key : order) {
            if (values[key] > 0.0)
                edges.push_back({node(layer, row), node(layer - 1, key), values[key]});
        }
    };
    if (depth >= 2) {
        addRow(depth, query);
        for (int layer = depth - 1; layer >= 2; --layer) {
            for (int row = 0; row < n; ++row) addRow(layer, row);
        }
    }
    // Arcs into the sink, capacity set per sink: from every (1, i), or from the source when L = 1.
    const std::size_t firstSinkEdge = edges.size();
    if (depth == 1) {
        edges.push_back({net.source, net.sink, 0.0});
        net.sinkArcRows.push_back(query);
    } else {
        for (int row = 0; row < n; ++row) {
            edges.push_back({node(1, row), net.sink, 0.0});
            net.sinkArcRows.push_back(row);
        }
    }

    // CSR: per node its forward arcs in edge order, then its reverse arcs.
    if (edges.size() > std::size_t(std::numeric_limits<int>::max() / 2)) {
        throw Error("attention flow: " + std::to_string(edges.size()) +
                    " edges are more than this implementation can index");
    }
    std::vector<int> degree(std::size_t(net.nodes), 0);
    for (const Edge& e : edges) {
        ++degree[std::size_t(e.from)];
        ++degree[std::size_t(e.to)];
    }
    net.firstArc.assign(std::size_t(net.nodes) + 1, 0);
    for (int u = 0; u < net.nodes; ++u)
        net.firstArc[std::size_t(u) + 1] = net.firstArc[std::size_t(u)] + degree[std::size_t(u)];
    const std::size_t arcs = std::size_t(net.firstArc.back());
    net.head.resize(arcs);
    net.partner.resize(arcs);
    net.capacity.assign(arcs, 0.0);
    std::vector<int> next(net.firstArc.begin(), net.firstArc.end() - 1);
    std::vector<int> forwardArc(edges.size());
    for (std::size_t i = 0; i < edges.size(); ++i) {
        const int a = next[std::size_t(edges[i].from)]++;
        net.head[std::size_t(a)] = edges[i].to;
        net.capacity[std::size_t(a)] = edges[i].capacity;
        forwardArc[i] = a;
    }
    for (std::size_t i = 0; i < edges.size(); ++i) {
        const int a = next[std::size_t(edges[i].to)]++;
        net.head[std::size_t(a)] = edges[i].from;
        net.partner[std::size_t(a)] = forwardArc[i];
        net.partner[std::size_t(forwardArc[i])] = a;
    }
    for (std::size_t i = firstSinkEdge; i < edges.size(); ++i)
        net.sinkArcs.push_back(forwardArc[i]);
    if (depth == 1) {
        net.sourceCapacity = std::numeric_limits<double>::infinity();
    } else {
        const std::vector<double>& top = layers.back();
        for (int k = 0; k < n; ++k)
            net.sourceCapacity += top[std::size_t(query) * std::size_t(n) + std::size_t(k)];
    }
    return net;
}

// Dinic's max-flow on a FlowNetwork; one per worker, reused for every sink it handles.
class DinicSolver {
  public:
    explicit DinicSolver(const FlowNetwork& net)
        : m_net(net),
          m_residual(net.capacity),
          m_level(std::size_t(net.nodes)),
          m_current(std::size_t(net.nodes)),
          m_queue(std::size_t(net.nodes)) {
        m_path.reserve(std::size_t(net.nodes));
    }

    // Max flow into the sink when the sink arcs have these capacities (one per net.sinkArcs).
    double maxFlow(const std::vector<double>& sinkCapacities) {
        // Undo the previous sink's flow: only arcs on its augmenting paths changed.
        for (const int a : m_touched) m_residual[std::size_t(a)] = m_net.capacity[std::size_t(a)];
        m_touched.clear();
        double bound = 0.0;
        for (std::size_t i = 0; i < m_net.sinkArcs.size(); ++i) {
            m_residual[std::size_t(m_net.sinkArcs[i])] = sinkCapacities[i];
            bound += sinkCapacities[i];
        }
        bound = std::min(bound, m_net.sourceCapacity);
        double flow = 0.0;
        // Before any flow, every unsaturated arc leads one layer down, so the breadth-first
        // distances of the first phase are the layer distances; no search is needed for them.
        std::copy(m_net.depth.begin(), m_net.depth.end(), m_level.begin());
        bool levelled = true;
        while (flow < bound - kResidualEpsilon && levelled) {
            flow += blockingFlow(bound - flow);
            levelled = flow < bound - kResidualEpsilon && labelLevels();
        }
        return flow;
    }

  private:
    bool admissible(int arc, int fromLevel) const {
        return m_residual[std::size_t(arc)] > kResidualEpsilon &&
               m_level[std::size_t(m_net.head[std::size_t(arc)])] == fromLevel + 1;
    }

    // Breadth-first distances from the source over unsaturated arcs; false when the sink is not
    // reached. Stops as soon as the sink is labelled: nodes not nearer than the sink are useless.
    bool labelLevels() {
        std::fill(m_level.begin(), m_level.end(), -1);
        m_level[std::size_t(m_net.source)] = 0;
        std::size_t begin = 0, end = 0;
        m_queue[end++] = m_net.source;
        while (begin < end) {
            const int u = m_queue[begin++];
            const int nextLevel = m_level[std::size_t(u)] + 1;
            for (int a = m_net.firstArc[std::size_t(u)]; a < m_net.firstArc[std::size_t(u) + 1];
                 ++a) {
                const int v = m_net.head[std::size_t(a)];
                if (m_level[std::size_t(v)] >= 0 || m_residual[std::size_t(a)] <= kResidualEpsilon)
                    continue;
                m_level[std::size_t(v)] = nextLevel;
                if (v == m_net.sink) return true;
                m_queue[end++] = v;
            }
        }
        return false;
    }

    // Saturates every shortest augmenting path (iterative depth-first search with current arcs),
    // or stops once `wanted` more flow has been pushed.
    double blockingFlow(double wanted) {
        std::copy(m_net.firstArc.begin(), m_net.firstArc.end() - 1, m_current.begin());
        m_path.clear();
        double pushed = 0.0;
        int u = m_net.source;
        for (;;) {
            if (u == m_net.sink) {
                double amount = std::numeric_limits<double>::infinity();
                for (const int a : m_path) amount = std::min(amount, m_residual[std::size_t(a)]);
                for (const int a : m_path) {
                    const int back = m_net.partner[std::size_t(a)];
                    m_residual[std::size_t(a)] -= amount;
                    m_residual[std::size_t(back)] += amount;
                    m_touched.push_back(a);
                    m_touched.push_back(back);
                }
                pushed += amount;
                if (pushed >= wanted - kResidualEpsilon) break;
                // Resume from the tail of the first arc the push saturated.
                std::size_t keep = 0;
                while (keep < m_path.size() &&
                       m_residual[std::size_t(m_path[keep])] > kResidualEpsilon)
                    ++keep;
                m_path.resize(keep);
                u = keep == 0 ? m_net.source : m_net.head[std::size_t(m_path.back())];
                continue;
            }
            const int level = m_level[std::size_t(u)];
            const int end = m_net.firstArc[std::size_t(u) + 1];
            int& arc = m_current[std::size_t(u)];
            while (arc < end && !admissible(arc, level)) ++arc;
            if (arc < end) {
                m_path.push_back(arc);
                u = m_net.head[std::size_t(arc)];
                continue;
            }
            // Nothing leads on from u in this phase: drop it and step back.
            m_level[std::size_t(u)] = -1;
            if (m_path.empty()) break;
            m_path.pop_back();
            u = m_path.empty() ? m_net.source : m_net.head[std::size_t(m_path.back())];
        }
        return pushed;
    }

    const FlowNetwork& m_net;
    std::vector<double> m_residual;
    std::vector<int> m_level;
    std::vector<int> m_current;
    std::vector<int> m_queue;
    std::vector<int> m_path;     // arcs from the source to the node being extended
    std::vector<int> m_touched;  // arcs whose residual capacity differs from the capacity
};

void checkLayers(const std::vector<std::vector<double>>& layers, int n, int query) {
    if (layers.empty()) throw Error("attention flow needs at least one layer");
    if (n <= 0) throw Error("attention flow needs at least one token, got " + std::to_string(n));
    if (query < 0 || query >= n) {
        throw Error("query token " + std::to_string(query) + " does not exist: the sequence has " +
                    std::to_string(n) + " tokens");
    }
    const std::size_t size = std::size_t(n) * std::size_t(n);
    for (std::size_t l = 0; l < layers.size(); ++l) {
        if (layers[l].size() != size) {
            throw Error("attention flow: layer " + std::to_string(l + 1) + " has " +
                        std::to_string(layers[l].size()) + " values, expected " +
                        std::to_string(n) + " x " + std::to_string(n));
        }
        for (const double v : layers[l]) {
            if (!(v >= 0.0) || !std::isfinite(v)) {
                throw Error("attention flow: layer " + std::to_string(l + 1) + " has a capacity " +
                            std::to_string(v) + " that is negative or not finite");
            }
        }
    }
}

}  // namespace

std::vector<double> maxFlowLayered(const std::vector<std::vector<double>>& layers, int tokens,
                                   int query, int threads, const FlowProgress& progress) {
    checkLayers(layers, tokens, query);
    const int n = tokens;
    const FlowNetwork net = buildNetwork(layers, n, query);
    const std::vector<double>& first = layers.front();

    std::vector<double> flows(std::size_t(n), 0.0);
    const int workers = std::max(1, std::min(threads > 0 ? threads : availableCores(), n));
    std::atomic<int> nextSink{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable changed;
    int finishedSinks = 0;
    int finishedWorkers = 0;
    std::exception_ptr failure;

    auto work = [&] {
        try {
            DinicSolver solver(net);
            std::vector<double> sinkCapacities(net.sinkArcRows.size());
            for (;;) {
                if (stop.load(std::memory_order_relaxed)) break;
                const int k = nextSink.fetch_add(1);
                if (k >= n) break;
                for (std::size_t i = 0; i < sinkCapacities.size(); ++i) {
                    sinkCapacities[i] =
                        first[std::size_t(net.sinkArcRows[i]) * std::size_t(n) + std::size_t(k)];
                }
                flows[std::size_t(k)] = solver.maxFlow(sinkCapacities);
                {
                    const std::lock_guard<std::mutex> lock(mutex);
                    ++finishedSinks;
                }
                changed.notify_one();
            }
        } catch (...) {
            const std::lock_guard<std::mutex> lock(mutex);
            if (!failure) failure = std::current_exception();
            stop = true;
        }
        {
            const std::lock_guard<std::mutex> lock(mutex);
            ++finishedWorkers;
        }
        changed.notify_one();
    };

    // Whatever happens in this thread (a thread that cannot start, a progress hook that throws),
    // the workers are told to stop and joined before the stack they use goes away.
    std::vector<std::thread> pool;
    struct JoinAll {
        std::vector<std::thread>& threads;
        std::atomic<bool>& stopFlag;
        ~JoinAll() {
            stopFlag = true;
            for (std::thread& t : threads) {
                if (t.joinable()) t.join();
            }
        }
    } joinAll{pool, stop};
    pool.reserve(std::size_t(workers));
    for (int w = 0; w < workers; ++w) pool.emplace_back(work);
    // The calling thread only waits, reporting progress as sinks finish.
    bool cancelled = false;
    {
        int reported = -1;
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            changed.wait(lock,
                         [&] { return finishedSinks != reported || finishedWorkers == workers; });
            if (finishedSinks != reported && progress && !cancelled) {
                reported = finishedSinks;
                const double fraction = double(reported) / double(n);
                lock.unlock();
                if (!progress(fraction)) {
                    cancelled = true;
                    stop = true;
                }
                lock.lock();
            } else {
                reported = finishedSinks;
            }
            if (finishedWorkers == workers) break;
        }
    }
    for (std::thread& t : pool) t.join();
    if (failure) std::rethrow_exception(failure);
    if (cancelled) throw Cancelled();
    return flows;
}

std::vector<float> attentionFlowRow(const AttentionStack& stack, const HeadSelection& selection,
                                    int query, int threads, const FlowProgress& progress) {
    const int n = stack.tokens.size();
    if (query < 0 || query >= n) {
        throw Error("query token " + std::to_string(query) + " does not exist: the sequence has " +
                    std::to_string(n) + " tokens");
    }
    if (stack.modelLayers <= 0)
        throw Error("attention flow needs captured attention; the stack has no layers");
    std::vector<std::vector<double>> layers;
    layers.reserve(std::size_t(stack.modelLayers));
    for (int l = 0; l < stack.modelLayers; ++l) {
        const AttentionLayer* layer = stack.findLayer(l);
        if (!layer) {
            throw Error("attention flow needs every layer captured; layer " + std::to_string(l) +
                        " of " + std::to_string(stack.modelLayers) + " is missing");
        }
        layers.push_back(residualAttention(fuseHeads(*layer, selection), n));
    }
    const std::vector<double> flows = maxFlowLayered(layers, n, query, threads, progress);
    // Never 0 in practice: the query's own diagonal path always carries flow to (0, query).
    const double total = std::accumulate(flows.begin(), flows.end(), 0.0);
    std::vector<float> row(flows.size(), 0.0f);
    if (total > 0.0) {
        for (std::size_t k = 0; k < flows.size(); ++k) row[k] = float(flows[k] / total);
    }
    return row;
}

cv::Mat attentionFlowMap(const AttentionStack& stack, const HeadSelection& selection, int query,
                         int threads, const FlowProgress& progress) {
    const std::vector<float> row = attentionFlowRow(stack, selection, query, threads, progress);
    return patchGridFromRow(stack.tokens, row.data());
}

}  // namespace fovea
