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

}  // namespace

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
    return {cellSide * kLabelBand + columns * (cellSide + gap) + gap * 3,
            cellSide * kLabelBand + layers() * (cellSide + gap) + gap};
}

AtlasPainter::Geometry AtlasPainter::geometry(const QRectF& target) const {
    const int columns = m_heads + 1;  // the mean column is set off by an extra gap
    const int rows = std::max(1, layers());
    // Solve target = label + n * (cell + gap) + extra for the largest cell that fits both ways.
    const double byWidth = target.width() / (kLabelBand + columns * 1.08 + 0.24);
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
    painter.restore();
}

}  // namespace fovea
