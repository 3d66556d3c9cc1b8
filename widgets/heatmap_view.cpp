#include "widgets/heatmap_view.h"

#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace fovea {

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(160, 120);
}

void HeatmapView::setFigure(const HeatmapPainter& figure) {
    m_figure = figure;
    m_placeholder.clear();
    updateGeometry();
    update();
}

void HeatmapView::setPlaceholder(const QString& text) {
    m_placeholder = text;
    update();
}

QSize HeatmapView::sizeHint() const { return m_figure.preferredSize(480).toSize(); }

QRectF HeatmapView::figureRect() const {
    const QRectF base = QRectF(rect()).adjusted(8, 8, -8, -8);
    const QSizeF size = base.size() * m_zoom;
    const QPointF centre = base.center() + m_pan;
    return {centre.x() - size.width() / 2, centre.y() - size.height() / 2, size.width(), size.height()};
}

void HeatmapView::setZoom(double zoom, QPointF anchor) {
    zoom = std::clamp(zoom, 1.0, 32.0);
    // Keep the point under `anchor` where it is.
    const QRectF before = figureRect();
    const QPointF relative((anchor.x() - before.left()) / before.width(), (anchor.y() - before.top()) / before.height());
    m_zoom = zoom;
    const QRectF after = figureRect();
    m_pan += anchor - QPointF(after.left() + relative.x() * after.width(), after.top() + relative.y() * after.height());
    if (m_zoom == 1.0) m_pan = {};
    update();
    Q_EMIT transformChanged(m_zoom, m_pan);
}

void HeatmapView::setTransform(double zoom, QPointF pan) {
    m_zoom = zoom;
    m_pan = pan;
    update();
}

void HeatmapView::resetView() {
    m_zoom = 1.0;
    m_pan = {};
    update();
    Q_EMIT transformChanged(m_zoom, m_pan);
}

void HeatmapView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), palette().base());
    if (!m_placeholder.isEmpty() || m_figure.image().isNull()) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
                         m_placeholder.isEmpty() ? tr("Open a model and an image") : m_placeholder);
        if (m_figure.image().isNull()) return;
        painter.setOpacity(0.35);
    }
    // The figure has a white paper background, as it will in an exported PDF.
    const QRectF target = figureRect();
    painter.fillRect(target, Qt::white);
    m_figure.paint(painter, target);
}

void HeatmapView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    m_pressed = true;
    m_dragging = false;
    m_pressPoint = event->position();
    m_panAtPress = m_pan;
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event) {
    if (m_pressed && (event->buttons() & Qt::LeftButton)) {
        if ((event->position() - m_pressPoint).manhattanLength() > 4) m_dragging = true;
        if (m_dragging && m_zoom > 1.0) {
            m_pan = m_panAtPress + (event->position() - m_pressPoint);
            update();
            Q_EMIT transformChanged(m_zoom, m_pan);
        }
        return;
    }
    const auto cell = m_figure.cellAt(figureRect(), event->position());
    if (!cell) return;
    const float value = m_figure.heatmap().at<float>(cell->y, cell->x);
    setToolTip(tr("patch (%1, %2): %3").arg(cell->y).arg(cell->x).arg(double(value), 0, 'g', 4));
    Q_EMIT cellHovered(cell->y, cell->x, value);
}

void HeatmapView::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton || !m_pressed) return;
    m_pressed = false;
    if (m_dragging) return;
    if (const auto cell = m_figure.cellAt(figureRect(), event->position())) Q_EMIT cellClicked(cell->y, cell->x);
}

void HeatmapView::mouseDoubleClickEvent(QMouseEvent*) { resetView(); }

void HeatmapView::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps == 0.0) return;
    setZoom(m_zoom * std::pow(1.25, steps), event->position());
    event->accept();
}

}  // namespace fovea
