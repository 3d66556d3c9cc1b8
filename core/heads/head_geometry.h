// Internal to core/heads: what the head features take from a token layout -- the patch grid,
// the special positions, the relative offsets between patches and the distance bins -- fixed
// for all inputs of one layout.
#pragma once

#include "core/model/token_info.h"

#include <cstddef>
#include <vector>

namespace fovea::heads_detail {

// What stays fixed for a token layout: grid geometry, special positions, distance bins.
struct Geometry {
    int tokens = 0;
    bool grid = false;
    int rows = 0, cols = 0;
    int patches = 0;
    bool patchesContiguous = false;
    int firstPatch = -1;
    std::vector<int> patchRow, patchCol;  // per position, -1 when not a patch
    int cls = -1;
    std::vector<int> registers;
    Modality modality = Modality::Text;
    // Grid: offsets (dr, dc) indexed (dr + rows - 1) * offsetWidth + dc + cols - 1.
    int offsetWidth = 0;
    std::vector<double> offsetDistance;  // patches
    std::vector<double> offsetPairs;     // patch query-key pairs at that offset
    std::vector<int> offsetBin;          // distance bin
    std::vector<double> binPairs;        // patch query-key pairs per distance bin
    std::vector<int> offsetsByBin;       // offset indices, bin by bin (bin b from binStart[b])
    std::vector<int> binStart;
    double uniformDistance = 0.0;  // patches, uniform attention over patch keys
    double maxDistance = 0.0;      // patches (grid) or tokens (text)
    int bins = 0;

    // Values of a head's offset masses: grids (2 rows - 1) x (2 cols - 1), text 2 tokens - 1
    // (HeadRowSums::offsetMass).
    std::size_t offsetCount() const {
        return grid ? offsetPairs.size() : std::size_t(2 * tokens - 1);
    }
};

// The geometry of `layout`, its distances in `distanceBins` equal bins (at least 1).
Geometry makeGeometry(const TokenLayout& layout, int distanceBins);

}  // namespace fovea::heads_detail
