// Drives the segmentation tab for the main window: keeps the view in step with the session's
// SegmentSettings, runs the segmentation of the current input as a job (lane "segment", newest
// request wins, only while the tab is visible), restyles without recomputing when only the
// display changed (opacity, toggles), and handles the ground truth and the exports. The window
// hands it each new forward run and forwards its errors to the status bar.
//
//     auto* segment = new SegmentController(m_state.segment, m_jobs, tabs);
//     tabs->addTab(segment->view(), tr("Segmentation"));
//     segment->setRun(model, input);          // after every forward pass
//     segment->exportFigure("figure.svg");    // File > Export while the tab is current
#pragma once

#include "core/session/segment_run.h"
#include "core/session/segment_settings.h"
#include "widgets/segment_painter.h"

#include <QObject>
#include <QString>

#include <memory>
#include <string>

class QWidget;

namespace fovea {

class JobRunner;
class Model;
class SegmentView;
struct ImageInput;

class SegmentController : public QObject {
    Q_OBJECT
  public:
    // `settings` lives in the window's session state and outlives the controller.
    SegmentController(SegmentSettings& settings, JobRunner* jobs, QWidget* parent);

    SegmentView* view() const { return m_view; }
    // A new model or input (the input's source path keys its ground truth).
    void setRun(std::shared_ptr<Model> model, std::shared_ptr<const ImageInput> input);
    // The session replaced the settings: show them; recompute at the next run.
    void syncFromSettings();
    // As if the user had made these edits in the panel.
    void applySettings(const SegmentSettings& settings);
    // Reads the ground truth for the current input in a job; on success it is kept in the
    // settings and the IoU appears; on failure the error is reported and nothing changes.
    void openGroundTruth(const QString& path);
    void clearGroundTruth();
    // Throw fovea::Error naming the path when there is nothing to write or writing fails.
    void exportLabelMask(const QString& path);
    void exportFigure(const QString& path, int dpi = 300) const;

    const SegmentPainter& figure() const;
    // The last segmentation shown (null before the first).
    const SegmentOutcome* outcome() const { return m_outcome.get(); }

  Q_SIGNALS:
    // A new segmentation, or a new style of the shown one, is on screen.
    void segmentUpdated();
    // A failed user action (ground truth that cannot be read, an export that cannot be written).
    void errorOccurred(const QString& message);
    // A note for the status bar, also why a segmentation could not be computed.
    void messageChanged(const QString& message);

  private:
    void requestUpdate();
    void startJob();
    void syncView();
    bool needsRecompute(const SegmentSettings& next) const;
    std::string inputPath() const;

    SegmentSettings& m_settings;
    JobRunner* m_jobs;
    SegmentView* m_view;
    std::shared_ptr<Model> m_model;
    std::shared_ptr<const ImageInput> m_input;
    std::shared_ptr<const SegmentOutcome> m_outcome;
    SegmentSettings m_computedWith;  // what m_outcome was computed with
    bool m_stale = true;             // m_outcome does not belong to the current run and settings
};

}  // namespace fovea
