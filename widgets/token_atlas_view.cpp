#include "widgets/token_atlas_view.h"

#include "widgets/token_style.h"

#include <QFontMetricsF>
#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

constexpr double kTitle = 22.0;
constexpr double kRowLabel = 34.0;
constexpr double kColumnLabel = 16.0;

}  // namespace

TokenAtlasPainter buildTokenAtlas(const AttentionStack& stack, int side,
                                  const std::string& colormap) {
    TokenAtlasPainter atlas;
    if (stack.layers.empty()) return atlas;
    const QVector<QRgb> table = colormapTable(colormap);
    atlas.m_heads = stack.layers.front().heads;
    const int n = stack.layers.front().tokens;
    const int pixels = std::max(1, std::min(n, side));
    // Pixel p covers tokens [p * n / pixels, (p + 1) * n / pixels).
    std::vector<int> start(std::size_t(pixels) + 1);
    for (int p = 0; p <= pixels; ++p)
        start[std::size_t(p)] = int(std::lround(double(p) * n / pixels));
    for (const AttentionLayer& layer : stack.layers) {
        atlas.m_layers.push_back(layer.layer);
        std::vector<QImage> row;
        for (const int head : atlas.m_heads) {
            const int slot = layer.headSlot(head);
            QImage image(pixels, pixels, QImage::Format_RGB32);
            image.fill(Qt::white);
            if (slot < 0) {
                row.push_back(image);
                continue;
            }
            const std::vector<float> values = layer.matrix(slot);
            std::vector<float> pooled(std::size_t(pixels) * std::size_t(pixels),
                                      -1.0f);  // -1: all masked
            float maximum = 0.0f;
            for (int py = 0; py < pixels; ++py) {
                for (int q = start[std::size_t(py)];
                     q < std::max(start[std::size_t(py)] + 1, start[std::size_t(py) + 1]); ++q) {
                    for (int px = 0; px < pixels; ++px) {
                        float& out =
                            pooled[std::size_t(py) * std::size_t(pixels) + std::size_t(px)];
                        for (int k = start[std::size_t(px)];
                             k < std::max(start[std::size_t(px)] + 1, start[std::size_t(px) + 1]);
                             ++k) {
                            if (stack.isMasked(q, k)) continue;
                            const float v =
                                values[std::size_t(q) * std::size_t(n) + std::size_t(k)];
                            out = std::max(out, v);
                            maximum = std::max(maximum, v);
                        }
                    }
                }
            }
            const float scale = maximum > 0.0f ? 256.0f / maximum : 0.0f;
            for (int py = 0; py < pixels; ++py) {
                auto* line = reinterpret_cast<QRgb*>(image.scanLine(py));
                for (int px = 0; px < pixels; ++px) {
                    const float v = pooled[std::size_t(py) * std::size_t(pixels) + std::size_t(px)];
                    line[px] = v < 0.0f ? kMaskedRgb : table[std::clamp(int(v * scale), 0, 255)];
                }
            }
            row.push_back(image);
        }
        atlas.m_thumbnails.push_back(std::move(row));
    }
    return atlas;
}

QSizeF TokenAtlasPainter::preferredSize() const {
    const double cell = 72.0, gap = 6.0;
    return {kRowLabel + heads() * (cell + gap) + 8,
            kTitle + kColumnLabel + layers() * (cell + gap) + 8};
}

TokenAtlasPainter::Geometry TokenAtlasPainter::geometry(const QRectF& target) const {
    Geometry g;
    g.gap = 6.0;
    const double width = target.width() - kRowLabel - 4,
                 height = target.height() - kTitle - kColumnLabel - 4;
    g.cell = std::max(
        4.0, std::min(width / std::max(1, heads()), height / std::max(1, layers())) - g.gap);
    g.left = target.left() + kRowLabel;
    g.top = target.top() + kTitle + kColumnLabel;
    return g;
}

QRectF TokenAtlasPainter::cellRect(const QRectF& target, int row, int column) const {
    const Geometry g = geometry(target);
    return {g.left + column * (g.cell + g.gap), g.top + row * (g.cell + g.gap), g.cell, g.cell};
}

std::optional<TokenAtlasCell> TokenAtlasPainter::cellAt(const QRectF& target,
                                                        const QPointF& point) const {
    for (int row = 0; row < layers(); ++row) {
        for (int column = 0; column < heads(); ++column) {
            if (cellRect(target, row, column).contains(point)) {
                return TokenAtlasCell{m_layers[std::size_t(row)], m_heads[std::size_t(column)]};
            }
        }
    }
    return std::nullopt;
}

void TokenAtlasPainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    painter.setFont(figureFont(12, true));
    painter.setPen(Qt::black);
    painter.drawText(QRectF(target.left() + 4, target.top(), target.width() - 8, kTitle),
                     Qt::AlignLeft | Qt::AlignVCenter,
                     m_title.isEmpty() ? QStringLiteral("Token patterns, layer x head") : m_title);
    painter.setFont(figureFont(10));
    for (int column = 0; column < heads(); ++column) {
        const QRectF cell = cellRect(target, 0, column);
        painter.drawText(QRectF(cell.left(), cell.top() - kColumnLabel, cell.width(), kColumnLabel),
                         Qt::AlignCenter, QStringLiteral("H%1").arg(m_heads[std::size_t(column)]));
    }
    for (int row = 0; row < layers(); ++row) {
        const QRectF first = cellRect(target, row, 0);
        painter.drawText(QRectF(target.left(), first.top(), kRowLabel - 4, first.height()),
                         Qt::AlignRight | Qt::AlignVCenter,
                         QStringLiteral("L%1").arg(m_layers[std::size_t(row)]));
        for (int column = 0; column < heads(); ++column) {
            const QRectF cell = cellRect(target, row, column);
            painter.drawImage(cell, thumbnail(row, column));
            const bool focused = m_focus && m_focus->layer == m_layers[std::size_t(row)] &&
                                 m_focus->head == m_heads[std::size_t(column)];
            painter.setPen(focused ? QPen(QColor(230, 60, 20), 2.5)
                                   : QPen(QColor(150, 150, 150), 0.5));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(cell);
            painter.setPen(Qt::black);
        }
    }
    painter.restore();
}

TokenAtlasView::TokenAtlasView(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::ClickFocus);
    setMinimumSize(200, 150);
}

void TokenAtlasView::setPainter(const TokenAtlasPainter& painter) {
    const std::optional<TokenAtlasCell> focus = m_painter.focus();
    m_painter = painter;
    if (!m_painter.focus()) m_painter.setFocus(focus);
    update();
}

void TokenAtlasView::setFocusCell(int layer, int head) {
    m_painter.setFocus(TokenAtlasCell{layer, head});
    update();
}

void TokenAtlasView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    m_painter.paint(painter, figureRect());
}

void TokenAtlasView::mousePressEvent(QMouseEvent* event) {
    if (const auto cell = m_painter.cellAt(figureRect(), event->position())) {
        setFocusCell(cell->layer, cell->head);
        Q_EMIT cellClicked(cell->layer, cell->head);
    }
}

}  // namespace fovea
