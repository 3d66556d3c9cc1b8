// The Fovea workbench: a model panel, an input gallery, the heatmap view in the centre, an
// inspector with the view's settings, and a status bar with job progress and cancel. Model
// loading, inference and maps run through the JobRunner; the GUI thread only paints.
#pragma once

#include "core/session/session.h"
#include "widgets/heatmap_painter.h"

#include <QMainWindow>
#include <QStringList>

#include <map>
#include <memory>
#include <string>
#include <utility>

class QAction;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QMenu;
class QProgressBar;
class QSlider;
class QSpinBox;
class QTabWidget;
class QTextBrowser;
class QToolButton;

namespace fovea {

class AtlasView;
class CompareView;
class GazeView;
class HeadsController;
class VolumeView;
class HeatmapView;
class InspectorPanel;
class SegmentController;
class TextController;
class JobRunner;
class Model;
struct ModelOutputs;
struct ImageInput;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opening things. Errors are shown in the status bar and a message box (not in tests:
    // setQuiet(true) keeps them to the status bar and lastError()).
    void openModel(const QString& path);
    void addInputs(const QStringList& paths);
    void selectInput(int index);
    bool openSession(const QString& path);
    bool saveSession(const QString& path);
    void exportFigure(const QString& path, int dpi = 300);

    const SessionState& state() const { return m_state; }
    void setView(const ViewSettings& view);
    HeatmapView* heatmapView() const { return m_view; }
    AtlasView* atlasView() const { return m_atlas; }
    CompareView* compareView() const { return m_compare; }
    VolumeView* volumeView() const { return m_volume; }
    SegmentController* segmentation() const { return m_segment; }
    GazeView* gazeView() const { return m_gaze; }
    // The Text page (language models: text input and the token views).
    TextController* textController() const { return m_text; }
    HeadsController* heads() const { return m_heads; }
    // The current input's last run (null before the first).
    const ModelOutputs* outputs() const { return m_outputs.get(); }
    // Human fixations for the Gaze page (any format the gaze readers know); errors as openModel.
    void openFixations(const QString& path);
    // The comparison: snapshots of view settings shown side by side (up to kMaxComparison).
    static constexpr int kMaxComparison = 24;
    void addToComparison();
    // Every registered method that works on the model, for the current input, as the comparison.
    void compareAllMethods();
    // Shows the map of another explanation method (a registry name).
    void setMethod(const std::string& name);
    void clearComparison();
    void setComparisonSharedRange(bool shared);
    // "heatmap", "atlas", "compare", "3d", "segment", "gaze", "text" (the Text page), "heads" (the
    // heads scatter), "heads-3d" or "sinks" (the sink timeline): what the central area shows (and
    // File > Export writes).
    QString currentView() const;
    void setCurrentView(const QString& name);
    JobRunner* jobs() const { return m_jobs; }
    const HeatmapPainter& figure() const;
    const Model* model() const { return m_model.get(); }
    QString lastError() const { return m_lastError; }
    void setQuiet(bool quiet) { m_quiet = quiet; }
    // The default arrangement of the docks (also View > Reset Layout).
    void resetLayout();

Q_SIGNALS:
    // Emitted whenever a new map is on screen.
    void figureUpdated();
    // Emitted whenever a new atlas is on screen.
    void atlasUpdated();
    void comparisonUpdated();
    void volumeUpdated();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    // The image files the window opens (file dialogs, folders, drops).
    static const QStringList& imageFilters();
    void buildActions();  // main_window_actions.cpp, with the File menu's session and export
    void buildDocks();
    void buildStatusBar();
    void syncInspector();
    void updateModelPanel();
    // Tabs a model cannot fill (image views for a language model, Text for an image model) are
    // disabled, with the reason as their tooltip.
    void updateTabsForModel();
    void runCurrentInput();
    void updateMap();
    void updateModelLevelMap();
    void updateAtlas();
    void updateComparison();
    void updateVolume();
    void showError(const QString& message);
    void stepLayer(int delta);
    void stepHead(int delta);
    void stepInput(int delta);
    void setQueryFromCell(int row, int col);
    void addRecentSession(const QString& path);
    void rebuildRecentMenu();
    QString figureTitle() const;

    SessionState m_state;
    QString m_sessionPath;
    std::shared_ptr<Model> m_model;
    std::shared_ptr<const ImageInput> m_input;
    std::shared_ptr<const ModelOutputs> m_outputs;
    // Inputs and outputs of other images that comparison panels show, by path (same model).
    std::map<std::string, std::pair<std::shared_ptr<const ImageInput>, std::shared_ptr<const ModelOutputs>>> m_otherInputs;
    // The last map a model-level method computed (Score-CAM, IG, ...), so display changes
    // (colormap, opacity, range) do not run the model again.
    struct ModelLevelMap {
        std::string key;
        cv::Mat map;
    };
    ModelLevelMap m_modelLevelMap;
    JobRunner* m_jobs = nullptr;
    bool m_quiet = false;
    bool m_syncing = false;  // the gallery is being filled by code
    QString m_lastError;
    QString m_jobTitle;

    QTabWidget* m_tabs = nullptr;
    HeatmapView* m_view = nullptr;
    InspectorPanel* m_inspector = nullptr;
    AtlasView* m_atlas = nullptr;
    CompareView* m_compare = nullptr;
    VolumeView* m_volume = nullptr;
    SegmentController* m_segment = nullptr;
    GazeView* m_gaze = nullptr;
    TextController* m_text = nullptr;
    HeadsController* m_heads = nullptr;
    QAction* m_sharedRangeAction = nullptr;
    QTextBrowser* m_modelInfo = nullptr;
    QListWidget* m_gallery = nullptr;
    QLabel* m_message = nullptr;
    QProgressBar* m_progress = nullptr;
    QToolButton* m_cancel = nullptr;
    QMenu* m_recentMenu = nullptr;
};

}  // namespace fovea
