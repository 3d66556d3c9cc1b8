#include "widgets/segment_painter.h"

#include "core/segment/segmenter.h"
#include "widgets/qt_convert.h"

#include <QFontMetricsF>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

// findContours puts a contour through the centres of the boundary pixels, half a pixel inside
// the region's edge. Tracing a copy enlarged by an integer factor (nearest neighbour keeps the
// topology) shrinks that inset to half a pixel of the copy: a 1/2048 of the image at most.
constexpr int kTraceSide = 1024;

}  // namespace

QPainterPath maskOutline(const cv::Mat1b& mask, int* contours) {
    QPainterPath path;
    path.setFillRule(Qt::OddEvenFill);
    if (contours) *contours = 0;
    if (mask.empty()) return path;
    const int scale = std::max(1, int(std::ceil(double(kTraceSide) / std::max(mask.rows, mask.cols))));
    cv::Mat1b large;
    cv::resize(mask, large, cv::Size(mask.cols * scale, mask.rows * scale), 0, 0, cv::INTER_NEAREST);
    // A zero frame, so regions touching the image border are closed curves along it.
    cv::copyMakeBorder(large > 0, large, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
    std::vector<std::vector<cv::Point>> curves;
    cv::findContours(large, curves, cv::RETR_CCOMP, cv::CHAIN_APPROX_SIMPLE);
    for (const std::vector<cv::Point>& curve : curves) {
        if (curve.empty()) continue;
        for (std::size_t i = 0; i < curve.size(); ++i) {
            // Frame offset 1; +0.5: the pixel's centre; then back to mask cells.
            const QPointF point((curve[i].x - 0.5) / scale, (curve[i].y - 0.5) / scale);
            if (i == 0) {
                path.moveTo(point);
            } else {
                path.lineTo(point);
            }
        }
        path.closeSubpath();
        if (contours) ++*contours;
    }
    return path;
}

void SegmentPainter::setSegmentation(const cv::Mat1i& labels, int count, const std::vector<cv::Rect>& boxes) {
    m_labels = labels.clone();
    m_segments.assign(std::size_t(std::max(0, count)), Segment{});
    const double total = std::max<double>(1.0, double(labels.total()));
    for (int label = 1; label <= count; ++label) {
        Segment& segment = m_segments[std::size_t(label - 1)];
        const cv::Mat1b mask = labels == label;
        segment.outline = maskOutline(mask, &segment.contours);
        segment.area = cv::countNonZero(mask) / total;
        if (std::size_t(label - 1) < boxes.size() && boxes[std::size_t(label - 1)].area() > 0) {
            const cv::Rect& box = boxes[std::size_t(label - 1)];
            segment.box = QRectF(box.x, box.y, box.width, box.height);
        }
    }
}

void SegmentPainter::setGroundTruth(const cv::Mat1i& truth) {
    m_truth = QPainterPath();
    m_truthContours = 0;
    m_truthCells = QSizeF(truth.cols, truth.rows);
    if (truth.empty()) return;
    double high = 0.0;
    cv::minMaxLoc(truth, nullptr, &high);
    for (int label = 1; label <= int(high); ++label) {
        if (label == 255) continue;  // void
        const cv::Mat1b mask = truth == label;
        if (cv::countNonZero(mask) == 0) continue;
        int curves = 0;
        m_truth.addPath(maskOutline(mask, &curves));
        m_truthContours += curves;
    }
}

QColor SegmentPainter::segmentColor(int label) {
    return toQColor(fovea::segmentColor(label));
}

QString SegmentPainter::segmentName(int label) const {
    return m_segments.size() == 1 ? QStringLiteral("object") : QStringLiteral("segment %1").arg(label);
}

double SegmentPainter::segmentArea(int label) const {
    return label >= 1 && label <= segmentCount() ? m_segments[std::size_t(label - 1)].area : 0.0;
}

int SegmentPainter::contourCount(int label) const {
    return label >= 1 && label <= segmentCount() ? m_segments[std::size_t(label - 1)].contours : 0;
}

bool SegmentPainter::isVisible(int label) const {
    return std::find(m_style.hidden.begin(), m_style.hidden.end(), label) == m_style.hidden.end();
}

QSizeF SegmentPainter::preferredSize(double imageSide) const {
    const double aspect = m_image.isNull() ? 1.0 : double(m_image.width()) / m_image.height();
    const double width = aspect >= 1.0 ? imageSide : imageSide * aspect;
    const double height = aspect >= 1.0 ? imageSide / aspect : imageSide;
    const double title = m_style.title.isEmpty() ? 0.0 : 0.08 * imageSide;
    return {width + 0.6 * imageSide, height + title};
}

double SegmentPainter::titleHeight(const QRectF& target) const {
    return m_style.title.isEmpty() ? 0.0 : std::clamp(0.07 * target.height(), 12.0, 40.0);
}

double SegmentPainter::legendWidth(const QRectF& target) const {
    return std::clamp(0.36 * target.width(), 100.0, 240.0);
}

QRectF SegmentPainter::imageRect(const QRectF& target) const {
    const QRectF area(target.left(), target.top() + titleHeight(target), target.width() - legendWidth(target),
                      target.height() - titleHeight(target));
    if (m_image.isNull() || area.width() <= 0 || area.height() <= 0) return area;
    const double scale = std::min(area.width() / m_image.width(), area.height() / m_image.height());
    const QSizeF size(m_image.width() * scale, m_image.height() * scale);
    return {area.left() + (area.width() - size.width()) / 2, area.top() + (area.height() - size.height()) / 2,
            size.width(), size.height()};
}

int SegmentPainter::labelAt(const QRectF& target, const QPointF& point) const {
    const QRectF image = imageRect(target);
    if (m_labels.empty() || !image.contains(point)) return -1;
    const int col = std::min(m_labels.cols - 1, int((point.x() - image.left()) / image.width() * m_labels.cols));
    const int row = std::min(m_labels.rows - 1, int((point.y() - image.top()) / image.height() * m_labels.rows));
    return m_labels(row, col);
}

void SegmentPainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    const QRectF image = imageRect(target);
    const double title = titleHeight(target);
    if (title > 0) {
        QFont font = painter.font();
        font.setPointSizeF(title * 0.45);
        painter.setFont(font);
        painter.setPen(Qt::black);
        painter.drawText(QRectF(target.left(), target.top(), target.width(), title), Qt::AlignCenter,
                         QFontMetricsF(font).elidedText(m_style.title, Qt::ElideRight, target.width()));
    }
    if (!m_image.isNull()) {
        painter.setRenderHint(QPainter::SmoothPixmapTransform, false);  // pixels stay pixels
        painter.drawImage(image, m_image);
    }
    painter.setRenderHint(QPainter::Antialiasing, true);
    painter.setClipRect(image);
    const double line = std::max(1.0, image.width() / 260.0);
    if (!m_labels.empty()) {
        // Label cells -> the image rectangle. Paths are mapped (not the painter transformed) so
        // line widths stay in points.
        QTransform cells;
        cells.translate(image.left(), image.top());
        cells.scale(image.width() / m_labels.cols, image.height() / m_labels.rows);
        const int alpha = int(std::lround(255.0 * std::clamp(m_style.opacity, 0.0, 1.0)));
        for (int label = 1; label <= segmentCount(); ++label) {
            if (!isVisible(label)) continue;
            const Segment& segment = m_segments[std::size_t(label - 1)];
            const QPainterPath outline = cells.map(segment.outline);
            const QColor color = segmentColor(label);
            QColor fill = color;
            fill.setAlpha(alpha);
            if (alpha > 0) painter.fillPath(outline, fill);
            if (m_style.contours) {
                painter.strokePath(outline, QPen(color, line, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
            }
            if (m_style.boxes && segmentCount() == 1 && !segment.box.isEmpty()) {
                painter.setBrush(Qt::NoBrush);
                painter.setPen(QPen(color, line, Qt::SolidLine, Qt::SquareCap, Qt::MiterJoin));
                painter.drawRect(cells.mapRect(segment.box).adjusted(line / 2, line / 2, -line / 2, -line / 2));
            }
        }
    }
    if (m_style.groundTruth && m_truthContours > 0) {
        QTransform cells;
        cells.translate(image.left(), image.top());
        cells.scale(image.width() / m_truthCells.width(), image.height() / m_truthCells.height());
        const QPainterPath truth = cells.map(m_truth);
        // Dashes of white over a black line: readable over any image and any fill colour.
        painter.strokePath(truth, QPen(QColor(0, 0, 0, 220), line * 1.8));
        QPen dashes(Qt::white, line, Qt::CustomDashLine, Qt::FlatCap);
        dashes.setDashPattern({4, 3});
        painter.strokePath(truth, dashes);
    }
    painter.setClipping(false);
    paintLegend(painter, target, image);
    painter.restore();
}

void SegmentPainter::paintLegend(QPainter& painter, const QRectF& target, const QRectF& image) const {
    const double width = legendWidth(target);
    const double left = image.right() + 0.08 * width;
    QFont font = painter.font();
    font.setPointSizeF(std::clamp(image.height() / 30.0, 6.0, 11.0));
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    const double row = metrics.height() * 1.35, swatch = metrics.height() * 0.9;
    double y = image.top();
    const auto text = [&](const QString& line, double x) {
        painter.setPen(Qt::black);
        painter.drawText(QRectF(x, y, std::max(0.0, target.right() - x), row), Qt::AlignVCenter | Qt::AlignLeft,
                         metrics.elidedText(line, Qt::ElideRight, std::max(0.0, target.right() - x)));
    };
    for (int label = 1; label <= segmentCount(); ++label) {
        if (!isVisible(label)) continue;
        if (y + row > image.bottom() + 1) break;
        QColor fill = segmentColor(label);
        fill.setAlpha(int(std::lround(255.0 * std::clamp(m_style.opacity, 0.15, 1.0))));
        const QRectF box(left, y + (row - swatch) / 2, swatch, swatch);
        painter.fillRect(box, fill);
        painter.setPen(QPen(segmentColor(label), 1.2));
        painter.setBrush(Qt::NoBrush);
        painter.drawRect(box);
        text(QStringLiteral("%1  %2%").arg(segmentName(label)).arg(segmentArea(label) * 100.0, 0, 'f', 1),
             left + swatch * 1.5);
        y += row;
    }
    if (m_style.groundTruth && m_truthContours > 0 && y + row <= image.bottom() + 1) {
        const double mid = y + row / 2;
        painter.setPen(QPen(QColor(0, 0, 0, 220), 2.4));
        painter.drawLine(QPointF(left, mid), QPointF(left + swatch, mid));
        QPen dashes(Qt::white, 1.3, Qt::CustomDashLine, Qt::FlatCap);
        dashes.setDashPattern({2, 1.5});
        painter.setPen(dashes);
        painter.drawLine(QPointF(left, mid), QPointF(left + swatch, mid));
        text(QStringLiteral("ground truth"), left + swatch * 1.5);
        y += row;
    }
    if (m_iou && y + row <= image.bottom() + 1) text(QStringLiteral("IoU %1").arg(*m_iou, 0, 'f', 3), left);
}

}  // namespace fovea
