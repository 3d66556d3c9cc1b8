// The layer x head atlas as a widget: click or move with the arrow keys to focus a head; the
// window then shows that head in the heatmap view. A click also selects the head (Ctrl+click
// adds or removes it), the selection shared with the heads scatter. The combo box above the
// grid picks the colouring (attention, labels, importance, cluster). Right-click a head to
// switch it off, scale it, restore it, or reset every head.
#pragma once

#include "widgets/atlas_painter.h"

#include <QWidget>

class QComboBox;

namespace fovea {

class AtlasView : public QWidget {
    Q_OBJECT
public:
    explicit AtlasView(QWidget* parent = nullptr);
    void setAtlas(const AtlasPainter& atlas);
    const AtlasPainter& atlas() const { return m_atlas; }
    QRectF atlasRect() const;
    // Moves the focus (clamped to the grid) and emits focusChanged.
    void setFocusCell(int layer, int head);
    QSize sizeHint() const override;

    // Shown without emitting anything (the window keeps them across new atlases).
    void setColouring(AtlasColouring colouring);
    void setHeadData(const HeadData& data);
    void setSelection(const HeadSet& selection);
    void setScales(const HeadScaleMap& scales);
    QComboBox* colouringBox() const { return m_colouringBox; }

Q_SIGNALS:
    // head == -1: the mean of the layer's heads.
    void focusChanged(int layer, int head);
    // The user picked another colouring.
    void colouringChanged(AtlasColouring colouring);
    // The user clicked heads (click: that head; Ctrl+click: toggled).
    void selectionChanged(const HeadSet& selection);
    // From the context menu: scale one head (0 = off, 1 = restore) or reset them all.
    void headScaleRequested(const HeadKey& head, float scale);
    void resetHeadsRequested();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;
    bool event(QEvent* event) override;

private:
    AtlasPainter m_atlas;
    QComboBox* m_colouringBox = nullptr;
};

}  // namespace fovea
