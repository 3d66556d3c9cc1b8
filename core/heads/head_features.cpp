#include "core/heads/head_features.h"

#include "core/explain/head_patterns.h"
#include "core/heads/attention_rows.h"
#include "core/heads/head_geometry.h"
#include "core/heads/row_kernels.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

namespace fovea {

namespace {

using heads_detail::Geometry;
using heads_detail::MaskView;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct FeatureText {
    const char* name;
    const char* description;
};

constexpr FeatureText kFeatureText[kHeadFeatureCount] = {
    {"entropy", "attention entropy per query, nats"},
    {"entropy_norm", "entropy / log(visible keys), 1 = uniform"},
    {"mean_distance", "mean attention distance, pixels (image grid) or tokens (text)"},
    {"distance_ratio", "mean distance / the distance of uniform attention"},
    {"cls_share", "share of each query's attention on CLS"},
    {"register_share", "share on register tokens"},
    {"first_token_share", "share on position 0"},
    {"self_share", "share on the query's own position"},
    {"previous_token", "share on the previous position (TransformerLens)"},
    {"duplicate_token", "share on earlier copies of the query's token (TransformerLens)"},
    {"induction", "share on the token after an earlier copy (TransformerLens)"},
    {"sparsity", "keys holding 90% of a query's attention"},
    {"sparsity_fraction", "sparsity / visible keys"},
    {"row_alignment", "patch attention on the query's row beyond chance (1 = all of it)"},
    {"column_alignment", "patch attention on the query's column beyond chance"},
    {"sink_share", "share on keys taking more than tau of the queries' attention"},
    {"max_key_share", "largest mean attention any one key receives"},
    {"attended_norm", "norm of the attended tokens / median token norm"},
};

// What depends on one input: masks, token ids (text patterns), pair counts by offset (text).
struct InputContext {
    const Geometry* geometry = nullptr;
    MaskView mask;
    bool hasIds = false;
    std::vector<std::vector<int>> duplicateKeys, inductionKeys;  // per query
    std::vector<double> textPairs;                               // per offset k - q + T - 1
    double textUniformDistance = 0.0;
    // Per query, so that a row multiplies instead of dividing: 1 / ln(visible keys) (0 where
    // fewer than 2 keys are visible) and 1 / visible keys.
    std::vector<double> inverseLogVisible, inverseVisible;
    explicit InputContext(const AttentionStack& stack) : mask(stack) {}
};

void prepareInput(InputContext& context, const Geometry& g, const std::vector<std::int64_t>& ids) {
    context.geometry = &g;
    const int n = g.tokens;
    const MaskView& mask = context.mask;
    context.inverseLogVisible.assign(std::size_t(n), 0.0);
    context.inverseVisible.assign(std::size_t(n), 0.0);
    for (int q = 0; q < n; ++q) {
        const int visible = mask.visibleKeys[std::size_t(q)];
        if (visible >= 2) context.inverseLogVisible[std::size_t(q)] = 1.0 / std::log(visible);
        context.inverseVisible[std::size_t(q)] = 1.0 / std::max(1, visible);
    }
    if (!ids.empty()) {
        context.hasIds = true;
        context.duplicateKeys.assign(std::size_t(n), {});
        context.inductionKeys.assign(std::size_t(n), {});
        // TransformerLens's patterns (head_patterns.h), kept as key lists per query.
        const std::vector<float> duplicate = headDetectionPattern(HeadPattern::DuplicateToken, ids);
        const std::vector<float> induction = headDetectionPattern(HeadPattern::Induction, ids);
        for (int q = 0; q < n; ++q) {
            for (int k = 0; k < n; ++k) {
                const std::size_t i = std::size_t(q) * std::size_t(n) + std::size_t(k);
                if (duplicate[i] > 0.0f) context.duplicateKeys[std::size_t(q)].push_back(k);
                if (induction[i] > 0.0f) context.inductionKeys[std::size_t(q)].push_back(k);
            }
        }
    }
    if (g.grid) return;
    context.textPairs.assign(std::size_t(2 * n - 1), 0.0);
    double distanceSum = 0.0;
    int queries = 0;
    for (int q = 0; q < n; ++q) {
        if (!mask.validQuery(q)) continue;
        double rowDistance = 0.0;
        int keys = 0;
        for (int k = 0; k < mask.keyEnd(q); ++k) {
            if (!mask.validKey[std::size_t(k)]) continue;
            context.textPairs[std::size_t(k - q + n - 1)] += 1.0;
            rowDistance += std::abs(k - q);
            ++keys;
        }
        if (keys > 0) {
            distanceSum += rowDistance / keys;
            ++queries;
        }
    }
    context.textUniformDistance = queries > 0 ? distanceSum / queries : 0.0;
}

struct Scratch {
    std::vector<float> row, columnMass, offsetMass;  // padded for the row kernels
    float* columnMassAt = nullptr;  // where sumRows left the head's masses, in the buffers above
    float* offsetMassAt = nullptr;
    heads_detail::MassScratch sparsity;
};

// `size` zeros in `buffer` from a cache-line boundary, so that the row kernels' vector loads and
// stores never straddle two lines: at the 16-byte alignment the allocator guarantees, one in four
// does, and the feature pass ran 13% slower when the row happened to land there (fovea bench
// heads).
float* zeroedAligned(std::vector<float>& buffer, std::size_t size) {
    constexpr std::size_t kLine = 64 / sizeof(float);
    if (buffer.size() < size + kLine) buffer.resize(size + kLine);
    const auto address = reinterpret_cast<std::uintptr_t>(buffer.data());
    float* aligned = buffer.data() + (kLine - address / sizeof(float) % kLine) % kLine;
    std::memset(aligned, 0, size * sizeof(float));  // all-zero bits are 0.0f
    return aligned;
}

float median(std::vector<float> values) {
    if (values.empty()) return kNaN;
    const std::size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(mid), values.end());
    return values[mid];
}

// The row loop of one head on one input: the scalar sums into `sums`, the column and offset
// masses into the scratch (scratch.columnMassAt / offsetMassAt, valid until the next call).
void sumRows(const AttentionLayer& layer, int slot, const InputContext& context,
             const HeadFeatureOptions& options, Scratch& scratch, HeadRowSums& sums) {
    const Geometry& g = *context.geometry;
    const MaskView& mask = context.mask;
    const int n = g.tokens;
    const int padded = heads_detail::paddedLength(n);
    // Rows are read in order of q, so a causal row's end never shrinks: the zeros past a row's
    // end, which the kernels rely on, stay zeros.
    const std::size_t offsetSize = g.offsetCount();
    float* row = zeroedAligned(scratch.row, std::size_t(padded));
    float* columnMass = zeroedAligned(scratch.columnMass, std::size_t(padded));
    float* offsetMass =
        zeroedAligned(scratch.offsetMass, offsetSize + 2 * heads_detail::kRowPadding);
    scratch.columnMassAt = columnMass;
    scratch.offsetMassAt = offsetMass;
    const bool half = layer.precision == AttentionPrecision::Float16;
    const std::size_t headOffset = std::size_t(slot) * std::size_t(n) * std::size_t(n);
    const std::uint32_t* keyBits = mask.allValid ? nullptr : mask.keyBits.data();
    const double need = options.sparsityMass - 1e-9;

    double entropy = 0.0, normalizedEntropy = 0.0, self = 0.0, previous = 0.0, sparsity = 0.0,
           sparsityFraction = 0.0;
    double duplicate = 0.0, induction = 0.0;
    int queries = 0, normalizedRows = 0, previousRows = 0, duplicateRows = 0, inductionRows = 0;
    for (int q = 0; q < n; ++q) {
        if (!mask.validQuery(q)) continue;
        const int end = mask.keyEnd(q);
        const std::size_t rowOffset = headOffset + std::size_t(q) * std::size_t(n);
        const heads_detail::RowTotals totals =
            half ? heads_detail::loadRow(layer.halfValues.data() + rowOffset,
                                         layer.halfValues.size() - rowOffset, keyBits, end, row,
                                         true, &scratch.sparsity)
                 : heads_detail::loadRow(layer.floatValues.data() + rowOffset,
                                         layer.floatValues.size() - rowOffset, keyBits, end, row,
                                         true, &scratch.sparsity);
        if (!(totals.sum > 0.0f) || !std::isfinite(totals.sum)) continue;
        // The row stays raw; what needs shares scales by 1 / sum as it reads.
        const float scale = 1.0f / totals.sum;
        heads_detail::addScaled(columnMass, row, end, scale);
        ++queries;
        // H = ln s - (1/s) sum a ln a over the raw values a of a row summing to s.
        const double h = std::max(
            0.0, double(heads_detail::logPositive(totals.sum)) - double(totals.xlogx) * scale);
        entropy += h;
        const int visible = mask.visibleKeys[std::size_t(q)];
        if (visible >= 2) {
            normalizedEntropy += h * context.inverseLogVisible[std::size_t(q)];
            ++normalizedRows;
        }
        self += row[q] * scale;
        if (q >= 1 && mask.validKey[std::size_t(q - 1)]) {
            previous += row[q - 1] * scale;
            ++previousRows;
        }
        const int needed = heads_detail::keysForMass(row, end, need * totals.sum, totals.maximum,
                                                     totals.sum, scratch.sparsity);
        sparsity += needed;
        sparsityFraction += double(needed) * context.inverseVisible[std::size_t(q)];
        if (context.hasIds) {
            const auto& dup = context.duplicateKeys[std::size_t(q)];
            if (!dup.empty()) {
                double m = 0.0;
                for (int k : dup) m += row[k] * scale;
                duplicate += m;
                ++duplicateRows;
            }
            const auto& ind = context.inductionKeys[std::size_t(q)];
            if (!ind.empty()) {
                double m = 0.0;
                for (int k : ind) m += row[k] * scale;
                induction += m;
                ++inductionRows;
            }
        }
        if (g.grid) {
            const int pr = g.patchRow[std::size_t(q)];
            if (pr < 0) continue;
            const int pc = g.patchCol[std::size_t(q)];
            if (g.patchesContiguous) {
                // Key row kr lands at offset row kr - pr: consecutive key rows, consecutive
                // offset rows.
                heads_detail::addScaledRows(
                    offsetMass + (g.rows - 1 - pr) * g.offsetWidth + (g.cols - 1 - pc),
                    g.offsetWidth, row + g.firstPatch, g.cols, g.rows, g.cols, scale);
            } else {
                for (int k = 0; k < n; ++k) {
                    const int kr = g.patchRow[std::size_t(k)];
                    if (kr < 0) continue;
                    offsetMass[(kr - pr + g.rows - 1) * g.offsetWidth + g.patchCol[std::size_t(k)] -
                               pc + g.cols - 1] += row[k] * scale;
                }
            }
        } else {
            heads_detail::addScaled(offsetMass + (n - 1 - q), row, end, scale);
        }
    }

    sums = HeadRowSums{};
    sums.entropy = entropy;
    sums.normalizedEntropy = normalizedEntropy;
    sums.self = self;
    sums.previous = previous;
    sums.duplicate = duplicate;
    sums.induction = induction;
    sums.sparsity = sparsity;
    sums.sparsityFraction = sparsityFraction;
    sums.queries = queries;
    sums.normalizedRows = normalizedRows;
    sums.previousRows = previousRows;
    sums.duplicateRows = duplicateRows;
    sums.inductionRows = inductionRows;
}

// A head's features from its row sums on one input; columnMass has a value per token and
// offsetMass one per offset (HeadRowSums).
HeadFeatures formFeatures(const HeadRowSums& sums, const float* columnMass, const float* offsetMass,
                          const InputContext& context, const HeadFeatureOptions& options,
                          const std::vector<float>* norms) {
    const Geometry& g = *context.geometry;
    const MaskView& mask = context.mask;
    const int n = g.tokens;
    const int queries = sums.queries;
    HeadFeatures f;
    f.values.fill(kNaN);
    if (queries == 0) return f;
    const double nq = queries;
    f[HeadFeature::Entropy] = float(sums.entropy / nq);
    if (sums.normalizedRows > 0)
        f[HeadFeature::NormalizedEntropy] = float(sums.normalizedEntropy / sums.normalizedRows);
    f[HeadFeature::FirstTokenShare] = float(columnMass[0] / nq);
    if (g.cls >= 0) f[HeadFeature::ClsShare] = float(columnMass[g.cls] / nq);
    if (!g.registers.empty()) {
        double m = 0.0;
        for (int r : g.registers) m += columnMass[r];
        f[HeadFeature::RegisterShare] = float(m / nq);
    }
    f[HeadFeature::SelfShare] = float(sums.self / nq);
    if (sums.previousRows > 0)
        f[HeadFeature::PreviousToken] = float(sums.previous / sums.previousRows);
    if (context.hasIds) {
        f[HeadFeature::DuplicateToken] =
            sums.duplicateRows > 0 ? float(sums.duplicate / sums.duplicateRows) : 0.0f;
        f[HeadFeature::Induction] =
            sums.inductionRows > 0 ? float(sums.induction / sums.inductionRows) : 0.0f;
    }
    f[HeadFeature::Sparsity] = float(sums.sparsity / nq);
    f[HeadFeature::SparsityFraction] = float(sums.sparsityFraction / nq);
    double sink = 0.0, maxKey = 0.0, attendedNorm = 0.0;
    for (int k = 0; k < n; ++k) {
        const double share = columnMass[k] / nq;
        if (share > options.sinkTau) sink += share;
        maxKey = std::max(maxKey, share);
    }
    f[HeadFeature::SinkShare] = float(sink);
    f[HeadFeature::MaxKeyShare] = float(maxKey);
    if (norms != nullptr && int(norms->size()) == n) {
        std::vector<float> valid;
        for (int k = 0; k < n; ++k) {
            if (mask.validKey[std::size_t(k)]) valid.push_back((*norms)[std::size_t(k)]);
        }
        const float typical = median(valid);
        if (typical > 0.0f) {
            for (int k = 0; k < n; ++k)
                attendedNorm += columnMass[k] / nq * (*norms)[std::size_t(k)];
            f[HeadFeature::AttendedNorm] = float(attendedNorm / typical);
        }
    }

    const int bins = g.bins;
    std::vector<double> binMass(std::size_t(bins), 0.0), binPairs(std::size_t(bins), 0.0);
    if (g.grid) {
        const int r = options.offsetRadius;
        const int side = 2 * r + 1;
        f.offsetPattern.assign(std::size_t(side * side), 0.0f);
        // Over every offset: the mass, its distance and its bin (the pairs per bin are the
        // geometry's); then the query's own row and column of offsets, and the small pattern.
        // Sums in two halves, and bin by bin: one running sum per loop is a chain of dependent
        // adds, and a bin's mass added in place waited on its own last store.
        double total = 0.0, distance = 0.0, sameRow = 0.0, sameColumn = 0.0;
        {
            double distanceEven = 0.0, distanceOdd = 0.0;
            const std::size_t offsets = g.offsetPairs.size();
            std::size_t o = 0;
            for (; o + 1 < offsets; o += 2) {
                distanceEven += double(offsetMass[o]) * g.offsetDistance[o];
                distanceOdd += double(offsetMass[o + 1]) * g.offsetDistance[o + 1];
            }
            if (o < offsets) distanceEven += double(offsetMass[o]) * g.offsetDistance[o];
            distance = distanceEven + distanceOdd;
        }
        for (int b = 0; b < bins; ++b) {
            double even = 0.0, odd = 0.0;
            int i = g.binStart[std::size_t(b)];
            const int stop = g.binStart[std::size_t(b) + 1];
            for (; i + 1 < stop; i += 2) {
                even += offsetMass[g.offsetsByBin[std::size_t(i)]];
                odd += offsetMass[g.offsetsByBin[std::size_t(i) + 1]];
            }
            if (i < stop) even += offsetMass[g.offsetsByBin[std::size_t(i)]];
            binMass[std::size_t(b)] = even + odd;
            total += binMass[std::size_t(b)];
        }
        binPairs = g.binPairs;
        const float* centre = offsetMass + (g.rows - 1) * g.offsetWidth + (g.cols - 1);
        const double selfMass = centre[0];
        for (int dc = -(g.cols - 1); dc <= g.cols - 1; ++dc) {
            if (dc != 0) sameRow += centre[dc];
        }
        for (int dr = -(g.rows - 1); dr <= g.rows - 1; ++dr) {
            if (dr != 0) sameColumn += centre[dr * g.offsetWidth];
        }
        const int rowReach = std::min(r, g.rows - 1), colReach = std::min(r, g.cols - 1);
        for (int dr = -rowReach; dr <= rowReach; ++dr) {
            for (int dc = -colReach; dc <= colReach; ++dc) {
                const std::size_t o =
                    std::size_t((dr + g.rows - 1) * g.offsetWidth + dc + g.cols - 1);
                f.offsetPattern[std::size_t((dr + r) * side + dc + r)] =
                    float(offsetMass[o] / g.offsetPairs[o]);
            }
        }
        if (total > 0.0) {
            f[HeadFeature::MeanDistance] = float(distance / total * options.patchSizePixels);
            f[HeadFeature::DistanceRatio] = float(distance / total / g.uniformDistance);
        }
        const double others = total - selfMass;
        if (others > 1e-12 && g.patches > 1) {
            const double rowChance = double(g.cols - 1) / (g.patches - 1);
            const double columnChance = double(g.rows - 1) / (g.patches - 1);
            if (rowChance < 1.0)
                f[HeadFeature::RowAlignment] =
                    float((sameRow / others - rowChance) / (1.0 - rowChance));
            if (columnChance < 1.0)
                f[HeadFeature::ColumnAlignment] =
                    float((sameColumn / others - columnChance) / (1.0 - columnChance));
        }
    } else {
        const int r = options.textOffsetRadius;
        f.offsetPattern.assign(std::size_t(2 * r + 1), 0.0f);
        double distance = 0.0;
        for (int o = -(n - 1); o <= n - 1; ++o) {
            const std::size_t index = std::size_t(o + n - 1);
            const double m = offsetMass[index];
            const double pairs = context.textPairs[index];
            distance += m * std::abs(o);
            const int bin = std::min(bins - 1, int(std::abs(o) / g.maxDistance * bins));
            binMass[std::size_t(bin)] += m;
            binPairs[std::size_t(bin)] += pairs;
            if (std::abs(o) <= r && pairs > 0.0)
                f.offsetPattern[std::size_t(o + r)] = float(m / pairs);
        }
        f[HeadFeature::MeanDistance] = float(distance / nq);
        if (context.textUniformDistance > 0.0)
            f[HeadFeature::DistanceRatio] = float(distance / nq / context.textUniformDistance);
    }
    f.distanceProfile.assign(std::size_t(bins), 0.0f);
    for (int b = 0; b < bins; ++b) {
        if (binPairs[std::size_t(b)] > 0.0)
            f.distanceProfile[std::size_t(b)] =
                float(binMass[std::size_t(b)] / binPairs[std::size_t(b)]);
    }
    return f;
}

HeadFeatureTable tableShape(const AttentionStack& stack, const Geometry& g,
                            const HeadFeatureOptions& options) {
    HeadFeatureTable table;
    table.modality = g.modality;
    table.grid = g.grid;
    table.gridRows = g.grid ? g.rows : 0;
    table.gridCols = g.grid ? g.cols : 0;
    table.tokens = g.tokens;
    const double unit = g.grid ? options.patchSizePixels : 1.0;
    for (int b = 0; b <= g.bins; ++b)
        table.distanceBinEdges.push_back(float(g.maxDistance * unit * b / g.bins));
    if (g.grid) {
        table.offsetRadius = options.offsetRadius;
        table.offsetRows = table.offsetCols = 2 * options.offsetRadius + 1;
    } else {
        table.offsetRadius = options.textOffsetRadius;
        table.offsetRows = 1;
        table.offsetCols = 2 * options.textOffsetRadius + 1;
    }
    for (const AttentionLayer& layer : stack.layers) {
        for (int head : layer.heads) {
            HeadSummary summary;
            summary.layer = layer.layer;
            summary.head = head;
            table.heads.push_back(summary);
        }
    }
    std::sort(table.heads.begin(), table.heads.end(),
              [](const HeadSummary& a, const HeadSummary& b) {
                  return a.layer != b.layer ? a.layer < b.layer : a.head < b.head;
              });
    return table;
}

void checkOptions(const HeadFeatureOptions& options) {
    if (!(options.patchSizePixels > 0.0))
        throw Error("head features: the patch size must be positive");
    if (options.distanceBins < 1) throw Error("head features: distanceBins must be at least 1");
    if (!(options.sparsityMass > 0.0 && options.sparsityMass <= 1.0))
        throw Error("head features: sparsityMass must be in (0, 1]");
    if (options.offsetRadius < 0 || options.textOffsetRadius < 0)
        throw Error("head features: offset radii must be >= 0");
}

}  // namespace

const char* headFeatureName(HeadFeature feature) {
    return kFeatureText[int(feature)].name;
}
const char* headFeatureDescription(HeadFeature feature) {
    return kFeatureText[int(feature)].description;
}

const std::array<HeadFeature, kHeadFeatureCount>& allHeadFeatures() {
    static const std::array<HeadFeature, kHeadFeatureCount> all = [] {
        std::array<HeadFeature, kHeadFeatureCount> a{};
        for (int i = 0; i < kHeadFeatureCount; ++i) a[std::size_t(i)] = HeadFeature(i);
        return a;
    }();
    return all;
}

const HeadSummary* HeadFeatureTable::find(int layer, int head) const {
    const int index = indexOf(layer, head);
    return index < 0 ? nullptr : &heads[std::size_t(index)];
}

int HeadFeatureTable::indexOf(int layer, int head) const {
    for (std::size_t i = 0; i < heads.size(); ++i) {
        if (heads[i].layer == layer && heads[i].head == head) return int(i);
    }
    return -1;
}

HeadFeatureAccumulator::HeadFeatureAccumulator(HeadFeatureOptions options) : m_options(options) {
    checkOptions(m_options);
}

// One input, ready to measure: its geometry and masks, and a job per head.
struct HeadFeatureAccumulator::Prepared {
    struct Job {
        const AttentionLayer* layer;
        int slot;
        int layerIndex;
        int tableIndex;
    };
    // On the heap, so that the context's pointer to the geometry survives a move of this.
    std::unique_ptr<Geometry> geometry;
    std::unique_ptr<InputContext> context;
    std::vector<Job> jobs;
    const std::vector<std::vector<float>>* tokenNorms = nullptr;

    const std::vector<float>* norms(const Job& job) const {
        return tokenNorms->empty() || (*tokenNorms)[std::size_t(job.layerIndex)].empty()
                   ? nullptr
                   : &(*tokenNorms)[std::size_t(job.layerIndex)];
    }
};

HeadFeatureAccumulator::Prepared HeadFeatureAccumulator::prepare(
    const AttentionStack& stack, const std::vector<std::int64_t>& ids,
    const std::vector<std::vector<float>>& tokenNorms, bool readValues) {
    checkHeadInput(stack, ids, readValues);
    if (!tokenNorms.empty() && tokenNorms.size() != stack.layers.size()) {
        throw Error("head features: token norms for " + std::to_string(tokenNorms.size()) +
                    " layers, the input has " + std::to_string(stack.layers.size()));
    }
    Prepared prepared;
    prepared.geometry = std::make_unique<Geometry>(
        heads_detail::makeGeometry(stack.tokens, m_options.distanceBins));
    HeadFeatureTable shape = tableShape(stack, *prepared.geometry, m_options);
    if (m_inputs == 0) {
        m_shape = shape;
        m_sums.assign(m_shape.heads.size(), Sums{});
    } else {
        bool same = shape.tokens == m_shape.tokens && shape.grid == m_shape.grid &&
                    shape.heads.size() == m_shape.heads.size();
        for (std::size_t i = 0; same && i < shape.heads.size(); ++i)
            same = shape.heads[i].layer == m_shape.heads[i].layer &&
                   shape.heads[i].head == m_shape.heads[i].head;
        if (!same) {
            throw Error("head features: input " + std::to_string(m_inputs + 1) + " has " +
                        std::to_string(shape.tokens) + " tokens and " +
                        std::to_string(shape.heads.size()) + " heads, the first input " +
                        std::to_string(m_shape.tokens) + " and " +
                        std::to_string(m_shape.heads.size()) +
                        " (inputs of one table need the same layout)");
        }
    }
    prepared.context = std::make_unique<InputContext>(stack);
    prepareInput(*prepared.context, *prepared.geometry, ids);
    prepared.tokenNorms = &tokenNorms;

    // The table's heads are sorted by layer and head (tableShape): found by bisection, not by
    // a scan per head (a thousand heads made that a million comparisons per input).
    auto sortedIndex = [this](int layer, int head) {
        const auto at = std::lower_bound(m_shape.heads.begin(), m_shape.heads.end(),
                                         std::make_pair(layer, head),
                                         [](const HeadSummary& h, const std::pair<int, int>& key) {
                                             return std::make_pair(h.layer, h.head) < key;
                                         });
        return at != m_shape.heads.end() && at->layer == layer && at->head == head
                   ? int(at - m_shape.heads.begin())
                   : -1;  // not reached: every input has the first input's heads (checked above)
    };
    for (std::size_t l = 0; l < stack.layers.size(); ++l) {
        const AttentionLayer& layer = stack.layers[l];
        for (std::size_t s = 0; s < layer.heads.size(); ++s)
            prepared.jobs.push_back(
                {&layer, int(s), int(l), sortedIndex(layer.layer, layer.heads[s])});
    }
    return prepared;
}

void HeadFeatureAccumulator::add(const AttentionStack& stack, const std::vector<std::int64_t>& ids,
                                 const std::vector<std::vector<float>>& tokenNorms) {
    const Prepared prepared = prepare(stack, ids, tokenNorms, true);
    const auto& jobs = prepared.jobs;
    std::vector<HeadFeatures> results(jobs.size());
    std::vector<Scratch> scratch(
        std::size_t(heads_detail::workerCount(int(jobs.size()), m_options.threads)));
    heads_detail::parallelFor(int(jobs.size()), m_options.threads, [&](int j, int worker) {
        const Prepared::Job& job = jobs[std::size_t(j)];
        Scratch& mine = scratch[std::size_t(worker)];
        HeadRowSums sums;
        sumRows(*job.layer, job.slot, *prepared.context, m_options, mine, sums);
        results[std::size_t(j)] = formFeatures(sums, mine.columnMassAt, mine.offsetMassAt,
                                               *prepared.context, m_options, prepared.norms(job));
    });
    accumulate(prepared, results);
}

void HeadFeatureAccumulator::addMeasured(const AttentionStack& stack,
                                         const std::vector<HeadRowSums>& sums,
                                         const std::vector<std::int64_t>& ids,
                                         const std::vector<std::vector<float>>& tokenNorms) {
    const Prepared prepared = prepare(stack, ids, tokenNorms, false);
    // (A first input that fails here leaves no trace: the next input's layout replaces it.)
    if (sums.size() != prepared.jobs.size()) {
        throw Error("head features: " + std::to_string(sums.size()) +
                    " measured heads for an input of " + std::to_string(prepared.jobs.size()) +
                    " heads");
    }
    const std::size_t n = std::size_t(stack.tokens.size());
    const std::size_t offsets = prepared.geometry->offsetCount();
    for (const HeadRowSums& head : sums) {
        if (head.columnMass.size() != n || head.offsetMass.size() != offsets) {
            throw Error("head features: measured sums hold " +
                        std::to_string(head.columnMass.size()) + " column and " +
                        std::to_string(head.offsetMass.size()) +
                        " offset masses, the input needs " + std::to_string(n) + " and " +
                        std::to_string(offsets));
        }
    }
    std::vector<HeadFeatures> results(prepared.jobs.size());
    for (std::size_t j = 0; j < prepared.jobs.size(); ++j) {
        results[j] = formFeatures(sums[j], sums[j].columnMass.data(), sums[j].offsetMass.data(),
                                  *prepared.context, m_options, prepared.norms(prepared.jobs[j]));
    }
    accumulate(prepared, results);
}

void HeadFeatureAccumulator::accumulate(const Prepared& prepared,
                                        const std::vector<HeadFeatures>& results) {
    for (std::size_t j = 0; j < prepared.jobs.size(); ++j) {
        Sums& sums = m_sums[std::size_t(prepared.jobs[j].tableIndex)];
        const HeadFeatures& f = results[j];
        for (int i = 0; i < kHeadFeatureCount; ++i) {
            const double v = f.values[std::size_t(i)];
            if (std::isnan(v)) continue;
            sums.sum[std::size_t(i)] += v;
            sums.squares[std::size_t(i)] += v * v;
            ++sums.count[std::size_t(i)];
        }
        auto addVector = [](std::vector<double>& sum, std::vector<double>& squares,
                            const std::vector<float>& v) {
            if (sum.empty()) {
                sum.assign(v.size(), 0.0);
                squares.assign(v.size(), 0.0);
            }
            for (std::size_t i = 0; i < v.size() && i < sum.size(); ++i) {
                sum[i] += v[i];
                squares[i] += double(v[i]) * v[i];
            }
        };
        addVector(sums.profile, sums.profileSquares, f.distanceProfile);
        addVector(sums.offset, sums.offsetSquares, f.offsetPattern);
    }
    ++m_inputs;
}

HeadFeatureTable HeadFeatureAccumulator::table() const {
    if (m_inputs == 0) throw Error("head features: no input was added");
    HeadFeatureTable table = m_shape;
    table.inputs = m_inputs;
    auto moments = [](double sum, double squares, int count, float& mean, float& spread) {
        if (count == 0) {
            mean = spread = kNaN;
            return;
        }
        const double m = sum / count;
        mean = float(m);
        spread = float(std::sqrt(std::max(0.0, squares / count - m * m)));
    };
    for (std::size_t h = 0; h < table.heads.size(); ++h) {
        const Sums& sums = m_sums[h];
        HeadSummary& out = table.heads[h];
        for (int i = 0; i < kHeadFeatureCount; ++i) {
            moments(sums.sum[std::size_t(i)], sums.squares[std::size_t(i)],
                    sums.count[std::size_t(i)], out.mean.values[std::size_t(i)],
                    out.spread.values[std::size_t(i)]);
        }
        auto vectors = [&](const std::vector<double>& sum, const std::vector<double>& squares,
                           std::vector<float>& mean, std::vector<float>& spread) {
            mean.resize(sum.size());
            spread.resize(sum.size());
            for (std::size_t i = 0; i < sum.size(); ++i)
                moments(sum[i], squares[i], m_inputs, mean[i], spread[i]);
        };
        vectors(sums.profile, sums.profileSquares, out.mean.distanceProfile,
                out.spread.distanceProfile);
        vectors(sums.offset, sums.offsetSquares, out.mean.offsetPattern, out.spread.offsetPattern);
    }
    return table;
}

void checkHeadInput(const AttentionStack& stack, const std::vector<std::int64_t>& ids,
                    bool values) {
    if (stack.empty()) throw Error("head features: the input has no captured attention");
    const int n = stack.tokens.size();
    if (!ids.empty() && int(ids.size()) != n) {
        throw Error("head features: " + std::to_string(ids.size()) + " token ids for an input of " +
                    std::to_string(n) + " tokens");
    }
    for (const AttentionLayer& layer : stack.layers) {
        if (layer.tokens != n) {
            throw Error("head features: layer " + std::to_string(layer.layer) + " has " +
                        std::to_string(layer.tokens) + " tokens, the input " + std::to_string(n));
        }
        const std::size_t expected = layer.heads.size() * std::size_t(n) * std::size_t(n);
        const std::size_t stored = layer.precision == AttentionPrecision::Float16
                                       ? layer.halfValues.size()
                                       : layer.floatValues.size();
        if (values && stored != expected) {
            throw Error("head features: layer " + std::to_string(layer.layer) + " holds " +
                        std::to_string(stored) + " attention values, expected " +
                        std::to_string(layer.heads.size()) + " heads x " + std::to_string(n) +
                        "^2");
        }
    }
}

HeadFeatureTable computeHeadFeatures(const AttentionStack& stack, const HeadFeatureOptions& options,
                                     const std::vector<std::int64_t>& ids,
                                     const std::vector<std::vector<float>>& tokenNorms) {
    HeadFeatureAccumulator accumulator(options);
    accumulator.add(stack, ids, tokenNorms);
    return accumulator.table();
}

std::vector<std::vector<float>> valueNorms(const AttentionStack& stack) {
    std::vector<std::vector<float>> out;
    for (const AttentionLayer& layer : stack.layers) {
        std::vector<float> norms;
        if (!layer.values.empty() && layer.tokens > 0) {
            const std::size_t width = layer.values.size() / std::size_t(layer.tokens);
            norms.resize(std::size_t(layer.tokens));
            for (int t = 0; t < layer.tokens; ++t) {
                double s = 0.0;
                const float* v = layer.values.data() + std::size_t(t) * width;
                for (std::size_t i = 0; i < width; ++i) s += double(v[i]) * v[i];
                norms[std::size_t(t)] = float(std::sqrt(s));
            }
        }
        out.push_back(std::move(norms));
    }
    return out;
}

}  // namespace fovea
