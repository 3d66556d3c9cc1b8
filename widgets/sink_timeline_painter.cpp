#include "widgets/sink_timeline_painter.h"

#include "core/image/colormap.h"

#include <QCoreApplication>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("fovea::SinkTimeline", text);
}

constexpr double kTitleBand = 24.0;
constexpr double kMarkerBand = 16.0;
constexpr double kRowLabelWidth = 34.0;
constexpr double kTokenLabelBand = 40.0;
constexpr double kColorbarBand = 76.0;
const QColor kPrimary(200, 30, 30);
const QColor kSecondary(0, 140, 200);

}  // namespace

QSizeF SinkTimelinePainter::preferredSize() const {
    const int tokens = m_timeline.mass.cols;
    const int rows = m_timeline.mass.rows;
    const double cellWidth = std::clamp(640.0 / std::max(1, tokens), 3.0, 22.0);
    return {kRowLabelWidth + tokens * cellWidth + kColorbarBand + 12,
            kTitleBand + kMarkerBand + rows * std::clamp(cellWidth * 1.4, 12.0, 26.0) +
                kTokenLabelBand + 30};
}

SinkTimelinePainter::Geometry SinkTimelinePainter::geometry(const QRectF& target) const {
    const int tokens = std::max(1, m_timeline.mass.cols);
    const int rows = std::max(1, m_timeline.mass.rows);
    const double width = target.width() - kRowLabelWidth - kColorbarBand;
    const double height = target.height() - kTitleBand - kMarkerBand - kTokenLabelBand - 30;
    return {target.left() + kRowLabelWidth, target.top() + kTitleBand + kMarkerBand,
            std::max(0.5, width / tokens), std::max(0.5, height / rows)};
}

QRectF SinkTimelinePainter::cellRect(const QRectF& target, int row, int token) const {
    const Geometry g = geometry(target);
    return {g.left + token * g.cellWidth, g.top + row * g.cellHeight, g.cellWidth, g.cellHeight};
}

std::optional<std::pair<int, int>> SinkTimelinePainter::cellAt(const QRectF& target,
                                                               const QPointF& point) const {
    if (m_timeline.empty()) return std::nullopt;
    const Geometry g = geometry(target);
    const int token = int(std::floor((point.x() - g.left) / g.cellWidth));
    const int row = int(std::floor((point.y() - g.top) / g.cellHeight));
    if (token < 0 || row < 0 || token >= m_timeline.mass.cols || row >= m_timeline.mass.rows)
        return std::nullopt;
    return std::pair(row, token);
}

float SinkTimelinePainter::maximum() const {
    double high = 0.0;
    if (!m_timeline.empty()) cv::minMaxLoc(m_timeline.mass, nullptr, &high);
    return float(std::max(high, 1e-6));
}

QColor SinkTimelinePainter::cellColour(float mass) const {
    const cv::Vec3b rgb =
        colormapColor(m_colormap, std::max(0, colormapIndex(mass, 0.0, maximum())));
    return QColor(rgb[0], rgb[1], rgb[2]);
}

void SinkTimelinePainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    QFont font = painter.font();
    font.setPointSizeF(9.0);
    painter.setFont(font);
    painter.setPen(Qt::black);
    const QString title =
        m_title.isEmpty()
            ? tr("Attention received per token and layer (sinks: > %1 of the queries' mass)")
                  .arg(m_timeline.tau, 0, 'g', 3)
            : m_title;
    painter.drawText(QRectF(target.left(), target.top(), target.width(), kTitleBand),
                     Qt::AlignCenter, title);
    if (m_timeline.empty()) {
        painter.drawText(target, Qt::AlignCenter,
                         tr("No sink analysis yet: open a model and an input"));
        painter.restore();
        return;
    }
    const Geometry g = geometry(target);
    const int rows = m_timeline.mass.rows, tokens = m_timeline.mass.cols;
    painter.setRenderHint(QPainter::Antialiasing, false);
    painter.setPen(Qt::NoPen);
    for (int row = 0; row < rows; ++row) {
        for (int token = 0; token < tokens; ++token) {
            painter.fillRect(cellRect(target, row, token),
                             cellColour(m_timeline.mass.at<float>(row, token)));
        }
    }
    // Cells above tau: outlined, so the sink's span over layers reads at a glance.
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(QColor(0, 200, 120), std::clamp(g.cellWidth * 0.15, 1.0, 2.0)));
    for (int row = 0; row < rows; ++row) {
        for (int token = 0; token < tokens; ++token) {
            if (m_timeline.mass.at<float>(row, token) > m_timeline.tau)
                painter.drawRect(cellRect(target, row, token).adjusted(0.5, 0.5, -0.5, -0.5));
        }
    }
    painter.setRenderHint(QPainter::Antialiasing, true);
    // Sink markers above the columns.
    const double marker = std::min(kMarkerBand * 0.7, std::max(5.0, g.cellWidth * 0.9));
    const auto markColumn = [&](int token, bool primary) {
        if (token < 0 || token >= tokens) return;
        const QRectF cell = cellRect(target, 0, token);
        const QPointF centre(cell.center().x(), g.top - kMarkerBand / 2);
        QPainterPath path;
        if (primary) {
            path.moveTo(centre + QPointF(0, marker / 2));
            path.lineTo(centre + QPointF(-marker / 2, -marker / 2));
            path.lineTo(centre + QPointF(marker / 2, -marker / 2));
            path.closeSubpath();
            painter.setPen(QPen(kPrimary, 1.0));
            painter.setBrush(kPrimary);
        } else {
            path.moveTo(centre + QPointF(0, -marker / 2));
            path.lineTo(centre + QPointF(marker / 2, 0));
            path.lineTo(centre + QPointF(0, marker / 2));
            path.lineTo(centre + QPointF(-marker / 2, 0));
            path.closeSubpath();
            painter.setPen(QPen(kSecondary, 1.6));
            painter.setBrush(Qt::NoBrush);
        }
        painter.drawPath(path);
    };
    for (int token : m_timeline.primary) markColumn(token, true);
    for (int token : m_timeline.secondary) markColumn(token, false);
    // Row labels.
    painter.setPen(Qt::black);
    for (int row = 0; row < rows; ++row) {
        const QRectF cell = cellRect(target, row, 0);
        const int layer =
            row < int(m_timeline.layers.size()) ? m_timeline.layers[std::size_t(row)] : row;
        painter.drawText(QRectF(target.left(), cell.top(), kRowLabelWidth - 4, cell.height()),
                         Qt::AlignRight | Qt::AlignVCenter, tr("L%1").arg(layer));
    }
    // Token labels: every sink, and evenly spaced others where there is room.
    const double gridBottom = g.top + rows * g.cellHeight;
    const QFontMetricsF metrics(painter.font());
    const int step = std::max(1, int(std::ceil(metrics.height() * 1.1 / g.cellWidth)));
    std::vector<bool> labelled(std::size_t(tokens), false);
    for (int token = 0; token < tokens; token += step) labelled[std::size_t(token)] = true;
    for (int token : m_timeline.primary) {
        if (token >= 0 && token < tokens) labelled[std::size_t(token)] = true;
    }
    for (int token : m_timeline.secondary) {
        if (token >= 0 && token < tokens) labelled[std::size_t(token)] = true;
    }
    for (int token = 0; token < tokens; ++token) {
        if (!labelled[std::size_t(token)]) continue;
        const QString label =
            token < int(m_timeline.tokenLabels.size())
                ? QString::fromStdString(m_timeline.tokenLabels[std::size_t(token)])
                : QString::number(token);
        const QRectF cell = cellRect(target, rows - 1, token);
        painter.save();
        painter.translate(cell.center().x(), gridBottom + 3);
        painter.rotate(-60);
        painter.drawText(
            QRectF(-kTokenLabelBand - 4, -metrics.height() / 2, kTokenLabelBand, metrics.height()),
            Qt::AlignRight | Qt::AlignVCenter,
            metrics.elidedText(label, Qt::ElideRight, kTokenLabelBand));
        painter.restore();
    }
    // Legend: markers and the colour bar with tau.
    const double legendLeft = g.left + tokens * g.cellWidth + 14;
    const double barWidth = 12.0;
    const QRectF bar(legendLeft, g.top, barWidth, rows * g.cellHeight);
    const float high = maximum();
    painter.setRenderHint(QPainter::Antialiasing, false);
    painter.setPen(Qt::NoPen);
    const int steps = 64;
    for (int i = 0; i < steps; ++i) {
        const double fraction = (i + 0.5) / steps;
        painter.fillRect(QRectF(bar.left(), bar.bottom() - (i + 1) * bar.height() / steps,
                                bar.width(), bar.height() / steps + 0.5),
                         cellColour(float(fraction * high)));
    }
    painter.setRenderHint(QPainter::Antialiasing, true);
    painter.setPen(QPen(Qt::black, 0.6));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(bar);
    painter.drawText(QRectF(bar.right() + 3, bar.top() - 6, 50, 12),
                     Qt::AlignLeft | Qt::AlignVCenter, QString::number(high, 'g', 2));
    painter.drawText(QRectF(bar.right() + 3, bar.bottom() - 6, 50, 12),
                     Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("0"));
    if (m_timeline.tau < high) {
        const double y = bar.bottom() - m_timeline.tau / high * bar.height();
        painter.setPen(QPen(QColor(0, 200, 120), 1.5));
        painter.drawLine(QPointF(bar.left() - 3, y), QPointF(bar.right() + 3, y));
        painter.drawText(QRectF(bar.right() + 3, y - 6, 50, 12), Qt::AlignLeft | Qt::AlignVCenter,
                         QStringLiteral("τ %1").arg(m_timeline.tau, 0, 'g', 2));
    }
    const double legendTop = gridBottom + kTokenLabelBand + 6;
    painter.setPen(QPen(kPrimary, 1.0));
    painter.setBrush(kPrimary);
    QPainterPath triangle;
    triangle.moveTo(target.left() + kRowLabelWidth + 5, legendTop + 12);
    triangle.lineTo(target.left() + kRowLabelWidth, legendTop + 3);
    triangle.lineTo(target.left() + kRowLabelWidth + 10, legendTop + 3);
    triangle.closeSubpath();
    painter.drawPath(triangle);
    painter.setPen(Qt::black);
    painter.drawText(QRectF(target.left() + kRowLabelWidth + 14, legendTop, 200, 16),
                     Qt::AlignLeft | Qt::AlignVCenter,
                     tr("primary sink (%1)").arg(m_timeline.primary.size()));
    const double second = target.left() + kRowLabelWidth + 180;
    QPainterPath diamond;
    diamond.moveTo(second + 5, legendTop + 2);
    diamond.lineTo(second + 10, legendTop + 8);
    diamond.lineTo(second + 5, legendTop + 14);
    diamond.lineTo(second, legendTop + 8);
    diamond.closeSubpath();
    painter.setPen(QPen(kSecondary, 1.6));
    painter.setBrush(Qt::NoBrush);
    painter.drawPath(diamond);
    painter.setPen(Qt::black);
    painter.drawText(QRectF(second + 14, legendTop, 200, 16), Qt::AlignLeft | Qt::AlignVCenter,
                     tr("secondary sink (%1)").arg(m_timeline.secondary.size()));
    const double third = second + 170;
    painter.setPen(QPen(QColor(0, 200, 120), 1.5));
    painter.drawRect(QRectF(third, legendTop + 3, 10, 10));
    painter.setPen(Qt::black);
    painter.drawText(QRectF(third + 14, legendTop, 200, 16), Qt::AlignLeft | Qt::AlignVCenter,
                     tr("cell above τ"));
    painter.restore();
}

}  // namespace fovea
