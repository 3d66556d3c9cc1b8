// Heatmaps side by side (different methods, layers or heads of the same input, or every method
// as a grid),
// with linked zoom and pan and a shared or separate colour scale. ComparePainter draws the same
// picture for exports.
#pragma once

#include "widgets/heatmap_painter.h"

#include <QWidget>

#include <vector>

namespace fovea {

class HeatmapView;

class ComparePainter {
public:
    void setPanels(std::vector<HeatmapPainter> panels) { m_panels = std::move(panels); }
    const std::vector<HeatmapPainter>& panels() const { return m_panels; }
    // Gives every panel the union of their ranges (call after setPanels).
    void shareRange();
    // 1 x n for up to three panels, 2 x 2 for four, then a near-square grid filled row by row.
    QRectF panelRect(const QRectF& target, int index) const;
    int columns() const { return gridColumns(int(m_panels.size())); }
    int rows() const;
    static int gridColumns(int panels);
    QSizeF preferredSize(double panelSide = 300.0) const;
    void paint(QPainter& painter, const QRectF& target) const;

private:
    std::vector<HeatmapPainter> m_panels;
};

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);
    void setComparison(const ComparePainter& comparison);
    const ComparePainter& comparison() const { return m_comparison; }
    const std::vector<HeatmapView*>& views() const { return m_views; }

private:
    HeatmapView* addView();
    ComparePainter m_comparison;
    std::vector<HeatmapView*> m_views;
};

}  // namespace fovea
