#include "widgets/atlas_painter.h"

#include "core/explain/attention_maps.h"
#include "core/image/colormap.h"
#include "core/util/error.h"

#include <QCoreApplication>
#include <QFontMetricsF>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fovea {
namespace {

QColor rgbColor(const cv::Vec3b& rgb) { return QColor(rgb[0], rgb[1], rgb[2]); }

constexpr double kLabelBand = 0.45;  // of a cell, for the row and column labels
constexpr double kLegendPoints = 150.0;
const QColor kSelection(0, 90, 220);

QColor toQColor(const Rgb& rgb) { return QColor(rgb[0], rgb[1], rgb[2]); }

QString tr(const char* text) { return QCoreApplication::translate("fovea::Atlas", text); }

}  // namespace

AtlasColouring atlasColouringFromName(const std::string& name) {
    if (name == "labels") return AtlasColouring::Labels;
    if (name == "importance") return AtlasColouring::Importance;
    if (name == "cluster") return AtlasColouring::Cluster;
    return AtlasColouring::Attention;
}

std::string atlasColouringName(AtlasColouring colouring) {
    switch (colouring) {
        case AtlasColouring::Labels: return "labels";
        case AtlasColouring::Importance: return "importance";
        case AtlasColouring::Cluster: return "cluster";
        case AtlasColouring::Attention: break;
    }
    return "attention";
}

double AtlasPainter::legendWidth(const QRectF& target) const {
    if (m_colouring == AtlasColouring::Attention) return 0.0;
    return std::min(kLegendPoints, target.width() * 0.3);
}

QColor AtlasPainter::importanceColour(double value) const {
    const auto [low, high] = m_headData.importanceRange();
    if (!std::isfinite(value) || !std::isfinite(low)) return QColor(220, 220, 220);
    return rgbColor(colormapColor("viridis", std::max(0, colormapIndex(value, low, high))));
}

void AtlasPainter::setAttention(const AttentionStack& stack, int query) {
    m_layers.clear();
    m_maps.clear();
    m_heads = stack.modelHeads;
    for (const AttentionLayer& layer : stack.layers) {
        if (int(layer.heads.size()) != stack.modelHeads) continue;  // the atlas needs every head
        m_layers.push_back(layer.layer);
        std::vector<cv::Mat> row;
        for (int h = 0; h < m_heads; ++h) {
            HeadSelection single;
            single.fusion = HeadFusion::Single;
            single.head = h;
            row.push_back(rawAttentionMap(stack, layer.layer, single, query));
        }
        row.push_back(rawAttentionMap(stack, layer.layer, HeadSelection{}, query));
        m_maps.push_back(std::move(row));
    }
}

const cv::Mat& AtlasPainter::map(int layerRow, int headColumn) const {
    return m_maps.at(std::size_t(layerRow)).at(std::size_t(headColumn));
}

QSizeF AtlasPainter::preferredSize(double cellSide) const {
    const double gap = cellSide * 0.08;
    const int columns = m_heads + 1;
    const double legend = m_colouring == AtlasColouring::Attention ? 0.0 : kLegendPoints;
    return {cellSide * kLabelBand + columns * (cellSide + gap) + gap * 3 + legend,
            cellSide * kLabelBand + layers() * (cellSide + gap) + gap};
}

AtlasPainter::Geometry AtlasPainter::geometry(const QRectF& target) const {
    const int columns = m_heads + 1;  // the mean column is set off by an extra gap
    const int rows = std::max(1, layers());
    // Solve target = label + n * (cell + gap) + extra for the largest cell that fits both ways.
    const double byWidth = (target.width() - legendWidth(target)) / (kLabelBand + columns * 1.08 + 0.24);
    const double byHeight = target.height() / (kLabelBand + rows * 1.08 + 0.08);
    const double cell = std::max(1.0, std::min(byWidth, byHeight));
    return {target.left() + cell * kLabelBand, target.top() + cell * kLabelBand, cell, cell * 0.08};
}

QRectF AtlasPainter::cellRect(const QRectF& target, int layerRow, int column) const {
    const Geometry g = geometry(target);
    const double extra = column == m_heads ? 2 * g.gap : 0.0;
    return {g.left + column * (g.cell + g.gap) + extra, g.top + layerRow * (g.cell + g.gap), g.cell, g.cell};
}

std::optional<AtlasCell> AtlasPainter::cellAt(const QRectF& target, const QPointF& point) const {
    for (int row = 0; row < layers(); ++row) {
        for (int column = 0; column <= m_heads; ++column) {
            if (cellRect(target, row, column).contains(point)) {
                return AtlasCell{m_layers[std::size_t(row)], column == m_heads ? -1 : column};
            }
        }
    }
    return std::nullopt;
}

void AtlasPainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    if (m_maps.empty()) {
        painter.drawText(target, Qt::AlignCenter, QCoreApplication::translate("fovea::Atlas", "No attention captured"));
        painter.restore();
        return;
    }
    const Geometry g = geometry(target);
    ValueRange shared{};
    if (m_sharedRange) {
        shared = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
        for (const auto& row : m_maps) {
            for (const cv::Mat& m : row) {
                const ValueRange r = heatmapRange(m, FigureOptions{});
                shared.low = std::min(shared.low, r.low);
                shared.high = std::max(shared.high, r.high);
            }
        }
    }
    QFont font = painter.font();
    font.setPointSizeF(std::clamp(g.cell * 0.16, 5.0, 12.0));
    painter.setFont(font);
    painter.setPen(Qt::black);
    for (int column = 0; column <= m_heads; ++column) {
        const QRectF cell = cellRect(target, 0, column);
        painter.drawText(QRectF(cell.left(), target.top(), cell.width(), g.top - target.top()), Qt::AlignCenter,
                         column == m_heads ? QCoreApplication::translate("fovea::Atlas", "mean") : QCoreApplication::translate("fovea::Atlas", "h%1").arg(column));
    }
    for (int row = 0; row < layers(); ++row) {
        const QRectF cell = cellRect(target, row, 0);
        painter.setPen(Qt::black);
        painter.drawText(QRectF(target.left(), cell.top(), g.left - target.left() - g.gap, cell.height()),
                         Qt::AlignRight | Qt::AlignVCenter, QCoreApplication::translate("fovea::Atlas", "L%1").arg(m_layers[std::size_t(row)]));
        for (int column = 0; column <= m_heads; ++column) {
            const QRectF box = cellRect(target, row, column);
            const cv::Mat& m = m_maps[std::size_t(row)][std::size_t(column)];
            const ValueRange range = m_sharedRange ? shared : heatmapRange(m, FigureOptions{});
            if (m_showImage && !m_image.isNull()) painter.drawImage(box, m_image);
            const double w = box.width() / m.cols, h = box.height() / m.rows;
            const int alpha = m_showImage ? int(std::lround(255 * m_options.opacity)) : 255;
            painter.setPen(Qt::NoPen);
            // Axis-aligned cells without antialiasing: no hairline seams between neighbours.
            painter.setRenderHint(QPainter::Antialiasing, false);
            for (int y = 0; y < m.rows; ++y) {
                const float* value = m.ptr<float>(y);
                for (int x = 0; x < m.cols; ++x) {
                    if (std::isnan(value[x])) continue;
                    QColor colour = rgbColor(colormapColor(m_options.colormap, colormapIndex(value[x], range.low, range.high)));
                    colour.setAlpha(alpha);
                    painter.fillRect(QRectF(box.left() + x * w, box.top() + y * h, w, h), colour);
                }
            }
            painter.setRenderHint(QPainter::Antialiasing, true);
            if (column < m_heads) paintColouring(painter, box, HeadKey{m_layers[std::size_t(row)], column}, g.gap);
            const auto frame = m_frames.find({m_layers[std::size_t(row)], column == m_heads ? -1 : column});
            const bool focused = m_focus && m_focus->layer == m_layers[std::size_t(row)] &&
                                 m_focus->head == (column == m_heads ? -1 : column);
            if (frame != m_frames.end() || focused) {
                painter.setPen(QPen(focused ? QColor(Qt::red) : frame->second, std::max(1.5, g.gap * 0.6)));
                painter.setBrush(Qt::NoBrush);
                painter.drawRect(box.adjusted(-g.gap / 3, -g.gap / 3, g.gap / 3, g.gap / 3));
            }
        }
    }
    if (m_colouring != AtlasColouring::Attention) {
        const double left = cellRect(target, 0, m_heads).right() + 3 * g.gap;
        paintLegend(painter, QRectF(left, g.top, target.right() - left, target.bottom() - g.top));
    }
    painter.restore();
}

void AtlasPainter::paintColouring(QPainter& painter, const QRectF& box, const HeadKey& key, double gap) const {
    const HeadPoint* point = m_headData.find(key);
    const double side = box.width();
    const double border = std::max(1.5, gap * 0.9);
    painter.save();
    if (point && m_colouring == AtlasColouring::Importance && std::isfinite(point->importance)) {
        // The value's colour over the whole cell, the value written in it where it fits.
        const QColor fill = importanceColour(point->importance);
        painter.setPen(Qt::NoPen);
        painter.setBrush(fill);
        painter.drawRect(box);
        if (side >= 28) {
            QFont font = painter.font();
            font.setPointSizeF(std::clamp(side * 0.2, 5.0, 11.0));
            painter.setFont(font);
            painter.setPen(fill.lightnessF() > 0.55 ? Qt::black : Qt::white);
            painter.drawText(box, Qt::AlignCenter, QString::number(point->importance, 'g', 2));
        }
    } else if (point && m_colouring == AtlasColouring::Cluster && point->cluster >= 0) {
        const QColor colour = toQColor(clusterColour(point->cluster));
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(colour, border * 1.6));
        painter.drawRect(box.adjusted(border * 0.8, border * 0.8, -border * 0.8, -border * 0.8));
        const double badgeSide = std::max(8.0, side * 0.26);
        const QRectF badge(box.left(), box.top(), badgeSide, badgeSide);
        painter.setPen(Qt::NoPen);
        painter.setBrush(colour);
        painter.drawRect(badge);
        QFont font = painter.font();
        font.setPointSizeF(std::clamp(side * 0.16, 4.0, 10.0));
        painter.setFont(font);
        painter.setPen(colour.lightnessF() > 0.6 ? Qt::black : Qt::white);
        painter.drawText(badge, Qt::AlignCenter, QString::number(point->cluster + 1));
    } else if (point && m_colouring == AtlasColouring::Labels && !point->labels.empty()) {
        const int first = point->labels.front();
        if (first >= 0 && first < int(m_headData.labels.size())) {
            painter.setBrush(Qt::NoBrush);
            painter.setPen(QPen(toQColor(m_headData.labels[std::size_t(first)].rgb), border * 1.6));
            painter.drawRect(box.adjusted(border * 0.8, border * 0.8, -border * 0.8, -border * 0.8));
        }
        // One badge per label along the top edge.
        const double badge = std::max(5.0, side * 0.2);
        double x = box.left() + border * 1.6;
        for (int label : point->labels) {
            if (label < 0 || label >= int(m_headData.labels.size()) || x + badge > box.right()) continue;
            painter.setPen(QPen(Qt::white, 0.8));
            painter.setBrush(toQColor(m_headData.labels[std::size_t(label)].rgb));
            painter.drawRect(QRectF(x, box.top() + border * 1.6, badge, badge));
            x += badge + 1.5;
        }
    }
    const auto scaled = m_scales.find(key);
    if (scaled != m_scales.end() && scaled->second != 1.0f) {
        if (scaled->second == 0.0f) {
            painter.setPen(Qt::NoPen);
            painter.setBrush(QColor(255, 255, 255, 150));
            painter.drawRect(box);
            painter.setPen(QPen(QColor(40, 40, 40), std::max(1.5, side * 0.05)));
            painter.drawLine(box.topLeft(), box.bottomRight());
            painter.drawLine(box.topRight(), box.bottomLeft());
        } else {
            QFont font = painter.font();
            font.setPointSizeF(std::clamp(side * 0.17, 4.5, 10.0));
            font.setBold(true);
            painter.setFont(font);
            const QRectF label(box.left(), box.bottom() - side * 0.28, box.width(), side * 0.28);
            painter.setPen(Qt::NoPen);
            painter.setBrush(QColor(255, 255, 255, 200));
            painter.drawRect(label);
            painter.setPen(Qt::black);
            painter.drawText(label, Qt::AlignCenter, QStringLiteral("\u00d7%1").arg(double(scaled->second), 0, 'g', 3));
        }
    }
    if (m_selection.count(key) > 0) {
        painter.setPen(Qt::NoPen);
        painter.setBrush(QColor(kSelection.red(), kSelection.green(), kSelection.blue(), 60));
        painter.drawRect(box);
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(kSelection, border * 1.3, Qt::DashLine));
        painter.drawRect(box.adjusted(-gap / 2, -gap / 2, gap / 2, gap / 2));
    }
    painter.restore();
}

void AtlasPainter::paintLegend(QPainter& painter, const QRectF& area) const {
    painter.save();
    QFont font = painter.font();
    font.setPointSizeF(8.5);
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    const double line = 15.0;
    double y = area.top();
    const auto heading = [&](const QString& text) {
        // Long titles ("KL when switched off (6 inputs)") wrap inside the legend's width.
        const QRectF box = metrics.boundingRect(QRectF(0, 0, area.width(), 10 * line), Qt::TextWordWrap, text);
        const double height = std::max(line, box.height());
        painter.setPen(Qt::black);
        painter.drawText(QRectF(area.left(), y, area.width(), height), Qt::AlignLeft | Qt::AlignVCenter | Qt::TextWordWrap, text);
        y += height + 2;
    };
    const auto entry = [&](const QColor& colour, const QString& text) {
        if (y + line > area.bottom()) return;
        painter.setPen(QPen(QColor(60, 60, 60), 0.5));
        painter.setBrush(colour);
        painter.drawRect(QRectF(area.left(), y + 3, 10, 10));
        painter.setPen(Qt::black);
        painter.drawText(QRectF(area.left() + 14, y, area.width() - 14, line), Qt::AlignLeft | Qt::AlignVCenter,
                         metrics.elidedText(text, Qt::ElideRight, area.width() - 14));
        y += line;
    };
    if (m_headData.empty()) {
        heading(tr("Head analysis pending"));
        painter.restore();
        return;
    }
    if (m_colouring == AtlasColouring::Labels) {
        heading(tr("Head labels"));
        for (const HeadLabelStyle& label : m_headData.labels) entry(toQColor(label.rgb), QString::fromStdString(label.name));
    } else if (m_colouring == AtlasColouring::Cluster) {
        heading(tr("Clusters"));
        for (std::size_t c = 0; c < m_headData.clusterNames.size(); ++c) {
            entry(toQColor(clusterColour(int(c))),
                  tr("%1: %2").arg(c + 1).arg(QString::fromStdString(m_headData.clusterNames[c])));
        }
    } else if (m_colouring == AtlasColouring::Importance) {
        heading(m_headData.importanceName.empty() ? tr("Importance") : QString::fromStdString(m_headData.importanceName));
        const auto [low, high] = m_headData.importanceRange();
        if (!std::isfinite(low)) {
            heading(tr("(not computed)"));
        } else {
            const QRectF bar(area.left(), y, 12, std::max(20.0, std::min(160.0, area.bottom() - y - 4)));
            const int steps = 64;
            painter.setPen(Qt::NoPen);
            for (int i = 0; i < steps; ++i) {
                painter.setBrush(importanceColour(low + (high - low) * (i + 0.5) / steps));
                painter.drawRect(QRectF(bar.left(), bar.bottom() - (i + 1) * bar.height() / steps, bar.width(),
                                        bar.height() / steps + 0.5));
            }
            painter.setPen(QPen(Qt::black, 0.6));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(bar);
            painter.drawText(QRectF(bar.right() + 4, bar.top() - 6, area.width() - 16, 12), Qt::AlignLeft | Qt::AlignVCenter,
                             QString::number(high, 'g', 3));
            painter.drawText(QRectF(bar.right() + 4, bar.bottom() - 6, area.width() - 16, 12),
                             Qt::AlignLeft | Qt::AlignVCenter, QString::number(low, 'g', 3));
            y = bar.bottom() + 8;
        }
    }
    y += 6;
    if (!m_selection.empty()) {
        entry(QColor(kSelection.red(), kSelection.green(), kSelection.blue(), 90), tr("selected (%1)").arg(m_selection.size()));
    }
    if (!m_scales.empty()) entry(Qt::white, tr("\u00d7 switched off / scaled (%1)").arg(m_scales.size()));
    painter.restore();
}

}  // namespace fovea
