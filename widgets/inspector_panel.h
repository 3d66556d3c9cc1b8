// The inspector dock: every setting of the heatmap view (method, layer, heads, query, colour
// range, threshold, contours, ...). It shows a ViewSettings and reports edits as a new one;
// the window owns the settings and decides what to recompute.
#pragma once

#include "core/session/session.h"

#include <QWidget>

#include <string>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QSlider;
class QSpinBox;

namespace fovea {

class InspectorPanel : public QWidget {
    Q_OBJECT
public:
    explicit InspectorPanel(QWidget* parent = nullptr);

    // Shows `view` for a model of `layers` x `heads` (0 when none is open); emits nothing.
    void setView(const ViewSettings& view, int layers, int heads, const QString& queryLabel);
    void setHoverText(const QString& text);
    // What the method reported beside its map (e.g. the completeness gap of integrated gradients).
    void setMethodFindings(const QString& text);
    // The head selection `delta` entries away in the list (mean, max, min, 0, 1, ...), clamped.
    std::string headsAfter(int delta) const;
    // The method after the current one in the registry's order, wrapping around.
    std::string nextMethod() const;

Q_SIGNALS:
    // The user changed a control: the shown settings with that change.
    void viewEdited(const ViewSettings& view);
    void queryResetRequested();

private:
    // Editors for the method's own parameters (those without a fixed control), built from its
    // parameter list whenever the method changes.
    void rebuildParameterEditors(const std::string& method);
    void syncParameterEditors();

    ViewSettings m_view;
    std::string m_editorsMethod;
    QWidget* m_parameters = nullptr;
    QFormLayout* m_parameterForm = nullptr;
    QLabel* m_methodNote = nullptr;
    QLabel* m_findings = nullptr;
    bool m_syncing = false;
    QComboBox* m_method = nullptr;
    QSpinBox* m_layer = nullptr;
    QComboBox* m_heads = nullptr;
    QLabel* m_query = nullptr;
    QDoubleSpinBox* m_discard = nullptr;
    QComboBox* m_colormap = nullptr;
    QSlider* m_opacity = nullptr;
    QComboBox* m_range = nullptr;
    QDoubleSpinBox* m_low = nullptr;
    QDoubleSpinBox* m_high = nullptr;
    QDoubleSpinBox* m_percentile = nullptr;
    QDoubleSpinBox* m_threshold = nullptr;
    QSpinBox* m_contours = nullptr;
    QCheckBox* m_smooth = nullptr;
    QCheckBox* m_excludeSinks = nullptr;
    QLabel* m_hover = nullptr;
};

}  // namespace fovea
