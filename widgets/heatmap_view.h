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
    // Where the figure is drawn: the widget's rectangle, zoomed and panned.
    QRectF figureRect() const;
    double zoom() const { return m_zoom; }
    void setZoom(double zoom, QPointF anchor);
    void resetView();
    // Zoom and pan as they are (for linking views); setting them emits nothing.
    QPointF pan() const { return m_pan; }
    void setTransform(double zoom, QPointF pan);
    // A message drawn instead of the figure (no model, an error, "computing...").
    void setPlaceholder(const QString& text);

Q_SIGNALS:
    // row, col of the heatmap cell under the mouse and its value (NaN for a masked cell).
    void cellHovered(int row, int col, float value);
    // A click (without dragging) on a cell.
    void cellClicked(int row, int col);
    // The user zoomed or panned.
    void transformChanged(double zoom, QPointF pan);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;

private:
    HeatmapPainter m_figure;
    QString m_placeholder;
    double m_zoom = 1.0;
    QPointF m_pan;          // offset of the figure in widget pixels
    QPointF m_pressPoint;   // where a drag began
    QPointF m_panAtPress;
    bool m_dragging = false;
    bool m_pressed = false;
};

}  // namespace fovea
