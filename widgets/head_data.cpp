#include "widgets/head_data.h"

#include <algorithm>
#include <cmath>

namespace fovea {

const HeadPoint* HeadData::find(const HeadKey& key) const {
    for (const HeadPoint& point : points) {
        if (point.key == key) return &point;
    }
    return nullptr;
}

std::pair<double, double> HeadData::importanceRange() const {
    double low = std::numeric_limits<double>::infinity(), high = -low;
    for (const HeadPoint& point : points) {
        if (!std::isfinite(point.importance)) continue;
        low = std::min(low, point.importance);
        high = std::max(high, point.importance);
    }
    if (low > high) return {std::nan(""), std::nan("")};
    return {low, high};
}

Rgb clusterColour(int cluster) {
    static const Rgb palette[] = {{0, 114, 178},   {230, 159, 0}, {0, 158, 115},   {204, 121, 167},
                                  {86, 180, 233},  {213, 94, 0},  {240, 228, 66},  {0, 0, 0},
                                  {148, 103, 189}, {140, 86, 75}, {127, 127, 127}, {188, 189, 34}};
    if (cluster < 0) return {170, 170, 170};
    return palette[std::size_t(cluster) % std::size(palette)];
}

}  // namespace fovea
