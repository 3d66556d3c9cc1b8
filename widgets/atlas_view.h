// The layer x head atlas as a widget: click or move with the arrow keys to focus a head; the
// window then shows that head in the heatmap view.
#pragma once

#include "widgets/atlas_painter.h"

#include <QWidget>

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

Q_SIGNALS:
    // head == -1: the mean of the layer's heads.
    void focusChanged(int layer, int head);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    AtlasPainter m_atlas;
};

}  // namespace fovea
