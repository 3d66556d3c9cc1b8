#include "widgets/compare_view.h"

#include "widgets/heatmap_view.h"

#include <QGridLayout>
#include <QLabel>

#include <algorithm>
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
    for (int i = 0; i < 4; ++i) {
        auto* view = new HeatmapView(this);
        view->setPlaceholder(i == 0 ? tr("Add views to compare: View > Add to Comparison (Ctrl+D)") : QString());
        view->setVisible(i == 0);
        m_views.push_back(view);
        grid->addWidget(view, i / 2, i % 2);
    }
    // Linked zoom and pan: whatever one view does, the others follow.
    for (HeatmapView* source : m_views) {
        connect(source, &HeatmapView::transformChanged, this, [this, source](double zoom, QPointF pan) {
            for (HeatmapView* other : m_views) {
                if (other != source) other->setTransform(zoom, pan);
            }
        });
    }
}

void CompareView::setComparison(const ComparePainter& comparison) {
    m_comparison = comparison;
    const auto& panels = comparison.panels();
    auto* grid = static_cast<QGridLayout*>(layout());
    const int columns = panels.size() == 4 ? 2 : std::max<int>(1, int(panels.size()));
    for (int i = 0; i < 4; ++i) {
        HeatmapView* view = m_views[std::size_t(i)];
        grid->removeWidget(view);
        grid->addWidget(view, i / columns, i % columns);
        const bool used = i < int(panels.size());
        view->setVisible(used || (i == 0 && panels.empty()));
        if (used) view->setFigure(panels[std::size_t(i)]);
    }
    if (panels.empty()) m_views.front()->setFigure(HeatmapPainter{});
    if (panels.empty()) m_views.front()->setPlaceholder(tr("Add views to compare: View > Add to Comparison (Ctrl+D)"));
}

}  // namespace fovea
