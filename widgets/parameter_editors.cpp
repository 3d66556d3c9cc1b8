#include "widgets/parameter_editors.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QSpinBox>

#include <algorithm>

namespace fovea {

std::vector<EditorSpec> toEditorSpecs(const std::vector<SegmenterParam>& params) {
    std::vector<EditorSpec> specs;
    for (const SegmenterParam& p : params) {
        specs.push_back({p.name, p.defaultValue, p.minimum, p.maximum, p.integer, p.help, p.choices});
    }
    return specs;
}

void ParameterEditors::rebuild(const std::vector<EditorSpec>& specs, Edited edited,
                               const std::vector<std::string>& skip) {
    while (m_form->rowCount() > 0) m_form->removeRow(0);
    m_specs.clear();
    for (const EditorSpec& p : specs) {
        if (std::find(skip.begin(), skip.end(), p.name) != skip.end()) continue;
        m_specs.push_back(p);
        const QString key = QString::fromStdString(p.name);
        const auto changed = [this, edited, name = p.name](double value) {
            if (!m_syncing && edited) edited(name, value);
        };
        QWidget* editor = nullptr;
        if (p.integer && !p.choices.empty()) {
            auto* box = new QComboBox(m_owner);
            for (std::size_t i = 0; i < p.choices.size(); ++i) {
                box->addItem(QString::fromStdString(p.choices[i]), p.minimum + double(i));
            }
            QObject::connect(box, &QComboBox::currentIndexChanged, box,
                             [changed, box](int) { changed(box->currentData().toDouble()); });
            editor = box;
        } else if (p.integer) {
            auto* box = new QSpinBox(m_owner);
            box->setRange(int(std::max(p.minimum, -1e9)), int(std::min(p.maximum, 1e9)));
            QObject::connect(box, &QSpinBox::valueChanged, box, [changed](int value) { changed(value); });
            editor = box;
        } else {
            auto* box = new QDoubleSpinBox(m_owner);
            box->setDecimals(3);
            box->setRange(p.minimum, p.maximum);
            box->setSingleStep((p.maximum - p.minimum) / 20.0);
            QObject::connect(box, &QDoubleSpinBox::valueChanged, box, changed);
            editor = box;
        }
        editor->setObjectName(QStringLiteral("param-") + key);
        editor->setToolTip(QString::fromStdString(p.help));
        auto* label = new QLabel(key.left(1).toUpper() + key.mid(1), m_owner);
        label->setToolTip(QString::fromStdString(p.help));
        m_form->addRow(label, editor);
    }
}

void ParameterEditors::setValues(const std::map<std::string, double>& values) {
    m_syncing = true;
    for (const EditorSpec& p : m_specs) {
        const auto given = values.find(p.name);
        const double value = given != values.end() ? given->second : p.defaultValue;
        const QString key = QStringLiteral("param-") + QString::fromStdString(p.name);
        if (auto* box = m_owner->findChild<QSpinBox*>(key)) box->setValue(int(value));
        if (auto* box = m_owner->findChild<QDoubleSpinBox*>(key)) box->setValue(value);
        if (auto* box = m_owner->findChild<QComboBox*>(key)) box->setCurrentIndex(std::max(0, box->findData(value)));
    }
    m_syncing = false;
}

}  // namespace fovea
