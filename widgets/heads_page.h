// The "Heads" tab (Ctrl+8): the heads scatter (2D embedding, lasso), the heads in 3D (VTK) and
// the attention-sink timeline, one at a time, with the controls they share above them: which
// view, the embedding (PCA or t-SNE), the scatter's colouring, k for the clustering (0: chosen
// by silhouette) and the selection. The page only shows and reports; HeadsController owns the
// analysis and decides what to recompute.
#pragma once

#include "core/session/head_settings.h"
#include "widgets/head_data.h"
#include "widgets/sink_timeline_painter.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QTreeWidget;
class QTreeWidgetItem;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace fovea {

class HeadCloudView;
class HeadScatterView;

// The sink timeline as a widget: hovering a cell shows its layer, token and mass.
class SinkTimelineView : public QWidget {
    Q_OBJECT
  public:
    explicit SinkTimelineView(QWidget* parent = nullptr);
    void setTimeline(const SinkTimeline& timeline);
    const SinkTimelinePainter& painter() const { return m_painter; }
    QRectF timelineRect() const { return QRectF(rect()).adjusted(6, 4, -6, -6); }

  protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

  private:
    SinkTimelinePainter m_painter;
};

class HeadsPage : public QWidget {
    Q_OBJECT
  public:
    enum class Page { Scatter, Cloud, Sinks };

    explicit HeadsPage(QWidget* parent = nullptr);

    HeadScatterView* scatter() const { return m_scatter; }
    HeadCloudView* cloud() const { return m_cloud; }
    SinkTimelineView* sinks() const { return m_sinks; }
    Page page() const;
    void setPage(Page page);
    // Shows the settings; emits nothing.
    void setSettings(const HeadSettings& settings);
    void setData(const HeadData& data, const HeadSet& selection);
    void setSelection(const HeadSet& selection);
    void setTimeline(const SinkTimeline& timeline);
    void setStatus(const QString& text);
    // The heads list beside the views: one checkbox per head of the analysed model (checked: on;
    // partly checked: scaled, "x s" beside it). Shows the intervention; emits nothing.
    void showScales(const std::vector<HeadScaleEntry>& scales);
    QTreeWidget* headSwitches() const { return m_switches; }

  Q_SIGNALS:
    // The user changed the embedding, the colouring or k.
    void settingsEdited(const HeadSettings& settings);
    void pageChanged(HeadsPage::Page page);
    void clearSelectionRequested();
    // The user ticked a head on (restore it) or off (switch it off) in the heads list.
    void headSwitched(const HeadKey& head, bool on);

  private:
    void updateSelectionLabel(const HeadSet& selection);
    void rebuildSwitches();

    HeadSettings m_settings;
    HeadData m_data;
    HeadSet m_selection;
    bool m_syncing = false;
    QComboBox* m_page = nullptr;
    QComboBox* m_embedding = nullptr;
    QComboBox* m_colouring = nullptr;
    QSpinBox* m_clusters = nullptr;
    QLabel* m_selectionLabel = nullptr;
    QPushButton* m_clear = nullptr;
    QLabel* m_status = nullptr;
    QTreeWidget* m_switches = nullptr;
    int m_switchLayers = 0, m_switchHeads = 0;
    std::vector<HeadScaleEntry> m_scales;
    QStackedWidget* m_stack = nullptr;
    HeadScatterView* m_scatter = nullptr;
    HeadCloudView* m_cloud = nullptr;
    SinkTimelineView* m_sinks = nullptr;
};

}  // namespace fovea
