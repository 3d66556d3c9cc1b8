// Editors for a method's parameter list, built the way the inspector builds the explainers'
// (a combo box for an integer with named choices, a spin box for an integer, a double spin box
// otherwise; named "param-<name>", the help as tool tip, the label the name capitalised), for
// any registry whose parameters carry a name, default, range and help.
//
//     ParameterEditors editors(formLayout, parentWidget);
//     editors.rebuild(toEditorSpecs(segmenter.parameters()), [](const std::string& name, double v) { ... });
//     editors.setValues(settings.resolvedParams());       // no edit callback while syncing
#pragma once

#include "core/segment/segmenter.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

class QFormLayout;
class QWidget;

namespace fovea {

struct EditorSpec {
    std::string name;
    double defaultValue = 0.0;
    double minimum = 0.0;
    double maximum = 1.0;
    bool integer = false;
    std::string help;
    std::vector<std::string> choices;  // integer options from minimum on
};

std::vector<EditorSpec> toEditorSpecs(const std::vector<SegmenterParam>& params);

class ParameterEditors {
  public:
    using Edited = std::function<void(const std::string& name, double value)>;
    // Rows go into `form`, whose editors are children of `owner`.
    ParameterEditors(QFormLayout* form, QWidget* owner) : m_form(form), m_owner(owner) {}

    // Replaces every row; `skip` names parameters that have a fixed control elsewhere.
    void rebuild(const std::vector<EditorSpec>& specs, Edited edited, const std::vector<std::string>& skip = {});
    // Shows `values` (missing names: the default) without calling the edit callback.
    void setValues(const std::map<std::string, double>& values);
    int count() const { return int(m_specs.size()); }

  private:
    QFormLayout* m_form;
    QWidget* m_owner;
    std::vector<EditorSpec> m_specs;
    bool m_syncing = false;
};

}  // namespace fovea
