#include "widgets/token_head_view.h"

#include "widgets/token_style.h"

#include <QFontMetricsF>
#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

constexpr double kRow = 18.0;         // points per token row (screen and figure)
constexpr double kTitle = 22.0;       // title line
constexpr double kLegend = 20.0;      // head legend line
constexpr double kLinkWidth = 220.0;  // horizontal run of the lines
constexpr double kLabelMax = 130.0;   // widest label drawn

}  // namespace

void TokenHeadPainter::setAttention(std::shared_ptr<const AttentionStack> stack, int layer,
                                    std::vector<int> heads) {
    m_stack = std::move(stack);
    m_layer = layer;
    m_heads.clear();
    m_slots.clear();
    m_labels.clear();
    if (!m_stack) return;
    const AttentionLayer& captured = m_stack->layer(layer);
    m_slots = selectedSlots(captured, heads);
    for (const int slot : m_slots) m_heads.push_back(captured.heads[std::size_t(slot)]);
    m_labels = tokenLabels(m_stack->tokens);
}

QSizeF TokenHeadPainter::preferredSize() const {
    return {2 * kLabelMax + kLinkWidth + 24, kTitle + kLegend + kRow * std::max(1, tokens()) + 12};
}

TokenHeadPainter::Geometry TokenHeadPainter::geometry(const QRectF& target) const {
    Geometry g;
    g.top = target.top() + kTitle + kLegend;
    g.row = tokens() > 0 ? std::min(kRow, (target.bottom() - 6 - g.top) / tokens()) : kRow;
    const double link = std::max(60.0, target.width() - 2 * kLabelMax - 24);
    g.labelWidth = std::max(30.0, (target.width() - link - 24) / 2);
    g.leftText = target.left() + 6;
    g.leftEdge = g.leftText + g.labelWidth + 4;
    g.rightEdge = g.leftEdge + link;
    g.rightText = g.rightEdge + 4;
    return g;
}

QRectF TokenHeadPainter::labelRect(const QRectF& target, TokenSide side, int token) const {
    const Geometry g = geometry(target);
    const double x = side == TokenSide::Query ? g.leftText : g.rightText;
    return {x, g.top + token * g.row, g.labelWidth, g.row};
}

QLineF TokenHeadPainter::linkLine(const QRectF& target, int query, int key) const {
    const Geometry g = geometry(target);
    return {QPointF(g.leftEdge, g.top + (query + 0.5) * g.row),
            QPointF(g.rightEdge, g.top + (key + 0.5) * g.row)};
}

std::optional<TokenHit> TokenHeadPainter::tokenAt(const QRectF& target,
                                                  const QPointF& point) const {
    if (tokens() == 0) return std::nullopt;
    const Geometry g = geometry(target);
    const int token = int(std::floor((point.y() - g.top) / g.row));
    if (token < 0 || token >= tokens()) return std::nullopt;
    if (point.x() >= g.leftText && point.x() < g.leftEdge) return TokenHit{TokenSide::Query, token};
    if (point.x() >= g.rightText && point.x() < g.rightText + g.labelWidth)
        return TokenHit{TokenSide::Key, token};
    return std::nullopt;
}

void TokenHeadPainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, true);
    const QFont font = figureFont(12);
    painter.setFont(font);
    painter.setPen(Qt::black);
    const QString title = m_title.isEmpty() ? QStringLiteral("Layer %1").arg(m_layer) : m_title;
    painter.setFont(figureFont(12, true));
    painter.drawText(QRectF(target.left() + 6, target.top(), target.width() - 12, kTitle),
                     Qt::AlignLeft | Qt::AlignVCenter, title);
    painter.setFont(font);
    if (!m_stack || tokens() == 0) {
        painter.restore();
        return;
    }
    // Legend: one swatch per head drawn.
    double x = target.left() + 6;
    const QFontMetricsF metrics(font);
    for (const int head : m_heads) {
        const QRectF swatch(x, target.top() + kTitle + 5, 10, 10);
        painter.fillRect(swatch, headColor(head));
        const QString name = QStringLiteral("head %1").arg(head);
        painter.drawText(QPointF(swatch.right() + 3, swatch.bottom()), name);
        x = swatch.right() + 3 + metrics.horizontalAdvance(name) + 10;
    }

    const Geometry g = geometry(target);
    const AttentionLayer& captured = m_stack->layer(m_layer);
    const int n = tokens();
    // Lines: the heads in turn, composited with their weight as opacity (BertViz's encoding).
    // On screen only the lines that cross the exposed band are drawn (a long text scrolls).
    double clipTop = -1e300, clipBottom = 1e300;
    if (painter.hasClipping()) {
        const QRectF clip = painter.clipBoundingRect();
        clipTop = clip.top();
        clipBottom = clip.bottom();
    }
    painter.setBrush(Qt::NoBrush);
    for (std::size_t h = 0; h < m_slots.size(); ++h) {
        QColor color = headColor(m_heads[h]);
        const int slot = m_slots[h];
        for (int q = 0; q < n; ++q) {
            if (m_focus && m_focus->side == TokenSide::Query && m_focus->token != q) continue;
            for (int k = 0; k < n; ++k) {
                if (m_focus && m_focus->side == TokenSide::Key && m_focus->token != k) continue;
                if (m_stack->isMasked(q, k)) continue;
                const double yq = g.top + (q + 0.5) * g.row, yk = g.top + (k + 0.5) * g.row;
                if (std::max(yq, yk) < clipTop || std::min(yq, yk) > clipBottom) continue;
                const float w = captured.value(slot, q, k);
                if (!(w >= kMinimumWeight)) continue;
                color.setAlphaF(std::clamp(double(w), 0.0, 1.0));
                painter.setPen(QPen(color, 0.6 + 2.4 * double(w), Qt::SolidLine, Qt::FlatCap));
                painter.drawLine(QPointF(g.leftEdge, yq), QPointF(g.rightEdge, yk));
            }
        }
    }
    // Labels; the focused one on a light band. Labels shrink with the rows on a short canvas.
    const QFont labelFont = figureFont(std::clamp(g.row * 0.72, 4.0, 12.0));
    painter.setFont(labelFont);
    const QFontMetricsF labelMetrics(labelFont);
    const int stride = std::max(1, int(std::ceil(labelMetrics.height() * 0.9 / g.row)));
    for (int side = 0; side < 2; ++side) {
        const TokenSide which = side == 0 ? TokenSide::Query : TokenSide::Key;
        for (int t = 0; t < n; ++t) {
            const bool focused = m_focus && m_focus->side == which && m_focus->token == t;
            if (t % stride != 0 && !focused) continue;
            const QRectF box = labelRect(target, which, t);
            if (focused) painter.fillRect(box, QColor(255, 236, 160));
            painter.setPen(m_stack->tokens[t].kind == TokenKind::Special ? QColor(110, 110, 110)
                                                                         : QColor(Qt::black));
            const QString text =
                labelMetrics.elidedText(m_labels[std::size_t(t)], Qt::ElideRight, box.width() - 4);
            painter.drawText(box.adjusted(2, 0, -2, 0),
                             (side == 0 ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter, text);
        }
    }
    painter.restore();
}

TokenHeadView::TokenHeadView(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::ClickFocus);
    setMouseTracking(true);
    setMinimumSize(240, 120);
    setAutoFillBackground(false);
}

void TokenHeadView::setPainter(const TokenHeadPainter& painter) {
    const std::optional<TokenHit> focus = m_painter.focus();
    m_painter = painter;
    if (focus && focus->token < m_painter.tokens()) m_painter.setFocus(focus);
    setMinimumHeight(int(std::min(20000.0, m_painter.preferredSize().height())));
    updateGeometry();
    update();
}

QRectF TokenHeadView::figureRect() const {
    const QSizeF preferred = m_painter.preferredSize();
    const double w = std::min(double(width()), std::max(preferred.width(), 420.0));
    return {(width() - w) / 2, 0, w, std::max(double(height()), 1.0)};
}

QSize TokenHeadView::sizeHint() const {
    return m_painter.preferredSize().toSize();
}

void TokenHeadView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    m_painter.paint(painter, figureRect());
}

void TokenHeadView::mouseMoveEvent(QMouseEvent* event) {
    const std::optional<TokenHit> hit = m_painter.tokenAt(figureRect(), event->position());
    const std::optional<TokenHit> old = m_painter.focus();
    const bool same =
        (!hit && !old) || (hit && old && hit->side == old->side && hit->token == old->token);
    if (same) return;
    m_painter.setFocus(hit);
    update();
    Q_EMIT tokenHovered(hit ? int(hit->side) : -1, hit ? hit->token : -1);
}

void TokenHeadView::leaveEvent(QEvent*) {
    if (!m_painter.focus()) return;
    m_painter.setFocus(std::nullopt);
    update();
    Q_EMIT tokenHovered(-1, -1);
}

}  // namespace fovea
