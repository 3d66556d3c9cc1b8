#include "core/heads/head_clusters.h"

#include "core/heads/attention_rows.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

namespace fovea {

namespace {

double squaredDistance(const DescriptorMatrix& data, int a, int b) {
    const double* x = data.values.data() + std::size_t(a) * std::size_t(data.cols);
    const double* y = data.values.data() + std::size_t(b) * std::size_t(data.cols);
    double s = 0.0;
    for (int c = 0; c < data.cols; ++c) {
        const double d = x[c] - y[c];
        s += d * d;
    }
    return s;
}

// Full matrix of Euclidean distances (not squared), rows x rows.
std::vector<double> distanceMatrix(const DescriptorMatrix& data) {
    const int n = data.rows;
    std::vector<double> d(std::size_t(n) * std::size_t(n), 0.0);
    for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j) {
            const double v = std::sqrt(squaredDistance(data, i, j));
            d[std::size_t(i) * std::size_t(n) + std::size_t(j)] = v;
            d[std::size_t(j) * std::size_t(n) + std::size_t(i)] = v;
        }
    }
    return d;
}

double silhouetteFromDistances(const std::vector<double>& d, int n,
                               const std::vector<int>& assignment) {
    const int k =
        assignment.empty() ? 0 : *std::max_element(assignment.begin(), assignment.end()) + 1;
    if (k < 2) return 0.0;
    std::vector<int> sizes(std::size_t(k), 0);
    for (int a : assignment) ++sizes[std::size_t(a)];
    double total = 0.0;
    std::vector<double> sums(static_cast<std::size_t>(k));
    for (int i = 0; i < n; ++i) {
        const int own = assignment[std::size_t(i)];
        if (sizes[std::size_t(own)] <= 1) continue;  // a singleton scores 0
        std::fill(sums.begin(), sums.end(), 0.0);
        for (int j = 0; j < n; ++j)
            sums[std::size_t(assignment[std::size_t(j)])] +=
                d[std::size_t(i) * std::size_t(n) + std::size_t(j)];
        const double a = sums[std::size_t(own)] / (sizes[std::size_t(own)] - 1);
        double b = std::numeric_limits<double>::infinity();
        for (int c = 0; c < k; ++c) {
            if (c != own && sizes[std::size_t(c)] > 0)
                b = std::min(b, sums[std::size_t(c)] / sizes[std::size_t(c)]);
        }
        const double m = std::max(a, b);
        if (m > 0.0 && std::isfinite(b)) total += (b - a) / m;
    }
    return total / n;
}

// Renumbers clusters 0..k-1 in order of first appearance (stable names across methods).
std::vector<int> canonicalLabels(const std::vector<int>& assignment) {
    std::map<int, int> order;
    std::vector<int> out(assignment.size());
    for (std::size_t i = 0; i < assignment.size(); ++i) {
        const auto it = order.emplace(assignment[i], int(order.size())).first;
        out[i] = it->second;
    }
    return out;
}

void checkData(const DescriptorMatrix& data, const char* what) {
    if (data.rows < 0 || data.cols < 0 ||
        data.values.size() != std::size_t(data.rows) * std::size_t(data.cols))
        throw Error(std::string(what) + ": the descriptor matrix is not rows x cols");
}

struct Merge {
    int a, b;
    double height;
};

// Ward merges by the nearest-neighbour chain (Murtagh 1983): O(n^2) memory and time per chain
// step, exact for Ward because its distance is reducible. Heights are Lance-Williams distances
// on squared Euclidean distances.
std::vector<Merge> wardMerges(const DescriptorMatrix& data) {
    const int n = data.rows;
    std::vector<double> d(std::size_t(n) * std::size_t(n), 0.0);
    for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j) {
            const double v = squaredDistance(data, i, j);
            d[std::size_t(i) * std::size_t(n) + std::size_t(j)] = v;
            d[std::size_t(j) * std::size_t(n) + std::size_t(i)] = v;
        }
    }
    auto at = [&](int i, int j) -> double& {
        return d[std::size_t(i) * std::size_t(n) + std::size_t(j)];
    };
    std::vector<int> size(std::size_t(n), 1);
    std::vector<char> active(std::size_t(n), 1);
    std::vector<int> chain;
    std::vector<Merge> merges;
    int remaining = n;
    while (remaining > 1) {
        if (chain.empty()) {
            for (int i = 0; i < n; ++i) {
                if (active[std::size_t(i)]) {
                    chain.push_back(i);
                    break;
                }
            }
        }
        const int a = chain.back();
        const int previous = chain.size() >= 2 ? chain[chain.size() - 2] : -1;
        int best = previous;
        double bestDistance =
            previous >= 0 ? at(a, previous) : std::numeric_limits<double>::infinity();
        for (int j = 0; j < n; ++j) {
            if (j == a || !active[std::size_t(j)]) continue;
            if (at(a, j) < bestDistance) {
                bestDistance = at(a, j);
                best = j;
            }
        }
        if (best == previous && previous >= 0) {
            chain.pop_back();
            chain.pop_back();
            const int b = previous;
            const double na = size[std::size_t(a)], nb = size[std::size_t(b)];
            for (int k = 0; k < n; ++k) {
                if (!active[std::size_t(k)] || k == a || k == b) continue;
                const double nk = size[std::size_t(k)];
                const double v =
                    ((na + nk) * at(a, k) + (nb + nk) * at(b, k) - nk * at(a, b)) / (na + nb + nk);
                at(a, k) = at(k, a) = v;
            }
            merges.push_back({a, b, bestDistance});
            size[std::size_t(a)] += size[std::size_t(b)];
            active[std::size_t(b)] = 0;
            --remaining;
        } else {
            chain.push_back(best);
        }
    }
    std::stable_sort(merges.begin(), merges.end(),
                     [](const Merge& x, const Merge& y) { return x.height < y.height; });
    return merges;
}

std::vector<int> cutMerges(const std::vector<Merge>& merges, int n, int k) {
    std::vector<int> parent(static_cast<std::size_t>(n));
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&](int x) {
        while (parent[std::size_t(x)] != x) {
            parent[std::size_t(x)] = parent[std::size_t(parent[std::size_t(x)])];
            x = parent[std::size_t(x)];
        }
        return x;
    };
    for (int m = 0; m < n - k && m < int(merges.size()); ++m) {
        parent[std::size_t(find(merges[std::size_t(m)].b))] = find(merges[std::size_t(m)].a);
    }
    std::vector<int> out(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) out[std::size_t(i)] = find(i);
    return canonicalLabels(out);
}

}  // namespace

void standardizeColumns(DescriptorMatrix& data) {
    checkData(data, "standardize");
    for (int c = 0; c < data.cols; ++c) {
        double sum = 0.0;
        int count = 0;
        for (int r = 0; r < data.rows; ++r) {
            if (std::isfinite(data.at(r, c))) {
                sum += data.at(r, c);
                ++count;
            }
        }
        const double mean = count > 0 ? sum / count : 0.0;
        double squares = 0.0;
        for (int r = 0; r < data.rows; ++r) {
            if (!std::isfinite(data.at(r, c))) data.at(r, c) = mean;
            squares += (data.at(r, c) - mean) * (data.at(r, c) - mean);
        }
        const double sd = data.rows > 0 ? std::sqrt(squares / data.rows) : 0.0;
        for (int r = 0; r < data.rows; ++r)
            data.at(r, c) = sd > 1e-12 ? (data.at(r, c) - mean) / sd : 0.0;
    }
}

DescriptorMatrix headDescriptors(const HeadFeatureTable& table) {
    const HeadFeature scalars[] = {HeadFeature::NormalizedEntropy, HeadFeature::DistanceRatio,
                                   HeadFeature::SelfShare,         HeadFeature::FirstTokenShare,
                                   HeadFeature::SinkShare,         HeadFeature::SparsityFraction};
    const int profile = int(table.distanceBinEdges.size()) - 1;
    const int pattern = table.offsetRows * table.offsetCols;
    const int scalarCount = int(std::size(scalars));
    DescriptorMatrix out;
    out.rows = int(table.heads.size());
    out.cols = std::max(0, profile) + pattern + scalarCount;
    out.values.assign(std::size_t(out.rows) * std::size_t(out.cols), 0.0);
    for (int b = 0; b < profile; ++b) out.columnNames.push_back("profile_" + std::to_string(b));
    for (int r = 0; r < table.offsetRows; ++r) {
        for (int c = 0; c < table.offsetCols; ++c) {
            out.columnNames.push_back(table.grid
                                          ? "offset_" + std::to_string(r - table.offsetRadius) +
                                                "_" + std::to_string(c - table.offsetRadius)
                                          : "offset_" + std::to_string(c - table.offsetRadius));
        }
    }
    for (HeadFeature f : scalars) out.columnNames.push_back(headFeatureName(f));
    for (int h = 0; h < out.rows; ++h) {
        const HeadFeatures& f = table.heads[std::size_t(h)].mean;
        auto putShape = [&](const std::vector<float>& v, int offset, int count) {
            double sum = 0.0;
            for (int i = 0; i < count && i < int(v.size()); ++i) sum += v[std::size_t(i)];
            for (int i = 0; i < count; ++i)
                out.at(h, offset + i) =
                    i < int(v.size()) && sum > 0.0 ? v[std::size_t(i)] / sum : 0.0;
        };
        putShape(f.distanceProfile, 0, std::max(0, profile));
        putShape(f.offsetPattern, std::max(0, profile), pattern);
        for (int s = 0; s < scalarCount; ++s) {
            const float v = f[scalars[s]];
            out.at(h, std::max(0, profile) + pattern + s) =
                std::isnan(v) ? std::numeric_limits<double>::quiet_NaN() : v;
        }
    }
    standardizeColumns(out);
    const int blocks[3][2] = {{0, std::max(0, profile)},
                              {std::max(0, profile), pattern},
                              {std::max(0, profile) + pattern, scalarCount}};
    for (const auto& block : blocks) {
        if (block[1] <= 0) continue;
        const double scale = 1.0 / std::sqrt(double(block[1]));
        for (int h = 0; h < out.rows; ++h) {
            for (int c = block[0]; c < block[0] + block[1]; ++c) out.at(h, c) *= scale;
        }
    }
    return out;
}

void symmetricEigen(std::vector<double> a, int n, std::vector<double>& values,
                    std::vector<double>& vectors) {
    if (n < 0 || a.size() != std::size_t(n) * std::size_t(n))
        throw Error("symmetric eigen: the matrix is not n x n");
    std::vector<double> v(std::size_t(n) * std::size_t(n), 0.0);
    for (int i = 0; i < n; ++i) v[std::size_t(i) * std::size_t(n) + std::size_t(i)] = 1.0;
    auto A = [&](int i, int j) -> double& {
        return a[std::size_t(i) * std::size_t(n) + std::size_t(j)];
    };
    auto V = [&](int i, int j) -> double& {
        return v[std::size_t(i) * std::size_t(n) + std::size_t(j)];
    };
    double scale = 0.0;
    for (double x : a) scale += x * x;
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0.0;
        for (int p = 0; p < n; ++p) {
            for (int q = p + 1; q < n; ++q) off += A(p, q) * A(p, q);
        }
        if (off <= 1e-30 * std::max(scale, 1e-300)) break;
        for (int p = 0; p < n; ++p) {
            for (int q = p + 1; q < n; ++q) {
                const double apq = A(p, q);
                if (std::abs(apq) < 1e-300) continue;
                // Rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s) that zeroes A'_pq = (J^T A
                // J)_pq: cot 2phi = (a_qq - a_pp) / (2 a_pq), t = tan phi the smaller root
                // (Numerical Recipes 11.1).
                const double theta = (A(q, q) - A(p, p)) / (2.0 * apq);
                const double t = (theta >= 0.0 ? 1.0 : -1.0) /
                                 (std::abs(theta) + std::sqrt(theta * theta + 1.0));
                const double c = 1.0 / std::sqrt(t * t + 1.0);
                const double s = t * c;
                for (int k = 0; k < n; ++k) {
                    const double akp = A(k, p), akq = A(k, q);
                    A(k, p) = c * akp - s * akq;
                    A(k, q) = s * akp + c * akq;
                }
                for (int k = 0; k < n; ++k) {
                    const double apk = A(p, k), aqk = A(q, k);
                    A(p, k) = c * apk - s * aqk;
                    A(q, k) = s * apk + c * aqk;
                }
                for (int k = 0; k < n; ++k) {
                    const double vkp = V(k, p), vkq = V(k, q);
                    V(k, p) = c * vkp - s * vkq;
                    V(k, q) = s * vkp + c * vkq;
                }
            }
        }
    }
    std::vector<int> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int x, int y) { return A(x, x) > A(y, y); });
    values.assign(std::size_t(n), 0.0);
    vectors.assign(std::size_t(n) * std::size_t(n), 0.0);
    for (int i = 0; i < n; ++i) {
        const int src = order[std::size_t(i)];
        values[std::size_t(i)] = A(src, src);
        for (int k = 0; k < n; ++k)
            vectors[std::size_t(i) * std::size_t(n) + std::size_t(k)] = V(k, src);
    }
}

PcaResult principalComponents(const DescriptorMatrix& data, int components) {
    checkData(data, "PCA");
    if (components < 1) throw Error("PCA: at least one component is needed");
    const int n = data.rows, d = data.cols;
    PcaResult result;
    result.components = components;
    result.coordinates.assign(std::size_t(n) * std::size_t(components), 0.0);
    result.axes.assign(std::size_t(components) * std::size_t(d), 0.0);
    result.variances.assign(std::size_t(components), 0.0);
    if (n < 2 || d < 1) return result;
    std::vector<double> x = data.values;
    for (int c = 0; c < d; ++c) {
        double mean = 0.0;
        for (int r = 0; r < n; ++r) mean += x[std::size_t(r) * std::size_t(d) + std::size_t(c)];
        mean /= n;
        for (int r = 0; r < n; ++r) x[std::size_t(r) * std::size_t(d) + std::size_t(c)] -= mean;
    }
    auto X = [&](int r, int c) { return x[std::size_t(r) * std::size_t(d) + std::size_t(c)]; };
    std::vector<double> values, vectors;
    const int useful = std::min(components, std::min(n, d));
    if (d <= n) {
        std::vector<double> cov(std::size_t(d) * std::size_t(d), 0.0);
        for (int r = 0; r < n; ++r) {
            for (int i = 0; i < d; ++i) {
                const double xi = X(r, i);
                if (xi == 0.0) continue;
                for (int j = i; j < d; ++j)
                    cov[std::size_t(i) * std::size_t(d) + std::size_t(j)] += xi * X(r, j);
            }
        }
        for (int i = 0; i < d; ++i) {
            for (int j = i; j < d; ++j) {
                const double v = cov[std::size_t(i) * std::size_t(d) + std::size_t(j)] / (n - 1);
                cov[std::size_t(i) * std::size_t(d) + std::size_t(j)] =
                    cov[std::size_t(j) * std::size_t(d) + std::size_t(i)] = v;
            }
        }
        for (int i = 0; i < d; ++i)
            result.totalVariance += cov[std::size_t(i) * std::size_t(d) + std::size_t(i)];
        symmetricEigen(cov, d, values, vectors);
        for (int c = 0; c < useful; ++c) {
            result.variances[std::size_t(c)] = std::max(0.0, values[std::size_t(c)]);
            std::copy_n(vectors.begin() + std::ptrdiff_t(std::size_t(c) * std::size_t(d)), d,
                        result.axes.begin() + std::ptrdiff_t(std::size_t(c) * std::size_t(d)));
        }
    } else {
        // Fewer rows than columns: eigenvectors u of the Gram matrix X X^T give axes X^T u / |X^T
        // u|.
        std::vector<double> gram(std::size_t(n) * std::size_t(n), 0.0);
        for (int i = 0; i < n; ++i) {
            for (int j = i; j < n; ++j) {
                double s = 0.0;
                for (int c = 0; c < d; ++c) s += X(i, c) * X(j, c);
                gram[std::size_t(i) * std::size_t(n) + std::size_t(j)] =
                    gram[std::size_t(j) * std::size_t(n) + std::size_t(i)] = s / (n - 1);
            }
        }
        for (int i = 0; i < n; ++i)
            result.totalVariance += gram[std::size_t(i) * std::size_t(n) + std::size_t(i)];
        symmetricEigen(gram, n, values, vectors);
        for (int c = 0; c < useful; ++c) {
            result.variances[std::size_t(c)] = std::max(0.0, values[std::size_t(c)]);
            double norm = 0.0;
            for (int k = 0; k < d; ++k) {
                double s = 0.0;
                for (int r = 0; r < n; ++r)
                    s += X(r, k) * vectors[std::size_t(c) * std::size_t(n) + std::size_t(r)];
                result.axes[std::size_t(c) * std::size_t(d) + std::size_t(k)] = s;
                norm += s * s;
            }
            norm = std::sqrt(norm);
            for (int k = 0; k < d; ++k)
                result.axes[std::size_t(c) * std::size_t(d) + std::size_t(k)] =
                    norm > 1e-300
                        ? result.axes[std::size_t(c) * std::size_t(d) + std::size_t(k)] / norm
                        : 0.0;
        }
    }
    for (int c = 0; c < useful; ++c) {
        double* axis = result.axes.data() + std::size_t(c) * std::size_t(d);
        const double* largest = std::max_element(
            axis, axis + d, [](double p, double q) { return std::abs(p) < std::abs(q); });
        if (*largest < 0.0) {
            for (int k = 0; k < d; ++k) axis[k] = -axis[k];
        }
        for (int r = 0; r < n; ++r) {
            double s = 0.0;
            for (int k = 0; k < d; ++k) s += X(r, k) * axis[k];
            result.coordinates[std::size_t(r) * std::size_t(components) + std::size_t(c)] = s;
        }
    }
    return result;
}

std::vector<double> tsneEmbedding(const DescriptorMatrix& data, const TsneOptions& options) {
    checkData(data, "t-SNE");
    const int n = data.rows;
    const int dims = options.dimensions;
    if (dims < 1 || dims > 3) throw Error("t-SNE: dimensions must be 1, 2 or 3");
    std::vector<double> y(std::size_t(n) * std::size_t(dims), 0.0);
    if (n < 2) return y;
    // Input affinities: for each point, the Gaussian bandwidth whose conditional distribution has
    // the wanted perplexity (bisection on beta = 1 / (2 sigma^2)), then P = (P_j|i + P_i|j) / 2n.
    const double perplexity = std::clamp(options.perplexity, 1.0, std::max(1.0, (n - 1) / 3.0));
    const double targetEntropy = std::log(perplexity);
    std::vector<double> d2(std::size_t(n) * std::size_t(n), 0.0);
    for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j)
            d2[std::size_t(i) * std::size_t(n) + std::size_t(j)] =
                d2[std::size_t(j) * std::size_t(n) + std::size_t(i)] = squaredDistance(data, i, j);
    }
    std::vector<double> p(std::size_t(n) * std::size_t(n), 0.0);
    heads_detail::parallelFor(n, 0, [&](int i, int) {
        const double* row = d2.data() + std::size_t(i) * std::size_t(n);
        double* out = p.data() + std::size_t(i) * std::size_t(n);
        double minDistance = std::numeric_limits<double>::infinity();
        for (int j = 0; j < n; ++j) {
            if (j != i) minDistance = std::min(minDistance, row[j]);
        }
        double beta = 1.0, low = 0.0, high = std::numeric_limits<double>::infinity();
        for (int step = 0; step < 200; ++step) {
            double sum = 0.0, weighted = 0.0;
            for (int j = 0; j < n; ++j) {
                if (j == i) continue;
                const double w = std::exp(-beta * (row[j] - minDistance));  // shifted for stability
                out[j] = w;
                sum += w;
                weighted += w * (row[j] - minDistance);
            }
            const double entropy = std::log(sum) + beta * weighted / sum;
            for (int j = 0; j < n; ++j) out[j] /= sum;
            if (std::abs(entropy - targetEntropy) < 1e-5) break;
            if (entropy > targetEntropy) {
                low = beta;
                beta = std::isinf(high) ? beta * 2.0 : (beta + high) / 2.0;
            } else {
                high = beta;
                beta = (beta + low) / 2.0;
            }
        }
        out[i] = 0.0;
    });
    for (int i = 0; i < n; ++i) {
        for (int j = i + 1; j < n; ++j) {
            const double v = std::max((p[std::size_t(i) * std::size_t(n) + std::size_t(j)] +
                                       p[std::size_t(j) * std::size_t(n) + std::size_t(i)]) /
                                          (2.0 * n),
                                      1e-12);
            p[std::size_t(i) * std::size_t(n) + std::size_t(j)] =
                p[std::size_t(j) * std::size_t(n) + std::size_t(i)] = v;
        }
    }
    std::mt19937_64 random(options.seed);
    std::normal_distribution<double> normal(0.0, 1e-4);
    for (double& v : y) v = normal(random);
    // Belkina et al.'s n / exaggeration, without the floor of 50 that some libraries add: on a
    // few dozen heads that floor overshoots and leaves points stranded in other clusters.
    const double rate =
        options.learningRate > 0.0 ? options.learningRate : std::max(n / options.exaggeration, 1.0);
    std::vector<double> update(y.size(), 0.0), gains(y.size(), 1.0), gradient(y.size(), 0.0);
    std::vector<double> q(std::size_t(n) * std::size_t(n), 0.0);
    const int workers = heads_detail::workerCount(n, 0);
    for (int iteration = 0; iteration < options.iterations; ++iteration) {
        const double exaggeration =
            iteration < options.exaggerationIterations ? options.exaggeration : 1.0;
        const double momentum = iteration < 250 ? 0.5 : 0.8;
        // Student-t kernel and its normaliser Z.
        std::vector<double> rowSums(static_cast<std::size_t>(n),
                                    0.0);  // summed in order: deterministic
        heads_detail::parallelFor(n, workers, [&](int i, int) {
            double s = 0.0;
            for (int j = 0; j < n; ++j) {
                if (j == i) continue;
                double dist = 0.0;
                for (int c = 0; c < dims; ++c) {
                    const double diff = y[std::size_t(i) * std::size_t(dims) + std::size_t(c)] -
                                        y[std::size_t(j) * std::size_t(dims) + std::size_t(c)];
                    dist += diff * diff;
                }
                const double w = 1.0 / (1.0 + dist);
                q[std::size_t(i) * std::size_t(n) + std::size_t(j)] = w;
                s += w;
            }
            rowSums[std::size_t(i)] = s;
        });
        const double z = std::accumulate(rowSums.begin(), rowSums.end(), 0.0);
        // dC/dy_i = 4 sum_j (exaggeration p_ij - q_ij / Z) q_ij (y_i - y_j)   (van der Maaten 2008,
        // eq. 5)
        heads_detail::parallelFor(n, workers, [&](int i, int) {
            for (int c = 0; c < dims; ++c)
                gradient[std::size_t(i) * std::size_t(dims) + std::size_t(c)] = 0.0;
            for (int j = 0; j < n; ++j) {
                if (j == i) continue;
                const double w = q[std::size_t(i) * std::size_t(n) + std::size_t(j)];
                const double m =
                    (exaggeration * p[std::size_t(i) * std::size_t(n) + std::size_t(j)] - w / z) *
                    w;
                for (int c = 0; c < dims; ++c)
                    gradient[std::size_t(i) * std::size_t(dims) + std::size_t(c)] +=
                        4.0 * m *
                        (y[std::size_t(i) * std::size_t(dims) + std::size_t(c)] -
                         y[std::size_t(j) * std::size_t(dims) + std::size_t(c)]);
            }
        });
        for (std::size_t i = 0; i < y.size(); ++i) {
            const bool sameSign = (gradient[i] > 0.0) == (update[i] > 0.0);
            gains[i] = std::max(0.01, sameSign ? gains[i] * 0.8 : gains[i] + 0.2);
            update[i] = momentum * update[i] - rate * gains[i] * gradient[i];
            y[i] += update[i];
        }
        for (int c = 0; c < dims; ++c) {
            double mean = 0.0;
            for (int i = 0; i < n; ++i)
                mean += y[std::size_t(i) * std::size_t(dims) + std::size_t(c)];
            mean /= n;
            for (int i = 0; i < n; ++i)
                y[std::size_t(i) * std::size_t(dims) + std::size_t(c)] -= mean;
        }
    }
    return y;
}

const char* clusterMethodName(ClusterMethod method) {
    return method == ClusterMethod::Ward ? "ward" : "kmeans";
}

std::vector<int> kMeans(const DescriptorMatrix& data, int k, int restarts, std::uint64_t seed) {
    checkData(data, "k-means");
    const int n = data.rows, d = data.cols;
    if (k < 1 || k > n)
        throw Error("k-means: k = " + std::to_string(k) + " for " + std::to_string(n) + " points");
    std::mt19937_64 random(seed);
    std::vector<int> best;
    double bestInertia = std::numeric_limits<double>::infinity();
    std::vector<double> centres(std::size_t(k) * std::size_t(d));
    std::vector<int> assignment(static_cast<std::size_t>(n));
    std::vector<double> nearest(static_cast<std::size_t>(n));
    auto distanceTo = [&](int point, int centre) {
        double s = 0.0;
        for (int c = 0; c < d; ++c) {
            const double diff =
                data.at(point, c) - centres[std::size_t(centre) * std::size_t(d) + std::size_t(c)];
            s += diff * diff;
        }
        return s;
    };
    auto setCentre = [&](int centre, int point) {
        for (int c = 0; c < d; ++c)
            centres[std::size_t(centre) * std::size_t(d) + std::size_t(c)] = data.at(point, c);
    };
    for (int attempt = 0; attempt < std::max(1, restarts); ++attempt) {
        // k-means++: each next centre drawn with probability proportional to D(x)^2.
        setCentre(0, int(std::uniform_int_distribution<int>(0, n - 1)(random)));
        for (int i = 0; i < n; ++i) nearest[std::size_t(i)] = distanceTo(i, 0);
        for (int c = 1; c < k; ++c) {
            const double total = std::accumulate(nearest.begin(), nearest.end(), 0.0);
            int chosen = 0;
            if (total > 0.0) {
                double r = std::uniform_real_distribution<double>(0.0, total)(random);
                for (chosen = 0; chosen < n - 1; ++chosen) {
                    r -= nearest[std::size_t(chosen)];
                    if (r <= 0.0) break;
                }
            } else {
                chosen = int(std::uniform_int_distribution<int>(0, n - 1)(random));
            }
            setCentre(c, chosen);
            for (int i = 0; i < n; ++i)
                nearest[std::size_t(i)] = std::min(nearest[std::size_t(i)], distanceTo(i, c));
        }
        std::fill(assignment.begin(), assignment.end(), -1);
        double inertia = 0.0;
        for (int iteration = 0; iteration < 300; ++iteration) {
            bool changed = false;
            inertia = 0.0;
            for (int i = 0; i < n; ++i) {
                int bestCentre = 0;
                double bestDistance = distanceTo(i, 0);
                for (int c = 1; c < k; ++c) {
                    const double v = distanceTo(i, c);
                    if (v < bestDistance) {
                        bestDistance = v;
                        bestCentre = c;
                    }
                }
                nearest[std::size_t(i)] = bestDistance;
                inertia += bestDistance;
                if (assignment[std::size_t(i)] != bestCentre) {
                    assignment[std::size_t(i)] = bestCentre;
                    changed = true;
                }
            }
            if (!changed) break;
            std::vector<int> counts(std::size_t(k), 0);
            std::fill(centres.begin(), centres.end(), 0.0);
            for (int i = 0; i < n; ++i) {
                const int a = assignment[std::size_t(i)];
                ++counts[std::size_t(a)];
                for (int c = 0; c < d; ++c)
                    centres[std::size_t(a) * std::size_t(d) + std::size_t(c)] += data.at(i, c);
            }
            for (int a = 0; a < k; ++a) {
                if (counts[std::size_t(a)] == 0) {
                    // An empty cluster takes the point farthest from its centre.
                    const int far =
                        int(std::max_element(nearest.begin(), nearest.end()) - nearest.begin());
                    setCentre(a, far);
                    nearest[std::size_t(far)] = 0.0;
                    continue;
                }
                for (int c = 0; c < d; ++c)
                    centres[std::size_t(a) * std::size_t(d) + std::size_t(c)] /=
                        counts[std::size_t(a)];
            }
        }
        if (inertia < bestInertia) {
            bestInertia = inertia;
            best = assignment;
        }
    }
    return canonicalLabels(best);
}

std::vector<int> wardClustering(const DescriptorMatrix& data, int k) {
    checkData(data, "Ward clustering");
    if (k < 1 || k > data.rows)
        throw Error("Ward clustering: k = " + std::to_string(k) + " for " +
                    std::to_string(data.rows) + " points");
    return cutMerges(wardMerges(data), data.rows, k);
}

double silhouetteScore(const DescriptorMatrix& data, const std::vector<int>& assignment) {
    checkData(data, "silhouette");
    if (int(assignment.size()) != data.rows)
        throw Error("silhouette: one cluster per row is needed");
    return silhouetteFromDistances(distanceMatrix(data), data.rows, canonicalLabels(assignment));
}

HeadClustering clusterHeads(const DescriptorMatrix& data, const ClusterOptions& options) {
    checkData(data, "clustering");
    const int n = data.rows;
    HeadClustering result;
    if (n < 3) {
        result.k = n > 0 ? 1 : 0;
        result.assignment.assign(std::size_t(n), 0);
        return result;
    }
    if (options.k < 0)
        throw Error("clustering: k must be 0 (automatic) or positive, not " +
                    std::to_string(options.k));
    if (options.k == 0 && (options.minK < 2 || options.maxK < options.minK))
        throw Error("clustering: the k range " + std::to_string(options.minK) + ".." +
                    std::to_string(options.maxK) + " is empty");
    std::vector<Merge> merges;
    if (options.method == ClusterMethod::Ward) merges = wardMerges(data);
    auto clusterWith = [&](int k) {
        return options.method == ClusterMethod::Ward
                   ? cutMerges(merges, n, k)
                   : kMeans(data, k, options.restarts, options.seed);
    };
    const std::vector<double> distances = distanceMatrix(data);
    if (options.k > 0) {
        result.k = std::min(options.k, n);
        result.assignment = clusterWith(result.k);
        result.silhouette = silhouetteFromDistances(distances, n, result.assignment);
        return result;
    }
    double bestScore = -std::numeric_limits<double>::infinity();
    for (int k = options.minK; k <= std::min(options.maxK, n - 1); ++k) {
        std::vector<int> assignment = clusterWith(k);
        const double score = silhouetteFromDistances(distances, n, assignment);
        result.candidateK.push_back(k);
        result.candidateScore.push_back(score);
        if (score > bestScore + 1e-12) {
            bestScore = score;
            result.k = k;
            result.assignment = std::move(assignment);
            result.silhouette = score;
        }
    }
    return result;
}

std::vector<std::string> nameClusters(const std::vector<int>& assignment, int k,
                                      const std::vector<std::vector<HeadLabel>>& labels) {
    if (labels.size() != assignment.size())
        throw Error("cluster names: one label list per clustered head is needed");
    std::vector<std::string> names;
    std::map<std::string, int> used;
    for (int c = 0; c < k; ++c) {
        std::array<int, kHeadLabelCount> counts{};
        int members = 0, unlabelled = 0;
        for (std::size_t i = 0; i < assignment.size(); ++i) {
            if (assignment[i] != c) continue;
            ++members;
            if (labels[i].empty()) ++unlabelled;
            for (HeadLabel label : labels[i]) ++counts[std::size_t(label)];
        }
        std::vector<HeadLabel> dominant;
        for (HeadLabel label : allHeadLabels()) {
            if (members > 0 && 2 * counts[std::size_t(label)] >= members) dominant.push_back(label);
        }
        std::stable_sort(dominant.begin(), dominant.end(), [&](HeadLabel a, HeadLabel b) {
            return counts[std::size_t(a)] > counts[std::size_t(b)];
        });
        std::string name = joinHeadLabels(dominant, '+');
        if (name.empty()) name = 2 * unlabelled > members ? "unlabelled" : "mixed";
        const int seen = ++used[name];
        if (seen > 1) name += " " + std::to_string(seen);
        names.push_back(name);
    }
    return names;
}

}  // namespace fovea
