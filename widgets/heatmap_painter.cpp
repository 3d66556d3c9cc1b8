#include "widgets/heatmap_painter.h"

#include "core/image/colormap.h"
#include "core/util/error.h"
#include "widgets/qt_convert.h"

#include <QFontMetricsF>
#include <QLinearGradient>
#include <QPainterPath>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

QString tickLabel(float value) { return QString::number(double(value), 'g', 3); }

// colormapColor gives matplotlib's RGB order.
QColor rgbColor(const cv::Vec3b& rgb, int alpha = 255) { return QColor(rgb[0], rgb[1], rgb[2], alpha); }

}  // namespace

void HeatmapPainter::setHeatmap(const cv::Mat& heatmap) {
    if (heatmap.empty()) {
        m_heatmap = cv::Mat();
        return;
    }
    if (heatmap.channels() != 1) throw Error("heatmap view", "expected a single-channel heatmap");
    heatmap.convertTo(m_heatmap, CV_32F);
}

ValueRange HeatmapPainter::range() const {
    return m_heatmap.empty() ? ValueRange{} : heatmapRange(m_heatmap, m_options);
}

QSizeF HeatmapPainter::preferredSize(double imageSide) const {
    const double aspect = m_image.isNull() ? 1.0 : double(m_image.width()) / m_image.height();
    const double width = aspect >= 1.0 ? imageSide : imageSide * aspect;
    const double height = aspect >= 1.0 ? imageSide / aspect : imageSide;
    const double title = m_options.title.empty() ? 0.0 : 0.08 * imageSide;
    const double bar = m_options.colorbar && !m_heatmap.empty() ? 0.22 * imageSide : 0.0;
    return {width + bar, height + title};
}

double HeatmapPainter::titleHeight(const QRectF& target) const {
    return m_options.title.empty() ? 0.0 : std::clamp(0.07 * target.height(), 12.0, 40.0);
}

double HeatmapPainter::colorbarBand(const QRectF& target) const {
    return m_options.colorbar && !m_heatmap.empty() ? std::clamp(0.22 * target.width(), 48.0, 150.0) : 0.0;
}

QRectF HeatmapPainter::imageRect(const QRectF& target) const {
    QRectF area(target.left(), target.top() + titleHeight(target), target.width() - colorbarBand(target),
                target.height() - titleHeight(target));
    // Room above and below for the colorbar's end labels.
    if (colorbarBand(target) > 0) {
        const double margin = std::clamp(0.035 * target.height(), 6.0, 16.0);
        area.adjust(0, margin, 0, -margin);
    }
    if (m_image.isNull() || area.width() <= 0 || area.height() <= 0) return area;
    const double scale = std::min(area.width() / m_image.width(), area.height() / m_image.height());
    const QSizeF size(m_image.width() * scale, m_image.height() * scale);
    return {area.left() + (area.width() - size.width()) / 2, area.top() + (area.height() - size.height()) / 2,
            size.width(), size.height()};
}

QRectF HeatmapPainter::colorbarRect(const QRectF& target) const {
    const double band = colorbarBand(target);
    if (band <= 0) return {};
    const QRectF image = imageRect(target);
    const double width = std::max(8.0, 0.14 * band);
    return {image.right() + 0.12 * band, image.top(), width, image.height()};
}

std::optional<cv::Point> HeatmapPainter::cellAt(const QRectF& target, const QPointF& point) const {
    if (m_heatmap.empty()) return std::nullopt;
    const QRectF image = imageRect(target);
    if (!image.contains(point)) return std::nullopt;
    const int col = std::min(m_heatmap.cols - 1, int((point.x() - image.left()) / image.width() * m_heatmap.cols));
    const int row = std::min(m_heatmap.rows - 1, int((point.y() - image.top()) / image.height() * m_heatmap.rows));
    return cv::Point(col, row);
}

void HeatmapPainter::paintContours(QPainter& painter, const QRectF& image, const ValueRange& values) const {
    if (!(values.low < values.high)) return;
    // Upsample 8x per cell so the lines follow the smooth surface, then trace each level.
    constexpr int kScale = 8;
    cv::Mat filled = m_heatmap.clone();
    for (int y = 0; y < filled.rows; ++y) {
        for (int x = 0; x < filled.cols; ++x) {
            if (std::isnan(filled.at<float>(y, x))) filled.at<float>(y, x) = values.low;
        }
    }
    cv::Mat smooth;
    cv::resize(filled, smooth, cv::Size(filled.cols * kScale, filled.rows * kScale), 0, 0, cv::INTER_LINEAR);
    const double sx = image.width() / smooth.cols, sy = image.height() / smooth.rows;
    painter.setBrush(Qt::NoBrush);
    for (int level = 1; level <= m_contourLevels; ++level) {
        const double value = values.low + (values.high - values.low) * level / (m_contourLevels + 1.0);
        cv::Mat above = smooth > value;
        std::vector<std::vector<cv::Point>> contours;
        cv::findContours(above, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
        // Light lines on the dark end of the colormap, dark ones on the bright end.
        const double shade = double(level) / (m_contourLevels + 1.0);
        painter.setPen(QPen(shade < 0.5 ? QColor(255, 255, 255, 220) : QColor(0, 0, 0, 200), 1.2));
        for (const std::vector<cv::Point>& contour : contours) {
            if (contour.size() < 3) continue;
            QPainterPath path;
            for (std::size_t i = 0; i < contour.size(); ++i) {
                const QPointF point(image.left() + (contour[i].x + 0.5) * sx, image.top() + (contour[i].y + 0.5) * sy);
                if (i == 0) {
                    path.moveTo(point);
                } else {
                    path.lineTo(point);
                }
            }
            path.closeSubpath();
            painter.drawPath(path);
        }
    }
}

void HeatmapPainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    const QRectF image = imageRect(target);
    const double title = titleHeight(target);
    if (title > 0) {
        QFont font = painter.font();
        font.setPointSizeF(title * 0.45);
        painter.setFont(font);
        painter.setPen(Qt::black);
        painter.drawText(QRectF(target.left(), target.top(), target.width(), title), Qt::AlignCenter,
                         QFontMetricsF(font).elidedText(QString::fromStdString(m_options.title), Qt::ElideRight,
                                                        target.width()));
    }
    if (!m_image.isNull()) {
        // Pixels stay pixels: a 64x64 scene is shown as enlarged squares, never blurred.
        painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
        painter.drawImage(image, m_image);
    }
    if (!m_heatmap.empty()) {
        const ValueRange values = range();
        const int alpha = int(std::lround(255.0 * std::clamp(double(m_options.opacity), 0.0, 1.0)));
        if (m_options.smooth) {
            // A raster at the image's resolution, the same upsampling as the core figure.
            const QSize pixels = m_image.isNull() ? QSize(m_heatmap.cols * 16, m_heatmap.rows * 16) : m_image.size();
            cv::Mat filled = m_heatmap.clone();
            cv::Mat nanMask(filled.size(), CV_8U, cv::Scalar(0));
            for (int y = 0; y < filled.rows; ++y) {
                for (int x = 0; x < filled.cols; ++x) {
                    if (std::isnan(filled.at<float>(y, x))) {
                        nanMask.at<uchar>(y, x) = 255;
                        filled.at<float>(y, x) = values.low;
                    }
                }
            }
            cv::Mat up, upMask;
            cv::resize(filled, up, {pixels.width(), pixels.height()}, 0, 0, cv::INTER_LINEAR);
            cv::resize(nanMask, upMask, {pixels.width(), pixels.height()}, 0, 0, cv::INTER_NEAREST);
            const cv::Mat colours = applyColormap(up, m_options.colormap, values.low, values.high);
            QImage overlay(pixels, QImage::Format_ARGB32);
            for (int y = 0; y < pixels.height(); ++y) {
                auto* line = reinterpret_cast<QRgb*>(overlay.scanLine(y));
                for (int x = 0; x < pixels.width(); ++x) {
                    const cv::Vec3b c = colours.at<cv::Vec3b>(y, x);
                    line[x] = upMask.at<uchar>(y, x) ? qRgba(0, 0, 0, 0) : qRgba(c[2], c[1], c[0], alpha);
                }
            }
            painter.drawImage(image, overlay);
        } else {
            painter.setPen(Qt::NoPen);
            // Axis-aligned cells without antialiasing: no hairline seams between neighbours.
            painter.setRenderHint(QPainter::Antialiasing, false);
            const double cellWidth = image.width() / m_heatmap.cols, cellHeight = image.height() / m_heatmap.rows;
            for (int row = 0; row < m_heatmap.rows; ++row) {
                const float* value = m_heatmap.ptr<float>(row);
                for (int col = 0; col < m_heatmap.cols; ++col) {
                    if (std::isnan(value[col])) continue;  // masked: the image shows through
                    const int index = colormapIndex(value[col], values.low, values.high);
                    painter.fillRect(QRectF(image.left() + col * cellWidth, image.top() + row * cellHeight, cellWidth,
                                            cellHeight),
                                     rgbColor(colormapColor(m_options.colormap, index), alpha));
                }
            }
        }
        painter.setRenderHint(QPainter::Antialiasing, true);
        if (m_contourLevels > 0) paintContours(painter, image, values);
        const QRectF bar = colorbarRect(target);
        if (!bar.isEmpty()) {
            QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
            for (int i = 0; i <= 32; ++i) {
                gradient.setColorAt(i / 32.0, rgbColor(colormapColor(m_options.colormap, i * 255 / 32)));
            }
            painter.fillRect(bar, gradient);
            painter.setPen(QPen(Qt::black, 0));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(bar);
            QFont font = painter.font();
            font.setPointSizeF(std::clamp(bar.height() / 22.0, 6.0, 14.0));
            painter.setFont(font);
            const QFontMetricsF metrics(font);
            const float ticks[] = {values.high, 0.5f * (values.low + values.high), values.low};
            for (int i = 0; i < 3; ++i) {
                const double y = bar.top() + bar.height() * i / 2.0;
                painter.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 4, y));
                painter.drawText(QPointF(bar.right() + 6, y + metrics.ascent() / 2 - 1), tickLabel(ticks[i]));
            }
        }
    }
    painter.restore();
}

}  // namespace fovea
