#include "core/gaze/scanpath_figure.h"

#include "core/image/colormap.h"
#include "core/image/figure.h"
#include "core/util/error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace fovea {

cv::Vec3b subjectColour(int index) {
    static const cv::Vec3b kTab10[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                       {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                       {188, 189, 34},  {23, 190, 207}};
    return kTab10[((index % 10) + 10) % 10];
}

ScanpathLayout layoutScanpaths(const std::vector<Scanpath>& paths, cv::Size imageSize, const ScanpathStyle& style) {
    const double side = std::max(imageSize.width, imageSize.height);
    const double minRadius = style.minRadius > 0 ? style.minRadius : std::max(2.0, 0.015 * side);
    const double maxRadius = style.maxRadius > 0 ? style.maxRadius : std::max(minRadius, 0.04 * side);
    double longest = 0.0, end = 0.0;
    for (const Scanpath& path : paths) {
        for (const Fixation& f : path.fixations) {
            longest = std::max(longest, f.duration);
            end = std::max(end, f.start + f.duration);
        }
    }
    ScanpathLayout layout;
    for (std::size_t p = 0; p < paths.size(); ++p) {
        const std::vector<Fixation>& fixations = paths[p].fixations;
        const std::size_t first = layout.marks.size();
        for (std::size_t i = 0; i < fixations.size(); ++i) {
            const Fixation& f = fixations[i];
            if (f.start > style.upToTime) break;
            FixationMark mark;
            mark.centre = {f.x, f.y};
            // Area proportional to duration; fixations without durations get the smallest circle.
            mark.radius = longest > 0
                              ? minRadius + (maxRadius - minRadius) * std::sqrt(std::max(0.0, f.duration) / longest)
                              : minRadius;
            if (style.colouring == ScanpathColouring::Subject) {
                mark.rgb = subjectColour(p < style.colourIndices.size() ? style.colourIndices[p] : int(p));
            } else {
                const double t = end > 0                ? (f.start + f.duration / 2.0) / end
                                 : fixations.size() > 1 ? double(i) / double(fixations.size() - 1)
                                                        : 0.0;
                mark.rgb = colormapColor(style.colormap, std::max(0, colormapIndex(t, 0.0, 1.0)));
            }
            mark.number = int(i) + 1;
            mark.path = int(p);
            layout.marks.push_back(mark);
        }
        for (std::size_t k = first + 1; k < layout.marks.size(); ++k) {
            const FixationMark& a = layout.marks[k - 1];
            const FixationMark& b = layout.marks[k];
            const cv::Point2d d = b.centre - a.centre;
            const double length = std::hypot(d.x, d.y);
            if (length <= a.radius + b.radius) continue;  // overlapping circles: no room for an arrow
            const cv::Point2d unit = d * (1.0 / length);
            layout.arrows.push_back({a.centre + unit * a.radius, b.centre - unit * b.radius,
                                     style.colouring == ScanpathColouring::Subject ? a.rgb : b.rgb, int(p)});
        }
    }
    return layout;
}

namespace {

// The image with the optional heatmap blended in, enlarged by a whole factor to minSide.
cv::Mat baseImage(const cv::Mat& image, const ScanpathStyle& style, int& factor) {
    if (image.empty()) throw Error("scanpath figure", "the image is empty");
    cv::Mat bgr;
    if (image.type() == CV_8UC1)
        cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
    else if (image.type() == CV_8UC3)
        bgr = image;
    else
        throw Error("scanpath figure", "expected an 8-bit BGR or grey image");
    if (!style.heatmap.empty()) {
        FigureOptions options;
        options.opacity = style.heatmapOpacity;
        options.smooth = true;
        cv::Mat heat;
        style.heatmap.convertTo(heat, CV_32F);
        bgr = overlayHeatmap(bgr, heat, options);
    }
    const int side = std::max(bgr.cols, bgr.rows);
    factor = std::max(1, (style.minSide + side - 1) / side);
    if (factor > 1) cv::resize(bgr, bgr, cv::Size(), factor, factor, cv::INTER_NEAREST);
    return bgr;
}

cv::Scalar bgrOf(const cv::Vec3b& rgb) {
    return cv::Scalar(rgb[2], rgb[1], rgb[0]);
}

// Dark text on light fills, white on dark ones.
bool isLight(const cv::Vec3b& rgb) {
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 150;
}

std::string base64(const std::vector<uchar>& bytes) {
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const unsigned a = bytes[i], b = i + 1 < bytes.size() ? bytes[i + 1] : 0u,
                       c = i + 2 < bytes.size() ? bytes[i + 2] : 0u;
        const unsigned triple = (a << 16) | (b << 8) | c;
        out += kAlphabet[(triple >> 18) & 63];
        out += kAlphabet[(triple >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(triple >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kAlphabet[triple & 63] : '=';
    }
    return out;
}

std::string hexColour(const cv::Vec3b& rgb) {
    char text[8];
    std::snprintf(text, sizeof text, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    return text;
}

}  // namespace

cv::Mat renderScanpathFigure(const cv::Mat& image, const std::vector<Scanpath>& paths, const ScanpathStyle& style) {
    int factor = 1;
    cv::Mat canvas = baseImage(image, style, factor).clone();
    const ScanpathLayout layout = layoutScanpaths(paths, image.size(), style);
    const auto scaled = [&](cv::Point2d p) {
        return cv::Point(int(std::lround(p.x * factor)), int(std::lround(p.y * factor)));
    };
    const int thickness = std::max(1, int(std::lround(std::max(canvas.cols, canvas.rows) / 300.0)));
    if (style.arrows) {
        for (const SaccadeArrow& arrow : layout.arrows) {
            const double length = std::hypot(arrow.to.x - arrow.from.x, arrow.to.y - arrow.from.y) * factor;
            cv::arrowedLine(canvas, scaled(arrow.from), scaled(arrow.to), bgrOf(arrow.rgb), thickness, cv::LINE_AA, 0,
                            std::min(0.4, 12.0 * thickness / std::max(1.0, length)));
        }
    }
    // Translucent discs (60% opaque) with a dark outline, so the image stays readable.
    cv::Mat discs = canvas.clone();
    for (const FixationMark& mark : layout.marks)
        cv::circle(discs, scaled(mark.centre), int(std::lround(mark.radius * factor)), bgrOf(mark.rgb), cv::FILLED,
                   cv::LINE_AA);
    cv::addWeighted(discs, 0.6, canvas, 0.4, 0.0, canvas);
    for (const FixationMark& mark : layout.marks) {
        cv::circle(canvas, scaled(mark.centre), int(std::lround(mark.radius * factor)), cv::Scalar(40, 40, 40),
                   thickness, cv::LINE_AA);
        if (!style.numbers) continue;
        const std::string text = std::to_string(mark.number);
        const double scale = std::max(0.3, mark.radius * factor / 22.0);
        int baseline = 0;
        const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
        const cv::Point at = scaled(mark.centre) + cv::Point(-size.width / 2, size.height / 2);
        cv::putText(canvas, text, at, cv::FONT_HERSHEY_SIMPLEX, scale,
                    isLight(mark.rgb) ? cv::Scalar(20, 20, 20) : cv::Scalar(255, 255, 255), thickness, cv::LINE_AA);
    }
    if (style.title.empty()) return canvas;
    const int band = std::max(24, canvas.rows / 14);
    cv::Mat figure(canvas.rows + band, canvas.cols, CV_8UC3, cv::Scalar(255, 255, 255));
    canvas.copyTo(figure(cv::Rect(0, band, canvas.cols, canvas.rows)));
    // As large as the band allows, smaller when the title would not fit the width.
    double scale = band / 40.0;
    int baseline = 0;
    const int width = cv::getTextSize(style.title, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline).width;
    if (width > canvas.cols - 12) scale *= double(canvas.cols - 12) / width;
    cv::putText(figure, style.title, cv::Point(6, band * 2 / 3), cv::FONT_HERSHEY_SIMPLEX, scale,
                cv::Scalar(30, 30, 30), 1, cv::LINE_AA);
    return figure;
}

std::string scanpathFigureSvg(const cv::Mat& image, const std::vector<Scanpath>& paths, const ScanpathStyle& style) {
    int factor = 1;
    ScanpathStyle unscaled = style;
    unscaled.minSide = 0;  // the SVG scales the embedded image itself
    const cv::Mat base = baseImage(image, unscaled, factor);
    std::vector<uchar> png;
    cv::imencode(".png", base, png);
    const ScanpathLayout layout = layoutScanpaths(paths, image.size(), style);
    const int side = std::max(image.cols, image.rows);
    const double scale = side < style.minSide ? double((style.minSide + side - 1) / side) : 1.0;
    const double band = style.title.empty() ? 0.0 : std::max(24.0, image.rows * scale / 14.0);
    const double width = image.cols * scale, height = image.rows * scale + band;
    const double stroke = std::max(1.0, side / 300.0);
    std::ostringstream svg;
    svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"" << width
        << "\" height=\"" << height << "\" viewBox=\"0 0 " << image.cols << ' ' << image.rows + band / scale << "\">\n";
    if (!style.title.empty()) {
        svg << "<text x=\"4\" y=\"" << band / scale * 0.7 << "\" font-family=\"sans-serif\" font-size=\""
            << band / scale * 0.5 << "\" fill=\"#1e1e1e\">";
        for (const char c : style.title)
            svg << (c == '<' ? std::string("&lt;") : c == '&' ? std::string("&amp;") : std::string(1, c));
        svg << "</text>\n";
    }
    svg << "<g transform=\"translate(0," << band / scale << ")\">\n";
    svg << "<image x=\"0\" y=\"0\" width=\"" << image.cols << "\" height=\"" << image.rows
        << "\" style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64," << base64(png) << "\"/>\n";
    if (style.arrows) {
        for (const SaccadeArrow& arrow : layout.arrows) {
            const double dx = arrow.to.x - arrow.from.x, dy = arrow.to.y - arrow.from.y, length = std::hypot(dx, dy);
            const double head = std::min(0.4 * length, 4.0 * stroke);
            const double ux = dx / length, uy = dy / length;
            const std::string colour = hexColour(arrow.rgb);
            svg << "<line x1=\"" << arrow.from.x << "\" y1=\"" << arrow.from.y << "\" x2=\"" << arrow.to.x << "\" y2=\""
                << arrow.to.y << "\" stroke=\"" << colour << "\" stroke-width=\"" << stroke << "\"/>\n";
            svg << "<polygon points=\"" << arrow.to.x << ',' << arrow.to.y << ' '
                << arrow.to.x - head * ux - head * 0.5 * uy << ',' << arrow.to.y - head * uy + head * 0.5 * ux << ' '
                << arrow.to.x - head * ux + head * 0.5 * uy << ',' << arrow.to.y - head * uy - head * 0.5 * ux
                << "\" fill=\"" << colour << "\"/>\n";
        }
    }
    for (const FixationMark& mark : layout.marks) {
        svg << "<circle cx=\"" << mark.centre.x << "\" cy=\"" << mark.centre.y << "\" r=\"" << mark.radius
            << "\" fill=\"" << hexColour(mark.rgb) << "\" fill-opacity=\"0.6\" stroke=\"#282828\" stroke-width=\""
            << stroke << "\"/>\n";
        if (style.numbers) {
            svg << "<text x=\"" << mark.centre.x << "\" y=\"" << mark.centre.y
                << "\" font-family=\"sans-serif\" font-size=\"" << mark.radius
                << "\" text-anchor=\"middle\" dominant-baseline=\"central\" fill=\""
                << (isLight(mark.rgb) ? "#141414" : "#ffffff") << "\">" << mark.number << "</text>\n";
        }
    }
    svg << "</g>\n</svg>\n";
    return svg.str();
}

}  // namespace fovea
