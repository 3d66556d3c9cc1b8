#include "widgets/compare_view.h"

#include "widgets/heatmap_view.h"

#include <QGridLayout>
#include <QLabel>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fovea {

void ComparePainter::shareRange() {
    ValueRange shared{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
    for (const HeatmapPainter& panel : m_panels) {
        const ValueRange range = panel.range();
        shared.low = std::min(shared.low, range.low);
        shared.high = std::max(shared.high, range.high);
    }
    if (!(shared.low < shared.high)) return;
    for (HeatmapPainter& panel : m_panels) {
        FigureOptions options = panel.options();
        options.autoRange = false;
        options.low = shared.low;
        options.high = shared.high;
        panel.setOptions(options);
    }
}

int ComparePainter::gridColumns(int panels) {
    if (panels <= 3) return std::max(1, panels);
    return int(std::ceil(std::sqrt(double(panels))));
}

int ComparePainter::rows() const {
    const int n = std::max(1, int(m_panels.size()));
    return (n + columns() - 1) / columns();
}

QRectF ComparePainter::panelRect(const QRectF& target, int index) const {
    const double width = target.width() / columns(), height = target.height() / rows();
    return {target.left() + (index % columns()) * width, target.top() + (index / columns()) * height, width, height};
}

QSizeF ComparePainter::preferredSize(double panelSide) const {
    if (m_panels.empty()) return {panelSide, panelSide};
    const QSizeF one = m_panels.front().preferredSize(panelSide);
    return {one.width() * columns(), one.height() * rows()};
}

void ComparePainter::paint(QPainter& painter, const QRectF& target) const {
    for (std::size_t i = 0; i < m_panels.size(); ++i) {
        m_panels[i].paint(painter, panelRect(target, int(i)).adjusted(4, 4, -4, -4));
    }
}

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(2);
    addView()->setPlaceholder(tr("Add views to compare: View > Add to Comparison (Ctrl+D), or every method: Ctrl+Shift+M"));
}

HeatmapView* CompareView::addView() {
    auto* view = new HeatmapView(this);
    m_views.push_back(view);
    // Linked zoom and pan: whatever one view does, the others follow.
    connect(view, &HeatmapView::transformChanged, this, [this, view](double zoom, QPointF pan) {
        for (HeatmapView* other : m_views) {
            if (other != view) other->setTransform(zoom, pan);
        }
    });
    return view;
}

void CompareView::setComparison(const ComparePainter& comparison) {
    m_comparison = comparison;
    const auto& panels = comparison.panels();
    while (m_views.size() < panels.size()) addView();
    auto* grid = static_cast<QGridLayout*>(layout());
    const int columns = ComparePainter::gridColumns(int(panels.size()));
    for (std::size_t i = 0; i < m_views.size(); ++i) {
        HeatmapView* view = m_views[i];
        grid->removeWidget(view);
        const bool used = i < panels.size();
        view->setVisible(used || (i == 0 && panels.empty()));
        if (used || i == 0) grid->addWidget(view, int(i) / columns, int(i) % columns);
        if (used) view->setFigure(panels[i]);
    }
    if (panels.empty()) {
        m_views.front()->setFigure(HeatmapPainter{});
        m_views.front()->setPlaceholder(tr("Add views to compare: View > Add to Comparison (Ctrl+D), or every method: Ctrl+Shift+M"));
    }
}

}  // namespace fovea
