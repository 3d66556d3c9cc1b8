#include "widgets/heads_page.h"

#include "widgets/head_cloud_view.h"
#include "widgets/head_scatter_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QToolTip>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace fovea {

SinkTimelineView::SinkTimelineView(QWidget* parent) : QWidget(parent) {
    setMinimumSize(240, 160);
}

void SinkTimelineView::setTimeline(const SinkTimeline& timeline) {
    m_painter.setTimeline(timeline);
    update();
}

void SinkTimelineView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    m_painter.paint(painter, timelineRect());
}

bool SinkTimelineView::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip) return QWidget::event(event);
    auto* help = static_cast<QHelpEvent*>(event);
    const auto cell = m_painter.cellAt(timelineRect(), help->pos());
    if (!cell) {
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    const SinkTimeline& timeline = m_painter.timeline();
    const auto [row, token] = *cell;
    const int layer = row < int(timeline.layers.size()) ? timeline.layers[std::size_t(row)] : row;
    const QString label = token < int(timeline.tokenLabels.size())
                              ? QString::fromStdString(timeline.tokenLabels[std::size_t(token)])
                              : QString::number(token);
    QString text = tr("layer %1, token %2 (%3): %4 of the queries' mass")
                       .arg(layer)
                       .arg(token)
                       .arg(label.toHtmlEscaped())
                       .arg(double(timeline.mass.at<float>(row, token)), 0, 'g', 3);
    if (std::find(timeline.primary.begin(), timeline.primary.end(), token) !=
        timeline.primary.end())
        text += tr("<br>primary sink");
    if (std::find(timeline.secondary.begin(), timeline.secondary.end(), token) !=
        timeline.secondary.end()) {
        text += tr("<br>secondary sink");
    }
    QToolTip::showText(help->globalPos(), text, this);
    return true;
}

HeadsPage::HeadsPage(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* bar = new QHBoxLayout;
    m_page = new QComboBox(this);
    m_page->addItem(tr("Scatter (2D)"), int(Page::Scatter));
    m_page->addItem(tr("Heads in 3D"), int(Page::Cloud));
    m_page->addItem(tr("Sink timeline"), int(Page::Sinks));
    m_embedding = new QComboBox(this);
    m_embedding->addItem(tr("PCA"), "pca");
    m_embedding->addItem(tr("t-SNE"), "tsne");
    m_embedding->setToolTip(tr("The 2D embedding of the heads' attention descriptors"));
    m_colouring = new QComboBox(this);
    m_colouring->addItem(tr("Colour by cluster"), "cluster");
    m_colouring->addItem(tr("Colour by label"), "label");
    m_clusters = new QSpinBox(this);
    m_clusters->setRange(0, 12);
    m_clusters->setSpecialValueText(tr("auto"));
    m_clusters->setPrefix(tr("k = "));
    m_clusters->setToolTip(tr("Number of clusters; auto picks k by the silhouette"));
    m_selectionLabel = new QLabel(this);
    m_clear = new QPushButton(tr("Clear Selection"), this);
    m_clear->setEnabled(false);
    bar->addWidget(m_page);
    bar->addWidget(m_embedding);
    bar->addWidget(m_colouring);
    bar->addWidget(m_clusters);
    bar->addSpacing(12);
    bar->addWidget(m_selectionLabel);
    bar->addWidget(m_clear);
    bar->addStretch(1);
    layout->addLayout(bar);
    m_stack = new QStackedWidget(this);
    m_scatter = new HeadScatterView(m_stack);
    m_cloud = new HeadCloudView(m_stack);
    m_sinks = new SinkTimelineView(m_stack);
    m_stack->addWidget(m_scatter);
    m_stack->addWidget(m_cloud);
    m_stack->addWidget(m_sinks);
    // Beside the views: every head with a checkbox, to switch heads off without the atlas (the
    // only way in for a language model, whose image pages are disabled).
    m_switches = new QTreeWidget(this);
    m_switches->setObjectName("head-switches");
    m_switches->setHeaderLabel(tr("Heads (untick: off)"));
    m_switches->setToolTip(tr("Untick a head to switch it off, tick it to restore it; "
                              "Heads > Reset Heads restores all"));
    m_switches->setMinimumWidth(150);
    m_switches->setMaximumWidth(220);
    m_switches->setUniformRowHeights(true);
    auto* views = new QHBoxLayout;
    views->addWidget(m_stack, 1);
    views->addWidget(m_switches);
    layout->addLayout(views, 1);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    updateSelectionLabel({});

    connect(m_page, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_stack->setCurrentIndex(index);
        const bool scatter = index == int(Page::Scatter);
        m_embedding->setEnabled(scatter);
        m_colouring->setEnabled(scatter);
        if (index == int(Page::Cloud)) m_cloud->setData(m_data, m_selection);
        if (!m_syncing) Q_EMIT pageChanged(Page(index));
    });
    const auto edited = [this] {
        if (m_syncing) return;
        m_settings.embedding = m_embedding->currentData().toString().toStdString();
        m_settings.scatterColouring = m_colouring->currentData().toString().toStdString();
        m_settings.clusters = m_clusters->value();
        Q_EMIT settingsEdited(m_settings);
    };
    connect(m_embedding, &QComboBox::activated, this, edited);
    connect(m_colouring, &QComboBox::activated, this, edited);
    connect(m_clusters, &QSpinBox::valueChanged, this, edited);
    connect(m_clear, &QPushButton::clicked, this, [this] { Q_EMIT clearSelectionRequested(); });
    connect(m_switches, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem* item, int) {
        if (m_syncing || item->parent() == nullptr) return;
        const HeadKey head{item->parent()->data(0, Qt::UserRole).toInt(), item->data(0, Qt::UserRole).toInt()};
        Q_EMIT headSwitched(head, item->checkState(0) != Qt::Unchecked);
    });
}

HeadsPage::Page HeadsPage::page() const {
    return Page(m_stack->currentIndex());
}

void HeadsPage::setPage(Page page) {
    m_page->setCurrentIndex(int(page));
}

void HeadsPage::setSettings(const HeadSettings& settings) {
    m_syncing = true;
    m_settings = settings;
    m_embedding->setCurrentIndex(
        std::max(0, m_embedding->findData(QString::fromStdString(settings.embedding))));
    m_colouring->setCurrentIndex(
        std::max(0, m_colouring->findData(QString::fromStdString(settings.scatterColouring))));
    m_clusters->setValue(settings.clusters);
    m_scatter->setColouring(settings.scatterColouring == "label"
                                ? HeadScatterPainter::Colouring::Label
                                : HeadScatterPainter::Colouring::Cluster);
    m_syncing = false;
}

void HeadsPage::setData(const HeadData& data, const HeadSet& selection) {
    m_data = data;
    if (data.layers != m_switchLayers || data.heads != m_switchHeads) rebuildSwitches();
    m_selection = selection;
    m_scatter->setData(data);
    m_scatter->setSelection(selection);
    if (page() == Page::Cloud) m_cloud->setData(data, selection);
    updateSelectionLabel(selection);
}

void HeadsPage::setSelection(const HeadSet& selection) {
    m_selection = selection;
    m_scatter->setSelection(selection);
    if (page() == Page::Cloud) m_cloud->setData(m_data, selection);
    updateSelectionLabel(selection);
}

void HeadsPage::setTimeline(const SinkTimeline& timeline) {
    m_sinks->setTimeline(timeline);
}

void HeadsPage::setStatus(const QString& text) {
    m_status->setText(text);
}

void HeadsPage::rebuildSwitches() {
    m_syncing = true;
    m_switches->clear();
    m_switchLayers = m_data.layers;
    m_switchHeads = m_data.heads;
    for (int layer = 0; layer < m_switchLayers; ++layer) {
        auto* parent = new QTreeWidgetItem(m_switches, {tr("Layer %1").arg(layer)});
        parent->setData(0, Qt::UserRole, layer);
        parent->setFlags(Qt::ItemIsEnabled);
        for (int head = 0; head < m_switchHeads; ++head) {
            auto* item = new QTreeWidgetItem(parent);
            item->setData(0, Qt::UserRole, head);
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
        }
    }
    m_syncing = false;
    showScales(m_scales);
}

void HeadsPage::showScales(const std::vector<HeadScaleEntry>& scales) {
    m_scales = scales;
    m_syncing = true;
    for (int layer = 0; layer < m_switches->topLevelItemCount(); ++layer) {
        QTreeWidgetItem* parent = m_switches->topLevelItem(layer);
        bool anyChanged = false;
        for (int head = 0; head < parent->childCount(); ++head) {
            float scale = 1.0f;
            for (const HeadScaleEntry& entry : scales) {
                if (entry.layer == layer && entry.head == head) scale = entry.scale;
            }
            QTreeWidgetItem* item = parent->child(head);
            item->setCheckState(0, scale == 0.0f   ? Qt::Unchecked
                                   : scale == 1.0f ? Qt::Checked
                                                   : Qt::PartiallyChecked);
            item->setText(0, scale == 0.0f || scale == 1.0f
                                 ? tr("head %1").arg(head)
                                 : tr("head %1  \u00d7%2").arg(head).arg(double(scale)));
            anyChanged = anyChanged || scale != 1.0f;
        }
        // Layers with an intervention stay open, so it is in sight.
        parent->setExpanded(anyChanged || m_switchLayers <= 4);
    }
    m_syncing = false;
}

void HeadsPage::updateSelectionLabel(const HeadSet& selection) {
    m_selectionLabel->setText(selection.empty()
                                  ? tr("Drag a lasso to select heads")
                                  : tr("%n head(s) selected", nullptr, int(selection.size())));
    m_clear->setEnabled(!selection.empty());
}

}  // namespace fovea
