#include "widgets/atlas_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>

#include <algorithm>

namespace fovea {

AtlasView::AtlasView(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(160, 120);
}

void AtlasView::setAtlas(const AtlasPainter& atlas) {
    m_atlas = atlas;
    update();
}

QRectF AtlasView::atlasRect() const { return QRectF(rect()).adjusted(8, 8, -8, -8); }

QSize AtlasView::sizeHint() const { return m_atlas.preferredSize().toSize(); }

void AtlasView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    m_atlas.paint(painter, atlasRect());
}

void AtlasView::setFocusCell(int layer, int head) {
    if (m_atlas.layers() == 0) return;
    m_atlas.setFocus(AtlasCell{layer, head});
    update();
    Q_EMIT focusChanged(layer, head);
}

void AtlasView::mousePressEvent(QMouseEvent* event) {
    if (const auto cell = m_atlas.cellAt(atlasRect(), event->position())) setFocusCell(cell->layer, cell->head);
}

void AtlasView::keyPressEvent(QKeyEvent* event) {
    if (m_atlas.layers() == 0) return QWidget::keyPressEvent(event);
    AtlasCell cell = m_atlas.focus().value_or(AtlasCell{0, 0});
    // Columns run 0..heads-1 then the mean (-1) at the right end.
    int column = cell.head < 0 ? m_atlas.heads() : cell.head;
    switch (event->key()) {
        case Qt::Key_Left: column = std::max(0, column - 1); break;
        case Qt::Key_Right: column = std::min(m_atlas.heads(), column + 1); break;
        case Qt::Key_Up: cell.layer = std::max(0, cell.layer - 1); break;
        case Qt::Key_Down: cell.layer = std::min(m_atlas.layers() - 1, cell.layer + 1); break;
        default: return QWidget::keyPressEvent(event);
    }
    setFocusCell(cell.layer, column == m_atlas.heads() ? -1 : column);
}

}  // namespace fovea
