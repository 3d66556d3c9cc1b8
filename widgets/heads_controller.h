// Drives the head views for the main window: the "Heads" tab (scatter, 3D, sink timeline) and
// the atlas's head colourings. It analyses the current run's attention as a job (lane "heads":
// features, taxonomy, clusters, embeddings, sinks; newest request wins, only while a head view
// needs it), computes pruning importance over the open inputs when the importance colouring
// asks for it (lane "importance"), keeps the head selection in step between the atlas and the
// scatter, and keeps the head intervention (scaled / switched-off heads) in the session's
// HeadSettings; the window reruns the input with it when interventionChanged fires.
//
//     auto* heads = new HeadsController(m_state.heads, m_jobs, m_atlas, tabs);
//     tabs->addTab(heads->page(), tr("Heads"));
//     heads->setRun(model, input, outputs, inputs);   // after every forward pass
//     heads->setTextRun(model, outputs, ids);          // or every run of a text model
//     heads->setHeadScale({2, 1}, 0.0f);              // layer 2, head 1 off: interventionChanged
#pragma once

#include "core/session/head_settings.h"
#include "widgets/atlas_painter.h"
#include "widgets/head_data.h"
#include "widgets/head_importance.h"

#include <QObject>
#include <QString>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

class QWidget;

namespace fovea {

class AtlasView;
class HeadsPage;
class JobRunner;
class Model;
struct ImageInput;
struct ModelOutputs;

class HeadsController : public QObject {
    Q_OBJECT
  public:
    // `settings` lives in the window's session state and outlives the controller.
    HeadsController(HeadSettings& settings, JobRunner* jobs, AtlasView* atlas, QWidget* parent);

    HeadsPage* page() const { return m_page; }
    // A new forward run; `inputs` are the open image files (the importance's image set).
    void setRun(std::shared_ptr<Model> model, std::shared_ptr<const ImageInput> input,
                std::shared_ptr<const ModelOutputs> outputs,
                const std::vector<std::string>& inputs);
    // A text model's run (GPT-2, BERT): its attention and token ids, so the duplicate-token and
    // induction features and labels are there. No image set: no importance colouring.
    void setTextRun(std::shared_ptr<Model> model, std::shared_ptr<const ModelOutputs> outputs,
                    std::vector<std::int64_t> ids);
    // Whether a head view is on screen (the window says so when the tab changes): the analysis
    // runs only then.
    void setWanted(bool wanted);
    // The session replaced the settings: show them; analyse again at the next need.
    void syncFromSettings();

    const HeadData& data() const { return m_shown; }
    const SinkTimeline& timeline() const { return m_timeline; }
    const HeadSet& selection() const { return m_selection; }
    // Selects heads in the atlas and the scatter (and the session); emits selectionChanged.
    void setSelection(const HeadSet& selection);
    // Validated against the model (0..2; a head of the model); the session records it and
    // interventionChanged fires. 1 restores the head.
    void setHeadScale(const HeadKey& head, float scale);
    // The same for several heads at once (one rerun).
    void setHeadScales(const HeadSet& heads, float scale);
    void resetHeads();
    void setAtlasColouring(AtlasColouring colouring);
    // Exports the Heads tab's current page: scatter or sink timeline as PNG / SVG / PDF, the 3D
    // view as PNG. Throws fovea::Error naming the path.
    void exportFigure(const QString& path, int dpi = 300);

  Q_SIGNALS:
    void analysisUpdated();
    void importanceUpdated();
    void selectionChanged(const HeadSet& selection);
    // The intervention changed: the model must run the input again with headScalesOf(settings).
    void interventionChanged();
    // Double-click in the scatter: show this head in the heatmap.
    void headActivated(const HeadKey& head);
    void errorOccurred(const QString& message);
    void messageChanged(const QString& message);

  private:
    void requestAnalysis();
    void requestImportance();
    void publish();
    bool needsImportance() const;

    HeadSettings& m_settings;
    JobRunner* m_jobs;
    AtlasView* m_atlas;
    HeadsPage* m_page;
    std::shared_ptr<Model> m_model;
    std::shared_ptr<const ImageInput> m_input;
    std::shared_ptr<const ModelOutputs> m_outputs;
    std::vector<std::string> m_inputs;
    std::vector<std::int64_t> m_ids;  // a text run's token ids
    HeadData m_analysed;  // the last analysis
    HeadData m_shown;     // with importance filled in
    SinkTimeline m_timeline;
    HeadSet m_selection;
    std::string m_analysedKey;    // what m_analysed was computed from
    std::string m_importanceKey;  // ... and the importance
    HeadImportanceValues m_importance;
    bool m_wanted = false;
};

}  // namespace fovea
