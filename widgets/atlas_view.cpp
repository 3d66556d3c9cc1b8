#include "widgets/atlas_view.h"

#include <QComboBox>
#include <QContextMenuEvent>
#include <QHelpEvent>
#include <QInputDialog>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace fovea {

AtlasView::AtlasView(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(160, 120);
    m_colouringBox = new QComboBox(this);
    m_colouringBox->addItem(tr("Colour: attention"), int(AtlasColouring::Attention));
    m_colouringBox->addItem(tr("Colour: taxonomy labels"), int(AtlasColouring::Labels));
    m_colouringBox->addItem(tr("Colour: importance"), int(AtlasColouring::Importance));
    m_colouringBox->addItem(tr("Colour: cluster"), int(AtlasColouring::Cluster));
    m_colouringBox->setToolTip(tr("What colours the heads of the atlas"));
    m_colouringBox->move(8, 4);
    m_colouringBox->adjustSize();
    connect(m_colouringBox, &QComboBox::activated, this, [this](int index) {
        const auto colouring = AtlasColouring(m_colouringBox->itemData(index).toInt());
        m_atlas.setColouring(colouring);
        update();
        Q_EMIT colouringChanged(colouring);
    });
}

void AtlasView::setAtlas(const AtlasPainter& atlas) {
    // The head-level state belongs to the window, not to one input's atlas: keep it.
    const AtlasColouring colouring = m_atlas.colouring();
    const HeadData data = m_atlas.headData();
    const HeadSet selection = m_atlas.selection();
    const HeadScaleMap scales = m_atlas.scales();
    m_atlas = atlas;
    m_atlas.setColouring(colouring);
    m_atlas.setHeadData(data);
    m_atlas.setSelection(selection);
    m_atlas.setScales(scales);
    update();
}

void AtlasView::setColouring(AtlasColouring colouring) {
    m_atlas.setColouring(colouring);
    m_colouringBox->setCurrentIndex(m_colouringBox->findData(int(colouring)));
    update();
}

void AtlasView::setHeadData(const HeadData& data) {
    m_atlas.setHeadData(data);
    update();
}

void AtlasView::setSelection(const HeadSet& selection) {
    m_atlas.setSelection(selection);
    update();
}

void AtlasView::setScales(const HeadScaleMap& scales) {
    m_atlas.setScales(scales);
    update();
}

QRectF AtlasView::atlasRect() const {
    const double top = m_colouringBox->geometry().bottom() + 6;
    return QRectF(rect()).adjusted(8, top, -8, -8);
}

QSize AtlasView::sizeHint() const { return m_atlas.preferredSize().toSize() + QSize(0, m_colouringBox->height() + 6); }

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
    if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
    const auto cell = m_atlas.cellAt(atlasRect(), event->position());
    if (!cell) return;
    if (cell->head >= 0) {
        const HeadKey key{cell->layer, cell->head};
        HeadSet selection;
        if (event->modifiers() & Qt::ControlModifier) {
            selection = m_atlas.selection();
            if (!selection.erase(key)) selection.insert(key);
        } else {
            selection.insert(key);
        }
        if (selection != m_atlas.selection()) {
            m_atlas.setSelection(selection);
            Q_EMIT selectionChanged(selection);
        }
    }
    setFocusCell(cell->layer, cell->head);
}

void AtlasView::contextMenuEvent(QContextMenuEvent* event) {
    const auto cell = m_atlas.cellAt(atlasRect(), event->pos());
    QMenu menu(this);
    if (cell && cell->head >= 0) {
        const HeadKey key{cell->layer, cell->head};
        const auto found = m_atlas.scales().find(key);
        const float current = found == m_atlas.scales().end() ? 1.0f : found->second;
        menu.addSection(tr("Layer %1, head %2 (scale %3)").arg(key.layer).arg(key.head).arg(double(current), 0, 'g', 3));
        menu.addAction(tr("Switch Off"), this, [this, key] { Q_EMIT headScaleRequested(key, 0.0f); })->setEnabled(current != 0.0f);
        QMenu* scale = menu.addMenu(tr("Scale"));
        for (const float value : {0.25f, 0.5f, 0.75f, 1.25f, 1.5f, 2.0f}) {
            scale->addAction(QStringLiteral("\u00d7%1").arg(double(value)), this, [this, key, value] { Q_EMIT headScaleRequested(key, value); });
        }
        scale->addAction(tr("Other..."), this, [this, key, current] {
            bool ok = false;
            const double value = QInputDialog::getDouble(this, tr("Scale head"), tr("Scale of layer %1, head %2 (0..2):").arg(key.layer).arg(key.head),
                                                         double(current), 0.0, 2.0, 2, &ok);
            if (ok) Q_EMIT headScaleRequested(key, float(value));
        });
        menu.addAction(tr("Restore Head"), this, [this, key] { Q_EMIT headScaleRequested(key, 1.0f); })->setEnabled(current != 1.0f);
        menu.addSeparator();
    }
    menu.addAction(tr("Reset Heads"), this, [this] { Q_EMIT resetHeadsRequested(); })->setEnabled(!m_atlas.scales().empty());
    menu.exec(event->globalPos());
}

bool AtlasView::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip) return QWidget::event(event);
    auto* help = static_cast<QHelpEvent*>(event);
    const auto cell = m_atlas.cellAt(atlasRect(), help->pos());
    const HeadPoint* point = cell && cell->head >= 0 ? m_atlas.headData().find(HeadKey{cell->layer, cell->head}) : nullptr;
    if (!cell || cell->head < 0) {
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    QString text = tr("<b>Layer %1, head %2</b>").arg(cell->layer).arg(cell->head);
    const auto scaled = m_atlas.scales().find(HeadKey{cell->layer, cell->head});
    if (scaled != m_atlas.scales().end()) text += tr("<br>scale \u00d7%1").arg(double(scaled->second), 0, 'g', 3);
    if (point) {
        const HeadData& data = m_atlas.headData();
        QStringList labels;
        for (int label : point->labels) {
            if (label >= 0 && label < int(data.labels.size())) labels << QString::fromStdString(data.labels[std::size_t(label)].name);
        }
        text += tr("<br>labels: %1").arg(labels.isEmpty() ? tr("none") : labels.join(", "));
        if (point->cluster >= 0 && point->cluster < int(data.clusterNames.size())) {
            text += tr("<br>cluster %1: %2").arg(point->cluster + 1).arg(QString::fromStdString(data.clusterNames[std::size_t(point->cluster)]));
        }
        if (std::isfinite(point->importance)) text += tr("<br>importance: %1").arg(point->importance, 0, 'g', 3);
    }
    QToolTip::showText(help->globalPos(), text, this);
    return true;
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
