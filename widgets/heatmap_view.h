// A widget that shows a HeatmapPainter: the image, the attention heatmap over it, a title and a
// colorbar. Hovering reports the patch cell and its value; the figure it shows is what
// exportFigure writes.
#pragma once

#include "widgets/heatmap_painter.h"

#include <QWidget>

namespace fovea {

class HeatmapView : public QWidget {
    Q_OBJECT
public:
    explicit HeatmapView(QWidget* parent = nullptr);

    void setFigure(const HeatmapPainter& figure);
    const HeatmapPainter& figure() const { return m_figure; }
    QSize sizeHint() const override;

Q_SIGNALS:
    // row, col of the heatmap cell under the mouse and its value (NaN for a masked cell).
    void cellHovered(int row, int col, float value);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    HeatmapPainter m_figure;
};

}  // namespace fovea
