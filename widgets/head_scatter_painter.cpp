#include "widgets/head_scatter_painter.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fovea {
namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("fovea::HeadScatter", text);
}

QColor toQColor(const Rgb& rgb) {
    return QColor(rgb[0], rgb[1], rgb[2]);
}

constexpr double kTitleBand = 26.0;
constexpr double kLegendWidth = 190.0;

struct Bounds {
    double xLow, xHigh, yLow, yHigh;
};

// The data's extent with a margin, so no point sits on the frame; a single point (or a
// degenerate axis) gets a unit span around it.
Bounds boundsOf(const HeadData& data) {
    Bounds b{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
             std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (const HeadPoint& p : data.points) {
        b.xLow = std::min(b.xLow, p.x);
        b.xHigh = std::max(b.xHigh, p.x);
        b.yLow = std::min(b.yLow, p.y);
        b.yHigh = std::max(b.yHigh, p.y);
    }
    if (!(b.xLow <= b.xHigh)) return {-1, 1, -1, 1};
    const auto widen = [](double& low, double& high) {
        const double span = high - low;
        const double margin = span > 1e-12 ? span * 0.08 : 0.5;
        low -= margin;
        high += margin;
    };
    widen(b.xLow, b.xHigh);
    widen(b.yLow, b.yHigh);
    return b;
}

}  // namespace

QRectF HeadScatterPainter::plotRect(const QRectF& target) const {
    const double legend = std::min(kLegendWidth, target.width() * 0.35);
    QRectF area(target.left() + 24, target.top() + kTitleBand, target.width() - legend - 36,
                target.height() - kTitleBand - 26);
    const double side = std::max(1.0, std::min(area.width(), area.height()));
    return {area.left(), area.top(), side, side};
}

QPointF HeadScatterPainter::position(const QRectF& target, const HeadPoint& point) const {
    const QRectF plot = plotRect(target);
    const Bounds b = boundsOf(m_data);
    const double u = (point.x - b.xLow) / (b.xHigh - b.xLow);
    const double v = (point.y - b.yLow) / (b.yHigh - b.yLow);
    return {plot.left() + u * plot.width(), plot.bottom() - v * plot.height()};
}

double HeadScatterPainter::pointRadius(const QRectF& plot) const {
    // Fewer heads, bigger points; never so small that a point is hard to hit.
    const double n = std::max<std::size_t>(1, m_data.points.size());
    return std::clamp(plot.width() / (3.0 * std::sqrt(n) + 8.0), 3.0, 9.0);
}

std::optional<HeadKey> HeadScatterPainter::headAt(const QRectF& target, const QPointF& at,
                                                  double radius) const {
    std::optional<HeadKey> best;
    double bestDistance = radius;
    for (const HeadPoint& p : m_data.points) {
        const QPointF d = position(target, p) - at;
        const double distance = std::hypot(d.x(), d.y());
        if (distance <= bestDistance) {
            bestDistance = distance;
            best = p.key;
        }
    }
    return best;
}

HeadSet HeadScatterPainter::headsInside(const QRectF& target, const QPolygonF& polygon) const {
    HeadSet inside;
    if (polygon.size() < 3) return inside;
    for (const HeadPoint& p : m_data.points) {
        if (polygon.containsPoint(position(target, p), Qt::OddEvenFill)) inside.insert(p.key);
    }
    return inside;
}

Rgb HeadScatterPainter::fillColour(const HeadPoint& point) const {
    if (m_colouring == Colouring::Cluster) return clusterColour(point.cluster);
    if (point.labels.empty() || point.labels.front() < 0 ||
        point.labels.front() >= int(m_data.labels.size())) {
        return {215, 215, 215};
    }
    return m_data.labels[std::size_t(point.labels.front())].rgb;
}

void HeadScatterPainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, true);
    QFont font = painter.font();
    font.setPointSizeF(9.0);
    painter.setFont(font);
    painter.setPen(Qt::black);
    QString title = m_title;
    if (title.isEmpty()) {
        title =
            tr("Heads in the %1 embedding of their attention descriptors")
                .arg(m_data.embedding == "tsne" ? QStringLiteral("t-SNE") : QStringLiteral("PCA"));
        if (!m_data.note.empty())
            title += QStringLiteral(" (%1)").arg(QString::fromStdString(m_data.note));
    }
    painter.drawText(QRectF(target.left(), target.top(), target.width(), kTitleBand),
                     Qt::AlignCenter, title);
    if (m_data.empty()) {
        painter.drawText(target, Qt::AlignCenter,
                         tr("No head analysis yet: open a model and an input"));
        painter.restore();
        return;
    }
    const QRectF plot = plotRect(target);
    painter.setPen(QPen(QColor(120, 120, 120), 0.8));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(plot);
    const QString axis =
        m_data.embedding == "tsne" ? QStringLiteral("t-SNE %1") : QStringLiteral("PC %1");
    painter.setPen(QColor(90, 90, 90));
    painter.drawText(QRectF(plot.left(), plot.bottom() + 2, plot.width(), 20),
                     Qt::AlignHCenter | Qt::AlignTop, axis.arg(1));
    painter.save();
    painter.translate(plot.left() - 6, plot.center().y());
    painter.rotate(-90);
    painter.drawText(QRectF(-plot.height() / 2, -18, plot.height(), 16), Qt::AlignCenter,
                     axis.arg(2));
    painter.restore();

    const double r = pointRadius(plot);
    // Unselected first, selected on top of them.
    for (int pass = 0; pass < 2; ++pass) {
        for (const HeadPoint& p : m_data.points) {
            const bool selected = m_selection.count(p.key) > 0;
            if (selected != (pass == 1)) continue;
            const QPointF at = position(target, p);
            painter.setBrush(toQColor(fillColour(p)));
            painter.setPen(QPen(QColor(60, 60, 60), 0.7));
            painter.drawEllipse(at, r, r);
            // A second label shows as a ring in its colour.
            if (m_colouring == Colouring::Label && p.labels.size() > 1 && p.labels[1] >= 0 &&
                p.labels[1] < int(m_data.labels.size())) {
                painter.setBrush(Qt::NoBrush);
                painter.setPen(
                    QPen(toQColor(m_data.labels[std::size_t(p.labels[1])].rgb), r * 0.45));
                painter.drawEllipse(at, r * 0.75, r * 0.75);
            }
            if (selected) {
                painter.setBrush(Qt::NoBrush);
                painter.setPen(QPen(QColor(200, 0, 0), 2.2));
                painter.drawEllipse(at, r + 3.0, r + 3.0);
            }
        }
    }
    const double legendLeft = plot.right() + 16;
    paintLegend(painter,
                QRectF(legendLeft, plot.top(), target.right() - legendLeft, plot.height()));
    painter.restore();
}

void HeadScatterPainter::paintLegend(QPainter& painter, const QRectF& area) const {
    struct Entry {
        Rgb rgb;
        QString text;
    };
    std::vector<Entry> entries;
    if (m_colouring == Colouring::Cluster) {
        std::map<int, int> counts;
        for (const HeadPoint& p : m_data.points) ++counts[p.cluster];
        for (const auto& [cluster, count] : counts) {
            const QString name =
                cluster >= 0 && cluster < int(m_data.clusterNames.size())
                    ? QString::fromStdString(m_data.clusterNames[std::size_t(cluster)])
                : cluster < 0 ? tr("not clustered")
                              : tr("cluster %1").arg(cluster + 1);
            entries.push_back({clusterColour(cluster), tr("%1 (%2)").arg(name).arg(count)});
        }
    } else {
        std::vector<int> counts(m_data.labels.size(), 0);
        int none = 0;
        for (const HeadPoint& p : m_data.points) {
            if (p.labels.empty()) ++none;
            for (int label : p.labels) {
                if (label >= 0 && label < int(counts.size())) ++counts[std::size_t(label)];
            }
        }
        for (std::size_t i = 0; i < m_data.labels.size(); ++i) {
            if (counts[i] == 0) continue;
            entries.push_back(
                {m_data.labels[i].rgb,
                 tr("%1 (%2)").arg(QString::fromStdString(m_data.labels[i].name)).arg(counts[i])});
        }
        if (none > 0) entries.push_back({{215, 215, 215}, tr("no label (%1)").arg(none)});
    }
    painter.setPen(Qt::black);
    painter.drawText(QRectF(area.left(), area.top(), area.width(), 16),
                     Qt::AlignLeft | Qt::AlignVCenter,
                     m_colouring == Colouring::Cluster ? tr("Clusters") : tr("Strongest label"));
    const double line = 17.0;
    double y = area.top() + 20;
    for (const Entry& entry : entries) {
        if (y + line > area.bottom()) break;
        painter.setPen(QPen(QColor(60, 60, 60), 0.6));
        painter.setBrush(toQColor(entry.rgb));
        painter.drawEllipse(QPointF(area.left() + 6, y + line / 2), 5, 5);
        painter.setPen(Qt::black);
        const QString text =
            painter.fontMetrics().elidedText(entry.text, Qt::ElideRight, int(area.width() - 18));
        painter.drawText(QRectF(area.left() + 16, y, area.width() - 16, line),
                         Qt::AlignLeft | Qt::AlignVCenter, text);
        y += line;
    }
    if (!m_selection.empty() && y + 2 * line <= area.bottom()) {
        y += line / 2;
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(QColor(200, 0, 0), 2.0));
        painter.drawEllipse(QPointF(area.left() + 6, y + line / 2), 6, 6);
        painter.setPen(Qt::black);
        painter.drawText(QRectF(area.left() + 16, y, area.width() - 16, line),
                         Qt::AlignLeft | Qt::AlignVCenter,
                         tr("selected (%1)").arg(m_selection.size()));
    }
}

}  // namespace fovea
