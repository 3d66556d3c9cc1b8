// The heads scatter as a widget: hover a point for the head's card (its attention pattern
// thumbnail, labels, cluster and features), click to select one head (Ctrl+click toggles),
// drag a polygon (lasso) to select every head inside it (Shift or Ctrl adds to the selection),
// double-click a point to show that head in the heatmap view.
#pragma once

#include "widgets/head_scatter_painter.h"

#include <QPolygonF>
#include <QWidget>

#include <optional>

namespace fovea {

class HeadScatterView : public QWidget {
    Q_OBJECT
  public:
    explicit HeadScatterView(QWidget* parent = nullptr);

    void setData(const HeadData& data);
    void setColouring(HeadScatterPainter::Colouring colouring);
    // Shows a selection made elsewhere (the atlas); emits nothing.
    void setSelection(const HeadSet& selection);
    const HeadSet& selection() const { return m_painter.selection(); }
    const HeadScatterPainter& painter() const { return m_painter; }
    QRectF scatterRect() const;
    std::optional<HeadKey> hovered() const { return m_hovered; }
    // A lasso drawn in widget coordinates, as if dragged with the mouse (`add`: Shift held).
    void applyLasso(const QPolygonF& polygon, bool add);
    QSize sizeHint() const override { return {640, 440}; }

  Q_SIGNALS:
    // The user changed the selection (click, Ctrl+click or lasso).
    void selectionChanged(const HeadSet& selection);
    // Double-click on a point: show this head.
    void headActivated(const HeadKey& head);

  protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

  private:
    void paintHoverCard(QPainter& painter, const HeadPoint& point) const;
    void changeSelection(const HeadSet& selection);

    HeadScatterPainter m_painter;
    std::optional<HeadKey> m_hovered;
    QPointF m_hoverAt;
    QPolygonF m_lasso;
    bool m_dragging = false;
    bool m_addToSelection = false;
};

}  // namespace fovea
