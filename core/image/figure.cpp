#include "core/image/figure.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "core/image/colormap.h"
#include "core/util/error.h"

namespace fovea {
namespace {

const cv::Scalar kBackground(255, 255, 255);
const cv::Scalar kInk(30, 30, 30);
const cv::Scalar kFrame(110, 110, 110);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

cv::Mat checkedImage(const cv::Mat& image) {
    if (image.empty()) throw Error("heatmap figure", "the image is empty");
    if (image.type() == CV_8UC3) return image;
    if (image.type() == CV_8UC1) {
        cv::Mat bgr;
        cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
        return bgr;
    }
    throw Error("heatmap figure", "expected an 8-bit BGR or grey image, got " +
                                      cv::typeToString(image.type()));
}

cv::Mat checkedHeatmap(const cv::Mat& heatmap) {
    if (heatmap.empty()) throw Error("heatmap figure", "the heatmap is empty");
    if (heatmap.type() == CV_32FC1) return heatmap;
    if (heatmap.type() == CV_64FC1) {
        cv::Mat single;
        heatmap.convertTo(single, CV_32F);
        return single;
    }
    throw Error("heatmap figure", "expected a single-channel float heatmap, got " +
                                      cv::typeToString(heatmap.type()));
}

// The heatmap stretched over `size`: nearest keeps the patch cells crisp and honest; smooth
// fills masked cells with `fill` first so NaN does not bleed into the interpolation.
cv::Mat upsampleHeatmap(const cv::Mat& heatmap, cv::Size size, bool smooth, float fill) {
    cv::Mat nearest(size, CV_32F);
    for (int y = 0; y < size.height; ++y) {
        const float* source = heatmap.ptr<float>(static_cast<int>(
            static_cast<std::int64_t>(y) * heatmap.rows / size.height));
        float* target = nearest.ptr<float>(y);
        for (int x = 0; x < size.width; ++x) {
            target[x] = source[static_cast<std::int64_t>(x) * heatmap.cols / size.width];
        }
    }
    if (!smooth) return nearest;
    cv::Mat filled = heatmap.clone();
    filled.forEach<float>([fill](float& value, const int*) {
        if (std::isnan(value)) value = fill;
    });
    cv::Mat smoothValues;
    cv::resize(filled, smoothValues, size, 0, 0, cv::INTER_LINEAR);
    // Keep the mask cell-exact (an explicit test: OpenCV's vectorised compare is not NaN-safe).
    for (int y = 0; y < size.height; ++y) {
        const float* cell = nearest.ptr<float>(y);
        float* value = smoothValues.ptr<float>(y);
        for (int x = 0; x < size.width; ++x) {
            if (std::isnan(cell[x])) value[x] = std::numeric_limits<float>::quiet_NaN();
        }
    }
    return smoothValues;
}

std::string formatTick(float value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", static_cast<double>(value));
    return text;
}

// Shrinks the font, then cuts the text, until it fits into `maxWidth`.
std::string fitText(std::string text, int maxWidth, double& scale, int thickness) {
    int baseline = 0;
    while (scale > 0.35 && cv::getTextSize(text, kFont, scale, thickness, &baseline).width > maxWidth) {
        scale -= 0.05;
    }
    while (text.size() > 4 &&
           cv::getTextSize(text, kFont, scale, thickness, &baseline).width > maxWidth) {
        text = text.substr(0, text.size() - 4) + "...";
    }
    return text;
}

}  // namespace

ValueRange heatmapRange(const cv::Mat& heatmap, const FigureOptions& options) {
    if (!options.autoRange) return {options.low, options.high};
    const cv::Mat values = checkedHeatmap(heatmap);
    ValueRange range{std::numeric_limits<float>::infinity(),
                     -std::numeric_limits<float>::infinity()};
    for (int row = 0; row < values.rows; ++row) {
        const float* value = values.ptr<float>(row);
        for (int col = 0; col < values.cols; ++col) {
            if (!std::isfinite(value[col])) continue;
            range.low = std::min(range.low, value[col]);
            range.high = std::max(range.high, value[col]);
        }
    }
    if (range.low > range.high) return {0.0f, 1.0f};  // nothing finite
    return range;
}

cv::Mat overlayHeatmap(const cv::Mat& image, const cv::Mat& heatmap, const FigureOptions& options) {
    const cv::Mat base = checkedImage(image);
    const cv::Mat values = checkedHeatmap(heatmap);
    if (!(options.opacity >= 0.0f && options.opacity <= 1.0f)) {
        throw Error("heatmap figure", "opacity " + formatTick(options.opacity) +
                                          " is outside 0..1");
    }
    const ValueRange range = heatmapRange(values, options);
    const cv::Mat upsampled = upsampleHeatmap(values, base.size(), options.smooth, range.low);
    const cv::Mat colours = applyColormap(upsampled, options.colormap, range.low, range.high);

    const double opacity = options.opacity;
    cv::Mat blended = base.clone();
    for (int y = 0; y < base.rows; ++y) {
        const float* value = upsampled.ptr<float>(y);
        const cv::Vec3b* colour = colours.ptr<cv::Vec3b>(y);
        cv::Vec3b* pixel = blended.ptr<cv::Vec3b>(y);
        for (int x = 0; x < base.cols; ++x) {
            if (std::isnan(value[x])) continue;
            for (int c = 0; c < 3; ++c) {
                const double mixed = (1.0 - opacity) * pixel[x][c] + opacity * colour[x][c];
                pixel[x][c] = cv::saturate_cast<uchar>(std::lround(mixed));
            }
        }
    }
    return blended;
}

cv::Mat renderHeatmapFigure(const cv::Mat& image, const cv::Mat& heatmap,
                            const FigureOptions& options) {
    const cv::Mat base = checkedImage(image);
    const int shortSide = std::min(base.rows, base.cols);
    const int factor = std::max(1, (options.minSide + shortSide - 1) / shortSide);
    cv::Mat enlarged = base;
    if (factor > 1) cv::resize(base, enlarged, cv::Size(), factor, factor, cv::INTER_NEAREST);
    const cv::Mat overlay = overlayHeatmap(enlarged, heatmap, options);
    const ValueRange range = heatmapRange(heatmap, options);

    const int height = overlay.rows, width = overlay.cols;
    const int margin = std::max(10, height / 32);
    const int thickness = height >= 700 ? 2 : 1;
    const double labelScale = std::clamp(height / 900.0, 0.4, 1.2);
    int baseline = 0;
    const cv::Size labelSize = cv::getTextSize("-0.000e+00", kFont, labelScale, thickness, &baseline);

    const int barWidth = std::max(14, height / 24);
    const int tickLength = std::max(4, barWidth / 3);
    const int barBlock = options.colorbar ? margin + barWidth + tickLength + 4 + labelSize.width : 0;

    double titleScale = std::clamp(height / 700.0, 0.5, 1.4);
    std::string title = options.title;
    int titleBlock = 0;
    if (!title.empty()) {
        title = fitText(title, width + barBlock, titleScale, thickness);
        titleBlock = cv::getTextSize(title, kFont, titleScale, thickness, &baseline).height +
                     baseline + margin / 2;
    }

    cv::Mat figure(margin + titleBlock + height + margin, margin + width + barBlock + margin,
                   CV_8UC3, kBackground);
    const int top = margin + titleBlock;
    overlay.copyTo(figure(cv::Rect(margin, top, width, height)));

    if (!title.empty()) {
        const int textHeight = cv::getTextSize(title, kFont, titleScale, thickness, &baseline).height;
        cv::putText(figure, title, cv::Point(margin, margin + textHeight), kFont, titleScale, kInk,
                    thickness, cv::LINE_AA);
    }
    if (options.colorbar) {
        const int barLeft = margin + width + margin;
        for (int y = 0; y < height; ++y) {
            // Top row is the highest value, like matplotlib's vertical colorbar.
            const int index = 255 - std::min(255, y * 256 / height);
            const cv::Vec3b rgb = colormapColor(options.colormap, index);
            cv::line(figure, cv::Point(barLeft, top + y), cv::Point(barLeft + barWidth - 1, top + y),
                     cv::Scalar(rgb[2], rgb[1], rgb[0]));
        }
        cv::rectangle(figure, cv::Rect(barLeft, top, barWidth, height), kFrame);
        const int tickLeft = barLeft + barWidth;
        const int labelLeft = tickLeft + tickLength + 4;
        cv::line(figure, cv::Point(tickLeft, top), cv::Point(tickLeft + tickLength, top), kInk,
                 thickness);
        cv::line(figure, cv::Point(tickLeft, top + height - 1),
                 cv::Point(tickLeft + tickLength, top + height - 1), kInk, thickness);
        cv::putText(figure, formatTick(range.high), cv::Point(labelLeft, top + labelSize.height),
                    kFont, labelScale, kInk, thickness, cv::LINE_AA);
        cv::putText(figure, formatTick(range.low), cv::Point(labelLeft, top + height - 1), kFont,
                    labelScale, kInk, thickness, cv::LINE_AA);
    }
    return figure;
}

}  // namespace fovea
