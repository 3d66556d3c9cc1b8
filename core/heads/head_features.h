// Per-head features of captured attention: what each head does, as numbers a person can read
// (entropy, mean attention distance, share to CLS / registers / the first token, ...), measured
// on one input or averaged over a set of inputs with their spread. Torch-free: it reads
// AttentionStack only, so it runs on attention captured earlier (fovea dump, a session).
//
//     HeadFeatureOptions options;
//     options.patchSizePixels = model.spec().patchSize;     // distances in pixels on image grids
//     HeadFeatureAccumulator features(options);
//     for (const auto& input : inputs) {
//         ModelOutputs out = model.run(input, CaptureRequest{});
//         features.add(out.attention);                        // text: add(out.attention, ids)
//     }
//     HeadFeatureTable table = features.table();
//     for (const HeadSummary& head : table.heads)
//         std::printf("L%d H%d entropy %.2f +- %.2f nats\n", head.layer, head.head,
//                     head.mean[HeadFeature::Entropy], head.spread[HeadFeature::Entropy]);
//
// Conventions (the same for every feature):
// - Query rows: every non-padding position (AttentionStack::keyMask); a query's valid keys are
//   those the model let it see (causal mask, padding). Rows are renormalised over valid keys, so
//   float16 rounding does not leak into entropies.
// - "Share" features are a mean over valid queries of the attention mass a query gives to a set
//   of keys (0..1). A value of NaN means "does not apply" (row alignment of a text head, induction
//   without token ids, the attended norm without token norms).
// - Distances: image grids measure between patch centres, in pixels (patch distance x
//   patchSizePixels), over patch queries and patch keys with the row renormalised over patch keys
//   (so a head that mostly looks at CLS still has a spatial spread); text measures |q - k| in
//   tokens over all valid keys. Dosovitskiy et al. 2021 (ViT), Fig. 7.
// - The distance profile is Li et al.'s attention strength versus distance (TVCG 2023): the mean
//   attention weight of the query-key pairs whose distance falls in each bin (not their sum), so a
//   uniform head is flat. Bins are equal-width from 0 to the largest distance of the geometry.
// - The offset pattern is the mean attention weight as a function of relative offset: on grids a
//   (2r+1) x (2r+1) window of (row offset, column offset) of key minus query patch (r =
//   offsetRadius), on text one row of key minus query offsets -R..R (R = textOffsetRadius). It is
//   the head's "average pattern" thumbnail and part of its cluster descriptor.
#pragma once

#include "core/model/attention_stack.h"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace fovea {

enum class HeadFeature : int {
    Entropy,            // nats, mean over valid queries of -sum_k a log a
    NormalizedEntropy,  // entropy / log(valid keys), mean over queries with >= 2 valid keys (1 =
                        // uniform)
    MeanDistance,       // pixels (image grid) or tokens (text); see the conventions above
    DistanceRatio,      // MeanDistance / the distance uniform attention would have (1 = chance)
    ClsShare,           // mass on the CLS token (NaN without one)
    RegisterShare,      // mass on register tokens (NaN without registers)
    FirstTokenShare,    // mass on position 0 (CLS in ViTs, BOS / [CLS] in text models)
    SelfShare,          // mass on the query's own position (the diagonal)
    PreviousToken,   // mass on k = q - 1, mean over queries q >= 1 (TransformerLens, pattern rows)
    DuplicateToken,  // mass on earlier copies of the query's token, over queries that have one
                     // (needs ids)
    Induction,  // mass on the token after an earlier copy, over queries that have one (needs ids)
    Sparsity,   // keys needed for sparsityMass (0.9) of a query's mass, mean over queries
    SparsityFraction,  // Sparsity / valid keys (small = sparse)
    RowAlignment,  // grids: share of patch mass on other patches of the query's row, beyond chance
    ColumnAlignment,  // grids: the same for the query's column; (observed - chance) / (1 - chance)
    SinkShare,        // mass on keys whose mean incoming mass per query exceeds sinkTau (this head)
    MaxKeyShare,      // largest mean incoming mass per query of any one key
    AttendedNorm,     // sum_k a_qk n_k / median_k n_k, mean over queries: > 1 attends to high-norm
                      // tokens
};
constexpr int kHeadFeatureCount = 18;

const char* headFeatureName(HeadFeature feature);         // snake_case column name: "mean_distance"
const char* headFeatureDescription(HeadFeature feature);  // one line, with the unit
// Every feature in enum order (for tables and CSV headers).
const std::array<HeadFeature, kHeadFeatureCount>& allHeadFeatures();

struct HeadFeatureOptions {
    double patchSizePixels = 16.0;  // ModelSpec::patchSize: image distances in pixels
    int distanceBins = 10;          // bins of the distance profile
    double sparsityMass =
        0.9;               // Sparsity counts keys for this share of a query's mass (FlexPrefill)
    double sinkTau = 0.2;  // SinkShare: keys receiving more than tau per query (REFERENCES: Heads)
    int offsetRadius = 3;  // grids: 7 x 7 window of relative offsets
    int textOffsetRadius = 8;  // text: offsets -8..8
    int threads = 0;           // 0: all cores; heads are measured in parallel
};

// One head on one input, or the mean (or spread) of those over inputs.
struct HeadFeatures {
    std::array<float, kHeadFeatureCount> values{};  // indexed by HeadFeature; NaN: not applicable
    std::vector<float> distanceProfile;             // HeadFeatureTable::distanceBinEdges.size() - 1
    std::vector<float> offsetPattern;               // offsetRows x offsetCols, row-major

    float operator[](HeadFeature feature) const { return values[std::size_t(feature)]; }
    float& operator[](HeadFeature feature) { return values[std::size_t(feature)]; }
};

struct HeadSummary {
    int layer = 0;        // model layer index
    int head = 0;         // model head index
    HeadFeatures mean;    // mean over inputs
    HeadFeatures spread;  // standard deviation over inputs (population; 0 for one input)
};

struct HeadFeatureTable {
    Modality modality = Modality::Image;
    bool grid = false;  // image patches on a grid (row / column features apply)
    int gridRows = 0, gridCols = 0;
    int tokens = 0;
    int inputs = 0;
    std::vector<float> distanceBinEdges;  // distanceBins + 1 edges, pixels (grid) or tokens (text)
    int offsetRows = 0, offsetCols = 0;   // shape of HeadFeatures::offsetPattern
    int offsetRadius = 0;  // grid: rows = cols = 2r+1, offset (dr, dc) at [(dr+r)*cols + dc+r];
                           // text: rows = 1, offset k - q at [k - q + r]
    std::vector<HeadSummary> heads;  // captured layers in stack order, heads ascending

    const HeadSummary* find(int layer, int head) const;  // nullptr when not measured
    int indexOf(int layer, int head) const;              // -1 when not measured
};

// One head's sums over the query rows of one input: what the feature pass adds up row by row
// before it forms the head's features. HeadFeatureAccumulator::add computes them on the CPU; a
// device pass (head_features_device.h) computes them for every head of an input at once and hands
// them to addMeasured. Each sum runs over the valid queries whose row has mass ("rows"), each row
// renormalised over its valid keys (the conventions above).
struct HeadRowSums {
    double entropy = 0.0;            // row entropies, nats
    double normalizedEntropy = 0.0;  // entropy / ln(visible keys), rows with >= 2 visible keys
    double self = 0.0;               // share on the query's own position
    double previous = 0.0;           // share on q - 1, rows with q >= 1 and q - 1 a valid key
    double duplicate = 0.0, induction = 0.0;  // with ids: rows that have such keys
    double sparsity = 0.0;                    // keys for sparsityMass of the row
    double sparsityFraction = 0.0;            // the same / visible keys
    int queries = 0, normalizedRows = 0, previousRows = 0, duplicateRows = 0, inductionRows = 0;
    std::vector<float> columnMass;  // per key position (tokens values): the rows' shares on it
    // Per relative offset: on image grids, patch queries to patch keys, (2 rows - 1) x
    // (2 cols - 1) values, offset (dr, dc) of key minus query patch at (dr + rows - 1) *
    // (2 cols - 1) + dc + cols - 1; on text, 2 tokens - 1 values, k - q at k - q + tokens - 1.
    std::vector<float> offsetMass;
};

// Accumulates features over inputs that share one token layout (same length and grid).
class HeadFeatureAccumulator {
  public:
    explicit HeadFeatureAccumulator(HeadFeatureOptions options = {});

    // ids: the input's token ids (text; DuplicateToken and Induction are NaN without them).
    // tokenNorms: per captured layer (stack order), one norm per token -- hidden-state norms when
    // the runtime gives them, or valueNorms(stack) -- for AttendedNorm; empty: NaN.
    // Throws fovea::Error when the stack's layout, layers or heads differ from the first input's.
    void add(const AttentionStack& stack, const std::vector<std::int64_t>& ids = {},
             const std::vector<std::vector<float>>& tokenNorms = {});
    // The same input with its row sums measured elsewhere: one per head, layer by layer in stack
    // order, heads in each layer's order. The stack's attention values are not read (its layout,
    // layers, heads and masks are). Throws fovea::Error when the sums do not fit the stack.
    void addMeasured(const AttentionStack& stack, const std::vector<HeadRowSums>& sums,
                     const std::vector<std::int64_t>& ids = {},
                     const std::vector<std::vector<float>>& tokenNorms = {});

    int inputs() const { return m_inputs; }
    HeadFeatureTable table() const;  // throws when nothing was added

  private:
    struct Prepared;
    Prepared prepare(const AttentionStack& stack, const std::vector<std::int64_t>& ids,
                     const std::vector<std::vector<float>>& tokenNorms, bool readValues);
    void accumulate(const Prepared& prepared, const std::vector<HeadFeatures>& results);
    struct Sums {  // one head: sums and sums of squares over inputs, in double
        std::array<double, kHeadFeatureCount> sum{}, squares{};
        std::array<int, kHeadFeatureCount> count{};  // inputs where the value applied
        std::vector<double> profile, profileSquares, offset, offsetSquares;
    };
    HeadFeatureOptions m_options;
    int m_inputs = 0;
    HeadFeatureTable m_shape;  // layout of the first input, heads without values
    std::vector<Sums> m_sums;  // per head, m_shape.heads order
};

// For a pass that measures HeadRowSums elsewhere: how many offsetMass values a layout has, and
// the slot each query-key pair (index q * tokens + k) adds to, -1 for pairs that have none
// (grids: a query or a key that is not a patch).
struct HeadOffsetSlots {
    int count = 0;
    std::vector<int> slot;
};
HeadOffsetSlots headOffsetSlots(const TokenLayout& layout);

// What every feature pass checks of an input before it reads it: captured attention, one id per
// token (when ids are given), every layer over the input's tokens and, with `values`, holding
// heads x tokens^2 attention values. Throws fovea::Error naming the problem.
void checkHeadInput(const AttentionStack& stack, const std::vector<std::int64_t>& ids = {},
                    bool values = true);

// Features of one input (a table with inputs = 1 and zero spread).
HeadFeatureTable computeHeadFeatures(const AttentionStack& stack,
                                     const HeadFeatureOptions& options = {},
                                     const std::vector<std::int64_t>& ids = {},
                                     const std::vector<std::vector<float>>& tokenNorms = {});

// Per captured layer (stack order): the L2 norm of each token's value vector over all heads
// (CaptureRequest::values); an empty vector for a layer without values. The runtime does not
// capture hidden states, so these stand in for the residual-stream norms of the massive-activation
// papers: value norms of sink tokens are often *small* (the sink is a no-op), so read AttendedNorm
// computed from them as "does this head attend to tokens with unusual values", not as a hidden
// norm.
std::vector<std::vector<float>> valueNorms(const AttentionStack& stack);

}  // namespace fovea
