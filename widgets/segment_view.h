// The segmentation tab: the figure (SegmentPainter) on a canvas, and beside it the method with
// editors generated from its parameter list, the layer, what is drawn (opacity, contours, boxes,
// ground truth), a checkable list of the segments, the ground truth of the current input with
// its IoU, and "export label mask". It shows a SegmentSettings and reports edits as a new one;
// the SegmentController owns the settings and decides what to recompute.
#pragma once

#include "core/session/segment_settings.h"
#include "widgets/segment_painter.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QListWidget;
class QPushButton;
class QSlider;
class QSpinBox;

namespace fovea {

class ParameterEditors;
class SegmentCanvas;

class SegmentView : public QWidget {
    Q_OBJECT
  public:
    explicit SegmentView(QWidget* parent = nullptr);
    ~SegmentView() override;

    // Shows `settings` for a model of `layers` blocks (0: none open) and the name of the current
    // input's ground truth ("" when none); emits nothing.
    void setSettings(const SegmentSettings& settings, int layers, const QString& groundTruthName);
    const SegmentSettings& settings() const { return m_settings; }
    void setFigure(const SegmentPainter& figure);
    const SegmentPainter& figure() const;
    // A message drawn instead of the figure (no model, an error, "computing...").
    void setPlaceholder(const QString& text);
    // The IoU line of the panel: "IoU 0.734" or a hint when no ground truth is open.
    QString iouText() const;
    QWidget* canvas() const;
    // Where the figure is drawn, in canvas coordinates.
    QRectF figureRect() const;

  Q_SIGNALS:
    void settingsEdited(const SegmentSettings& settings);
    void groundTruthOpenRequested();
    void groundTruthClearRequested();
    void labelMaskExportRequested();
    // The tab became visible (work skipped while it was hidden can start now).
    void shown();

  protected:
    void showEvent(QShowEvent* event) override;

  private:
    void buildPanel(QWidget* panel);
    void rebuildParameterEditors();
    void rebuildSegmentList();
    void emitEdited(const SegmentSettings& settings);

    SegmentSettings m_settings;
    bool m_syncing = false;
    std::string m_editorsMethod;
    SegmentCanvas* m_canvas = nullptr;
    QComboBox* m_method = nullptr;
    QSpinBox* m_layer = nullptr;
    QComboBox* m_mapMethod = nullptr;
    QWidget* m_parameters = nullptr;
    QFormLayout* m_parameterForm = nullptr;
    std::unique_ptr<ParameterEditors> m_editors;
    QLabel* m_citation = nullptr;
    QSlider* m_opacity = nullptr;
    QCheckBox* m_contours = nullptr;
    QCheckBox* m_boxes = nullptr;
    QCheckBox* m_showTruth = nullptr;
    QListWidget* m_segments = nullptr;
    QLabel* m_truthName = nullptr;
    QPushButton* m_clearTruth = nullptr;
    QLabel* m_iou = nullptr;
    QLabel* m_hover = nullptr;
};

}  // namespace fovea
