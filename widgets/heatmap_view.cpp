#include "widgets/heatmap_view.h"

#include <QMouseEvent>
#include <QPainter>

namespace fovea {

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setBackgroundRole(QPalette::Base);
    setAutoFillBackground(true);
}

void HeatmapView::setFigure(const HeatmapPainter& figure) {
    m_figure = figure;
    updateGeometry();
    update();
}

QSize HeatmapView::sizeHint() const { return m_figure.preferredSize().toSize(); }

void HeatmapView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    m_figure.paint(painter, QRectF(rect()));
}

void HeatmapView::mouseMoveEvent(QMouseEvent* event) {
    const auto cell = m_figure.cellAt(QRectF(rect()), event->position());
    if (!cell) return;
    const float value = m_figure.heatmap().at<float>(cell->y, cell->x);
    setToolTip(QStringLiteral("patch (%1, %2): %3").arg(cell->y).arg(cell->x).arg(double(value), 0, 'g', 4));
    Q_EMIT cellHovered(cell->y, cell->x, value);
}

}  // namespace fovea
