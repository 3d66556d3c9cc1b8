#include "core/image/colormap.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace fovea {
namespace {

const std::uint8_t* tableOrThrow(const std::string& name) {
    const std::uint8_t* table = detail::colormapTableRgb(name);
    if (table == nullptr) {
        std::string known;
        for (const std::string& candidate : colormapNames()) {
            known += (known.empty() ? "" : ", ") + candidate;
        }
        throw Error("colormap '" + name + "'", "unknown colormap; expected one of " + known);
    }
    return table;
}

template <typename Value>
void colourRows(const cv::Mat& values, const std::uint8_t* table, double low, double high,
                cv::Mat& out) {
    for (int row = 0; row < values.rows; ++row) {
        const Value* in = values.ptr<Value>(row);
        cv::Vec3b* pixel = out.ptr<cv::Vec3b>(row);
        for (int col = 0; col < values.cols; ++col) {
            const int index = colormapIndex(static_cast<double>(in[col]), low, high);
            if (index < 0) {
                pixel[col] = cv::Vec3b(0, 0, 0);
                continue;
            }
            const std::uint8_t* rgb = table + 3 * index;
            pixel[col] = cv::Vec3b(rgb[2], rgb[1], rgb[0]);
        }
    }
}

}  // namespace

const std::vector<std::string>& colormapNames() {
    static const std::vector<std::string> names{"viridis", "magma",  "inferno", "plasma",
                                                "cividis", "turbo", "gray"};
    return names;
}

bool isColormapName(const std::string& name) {
    return detail::colormapTableRgb(name) != nullptr;
}

cv::Vec3b colormapColor(const std::string& name, int index) {
    const std::uint8_t* table = tableOrThrow(name);
    if (index < 0 || index > 255) {
        throw Error("colormap '" + name + "'",
                    "index " + std::to_string(index) + " is outside 0..255");
    }
    return cv::Vec3b(table[3 * index], table[3 * index + 1], table[3 * index + 2]);
}

int colormapIndex(double value, double low, double high) {
    if (std::isnan(value)) return -1;
    if (!(high > low)) return 0;
    // matplotlib's Colormap.__call__ scales the normalised value by N = 256 and truncates, sends
    // exactly 1.0 (and, after clipping, anything above) to N - 1 and anything below 0 to the
    // "under" colour, which for these maps is entry 0. Clamping first gives the same result.
    const double clamped = std::min(std::max(value, low), high);
    const double normalised = (clamped - low) / (high - low);
    const int index = static_cast<int>(normalised * 256.0);
    return std::min(std::max(index, 0), 255);
}

cv::Mat applyColormap(const cv::Mat& values, const std::string& name, float low, float high) {
    const std::uint8_t* table = tableOrThrow(name);
    if (values.channels() != 1 || (values.depth() != CV_32F && values.depth() != CV_64F)) {
        throw Error("applyColormap", "expected a single-channel float matrix, got type " +
                                         cv::typeToString(values.type()));
    }
    if (!std::isfinite(low) || !std::isfinite(high) || low > high) {
        throw Error("applyColormap", "invalid value range [" + std::to_string(low) + ", " +
                                         std::to_string(high) + "]");
    }
    cv::Mat out(values.rows, values.cols, CV_8UC3);
    if (values.depth() == CV_32F) {
        colourRows<float>(values, table, low, high, out);
    } else {
        colourRows<double>(values, table, low, high, out);
    }
    return out;
}

}  // namespace fovea
