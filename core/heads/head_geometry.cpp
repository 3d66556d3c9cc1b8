#include "core/heads/head_geometry.h"

#include "core/heads/head_features.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace fovea::heads_detail {

Geometry makeGeometry(const TokenLayout& layout, int distanceBins) {
    Geometry g;
    g.tokens = layout.size();
    g.bins = std::max(1, distanceBins);
    g.patchRow.assign(std::size_t(g.tokens), -1);
    g.patchCol.assign(std::size_t(g.tokens), -1);
    bool textual = false;
    for (int t = 0; t < g.tokens; ++t) {
        const TokenInfo& info = layout[t];
        if (info.kind == TokenKind::Cls && g.cls < 0) g.cls = t;
        if (info.kind == TokenKind::Register) g.registers.push_back(t);
        if (info.kind == TokenKind::Text || info.kind == TokenKind::Special) textual = true;
        if (info.kind == TokenKind::Patch && info.row >= 0 && info.col >= 0) {
            g.patchRow[std::size_t(t)] = info.row;
            g.patchCol[std::size_t(t)] = info.col;
            ++g.patches;
        }
    }
    g.rows = layout.gridRows();
    g.cols = layout.gridCols();
    g.grid = !textual && g.rows > 0 && g.cols > 0 && g.patches == g.rows * g.cols;
    g.modality = textual ? Modality::Text : Modality::Image;
    if (!g.grid) {
        g.maxDistance = std::max(1, g.tokens - 1);
        return g;
    }
    const std::vector<int> order = layout.patchIndices();
    g.firstPatch = order.front();
    g.patchesContiguous = true;
    for (int i = 0; i < int(order.size()); ++i) {
        if (order[std::size_t(i)] != g.firstPatch + i) g.patchesContiguous = false;
    }
    g.offsetWidth = 2 * g.cols - 1;
    const int offsetHeight = 2 * g.rows - 1;
    g.offsetDistance.assign(std::size_t(offsetHeight * g.offsetWidth), 0.0);
    g.offsetPairs.assign(g.offsetDistance.size(), 0.0);
    g.offsetBin.assign(g.offsetDistance.size(), 0);
    g.maxDistance = std::max(1.0, std::hypot(double(g.rows - 1), double(g.cols - 1)));
    double pairDistance = 0.0, pairs = 0.0;
    for (int dr = -(g.rows - 1); dr <= g.rows - 1; ++dr) {
        for (int dc = -(g.cols - 1); dc <= g.cols - 1; ++dc) {
            const std::size_t o = std::size_t((dr + g.rows - 1) * g.offsetWidth + dc + g.cols - 1);
            const double d = std::hypot(double(dr), double(dc));
            const double n = double(g.rows - std::abs(dr)) * double(g.cols - std::abs(dc));
            g.offsetDistance[o] = d;
            g.offsetPairs[o] = n;
            g.offsetBin[o] = std::min(g.bins - 1, int(d / g.maxDistance * g.bins));
            pairDistance += n * d;
            pairs += n;
        }
    }
    g.uniformDistance = pairDistance / pairs;
    g.binPairs.assign(std::size_t(g.bins), 0.0);
    g.binStart.assign(std::size_t(g.bins) + 1, 0);
    for (std::size_t o = 0; o < g.offsetPairs.size(); ++o) {
        g.binPairs[std::size_t(g.offsetBin[o])] += g.offsetPairs[o];
        ++g.binStart[std::size_t(g.offsetBin[o]) + 1];
    }
    for (int b = 0; b < g.bins; ++b) g.binStart[std::size_t(b) + 1] += g.binStart[std::size_t(b)];
    g.offsetsByBin.assign(g.offsetPairs.size(), 0);
    std::vector<int> next(g.binStart.begin(), g.binStart.end() - 1);
    for (std::size_t o = 0; o < g.offsetPairs.size(); ++o)
        g.offsetsByBin[std::size_t(next[std::size_t(g.offsetBin[o])]++)] = int(o);
    return g;
}

}  // namespace fovea::heads_detail

namespace fovea {

HeadOffsetSlots headOffsetSlots(const TokenLayout& layout) {
    const heads_detail::Geometry g = heads_detail::makeGeometry(layout, 1);
    const int n = g.tokens;
    HeadOffsetSlots slots;
    slots.count = int(g.offsetCount());
    slots.slot.assign(std::size_t(n) * std::size_t(n), -1);
    for (int q = 0; q < n; ++q) {
        for (int k = 0; k < n; ++k) {
            int& slot = slots.slot[std::size_t(q) * std::size_t(n) + std::size_t(k)];
            if (!g.grid) {
                slot = k - q + n - 1;
            } else if (g.patchRow[std::size_t(q)] >= 0 && g.patchRow[std::size_t(k)] >= 0) {
                slot = (g.patchRow[std::size_t(k)] - g.patchRow[std::size_t(q)] + g.rows - 1) *
                           g.offsetWidth +
                       g.patchCol[std::size_t(k)] - g.patchCol[std::size_t(q)] + g.cols - 1;
            }
        }
    }
    return slots;
}

}  // namespace fovea
