#include "widgets/inspector_panel.h"

#include "core/explain/explainer.h"
#include "core/image/colormap.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>
#include <QToolButton>

#include <algorithm>
#include <cmath>

namespace fovea {

InspectorPanel::InspectorPanel(QWidget* parent) : QWidget(parent) {
    auto* form = new QFormLayout(this);
    m_method = new QComboBox(this);
    for (const Explainer* method : explainers()) {
        m_method->addItem(QString::fromStdString(method->name()));
        m_method->setItemData(m_method->count() - 1, QString::fromStdString(method->title() + "\n" + method->citation()),
                              Qt::ToolTipRole);
    }
    m_layer = new QSpinBox(this);
    m_layer->setSpecialValueText(tr("last"));
    m_layer->setRange(-1, 0);
    m_heads = new QComboBox(this);
    m_query = new QLabel(tr("CLS"), this);
    auto* resetQuery = new QToolButton(this);
    resetQuery->setText(tr("CLS"));
    resetQuery->setToolTip(tr("Query the CLS token again (Esc)"));
    auto* queryRow = new QHBoxLayout;
    queryRow->addWidget(m_query, 1);
    queryRow->addWidget(resetQuery);
    m_discard = new QDoubleSpinBox(this);
    m_discard->setRange(0.0, 0.99);
    m_discard->setSingleStep(0.05);
    m_colormap = new QComboBox(this);
    for (const std::string& name : colormapNames()) m_colormap->addItem(QString::fromStdString(name));
    m_opacity = new QSlider(Qt::Horizontal, this);
    m_opacity->setRange(0, 100);
    m_range = new QComboBox(this);
    m_range->addItems({"auto", "fixed", "percentile"});
    m_low = new QDoubleSpinBox(this);
    m_high = new QDoubleSpinBox(this);
    for (QDoubleSpinBox* box : {m_low, m_high}) {
        box->setDecimals(4);
        box->setRange(-1e6, 1e6);
        box->setSingleStep(0.01);
    }
    m_percentile = new QDoubleSpinBox(this);
    m_percentile->setRange(1.0, 100.0);
    m_percentile->setSuffix(" %");
    m_threshold = new QDoubleSpinBox(this);
    m_threshold->setRange(-0.01, 1.0);
    m_threshold->setSingleStep(0.05);
    m_threshold->setSpecialValueText(tr("off"));
    m_contours = new QSpinBox(this);
    m_contours->setRange(0, 20);
    m_contours->setSpecialValueText(tr("none"));
    m_contours->setToolTip(tr("Iso-lines over the map (vector lines in SVG and PDF)"));
    m_smooth = new QCheckBox(tr("Smooth upsampling"), this);
    m_excludeSinks = new QCheckBox(tr("Exclude sink tokens"), this);
    m_excludeSinks->setToolTip(tr("Attention maps without the keys that are attention sinks (tokens receiving more "
                                  "than 0.2 of the queries' mass), renormalised to sum 1 over the other patches"));
    m_parameters = new QWidget(this);
    m_parameterForm = new QFormLayout(m_parameters);
    m_parameterForm->setContentsMargins(0, 0, 0, 0);
    m_methodNote = new QLabel(this);
    m_methodNote->setWordWrap(true);
    m_methodNote->setStyleSheet(QStringLiteral("color: palette(mid)"));
    m_findings = new QLabel(this);
    m_findings->setWordWrap(true);
    m_findings->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_hover = new QLabel(this);
    m_hover->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Method"), m_method);
    form->addRow(tr("Layer"), m_layer);
    form->addRow(tr("Heads"), m_heads);
    form->addRow(tr("Query"), queryRow);
    form->addRow(tr("Discard ratio"), m_discard);
    form->addRow(m_parameters);
    form->addRow(m_methodNote);
    form->addRow(m_findings);
    form->addRow(tr("Colormap"), m_colormap);
    form->addRow(tr("Opacity"), m_opacity);
    form->addRow(tr("Range"), m_range);
    form->addRow(tr("Low"), m_low);
    form->addRow(tr("High"), m_high);
    form->addRow(tr("Percentile"), m_percentile);
    form->addRow(tr("Threshold"), m_threshold);
    form->addRow(tr("Contours"), m_contours);
    form->addRow(QString(), m_smooth);
    form->addRow(QString(), m_excludeSinks);
    form->addRow(tr("Under cursor"), m_hover);
    // Every control writes into the view settings and asks for a new map.
    auto changed = [this] {
        if (m_syncing) return;
        ViewSettings view = m_view;
        view.method = m_method->currentText().toStdString();
        view.layer = m_layer->value();
        view.heads = m_heads->currentData().toString().toStdString();
        view.discardRatio = float(m_discard->value());
        view.figure.colormap = m_colormap->currentText().toStdString();
        view.figure.opacity = float(m_opacity->value()) / 100.0f;
        view.rangeMode = m_range->currentText().toStdString();
        view.figure.low = float(m_low->value());
        view.figure.high = float(m_high->value());
        view.percentile = float(m_percentile->value());
        view.threshold = m_threshold->value() < 0.0 ? -1.0f : float(m_threshold->value());
        view.contours = m_contours->value();
        view.figure.smooth = m_smooth->isChecked();
        view.excludeSinks = m_excludeSinks->isChecked();
        Q_EMIT viewEdited(view);
    };
    connect(m_method, &QComboBox::currentIndexChanged, this, changed);
    connect(m_layer, &QSpinBox::valueChanged, this, changed);
    connect(m_heads, &QComboBox::currentIndexChanged, this, changed);
    connect(m_discard, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_colormap, &QComboBox::currentIndexChanged, this, changed);
    connect(m_opacity, &QSlider::valueChanged, this, changed);
    connect(m_range, &QComboBox::currentIndexChanged, this, changed);
    connect(m_low, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_high, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_percentile, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_threshold, &QDoubleSpinBox::valueChanged, this, changed);
    connect(m_smooth, &QCheckBox::toggled, this, changed);
    connect(m_excludeSinks, &QCheckBox::toggled, this, changed);
    connect(m_contours, &QSpinBox::valueChanged, this, changed);
    connect(resetQuery, &QToolButton::clicked, this, &InspectorPanel::queryResetRequested);
}

void InspectorPanel::setView(const ViewSettings& view, int layers, int heads, const QString& queryLabel) {
    m_view = view;
    m_syncing = true;
    m_method->setCurrentText(QString::fromStdString(view.method));
    m_layer->setRange(-1, std::max(0, layers - 1));
    m_layer->setValue(view.layer);
    bool hasLayer = view.method == "raw";
    bool hasHeads = view.method == "raw" || view.method == "rollout";
    for (const Explainer* method : explainers()) {
        if (method->name() != view.method) continue;
        for (const ExplainerParam& p : method->parameters()) {
            hasLayer = hasLayer || p.name == "layer";
            hasHeads = hasHeads || p.name == "head";
        }
        m_methodNote->setText(QString::fromStdString(method->citation()));
        m_layer->setToolTip(method->usesAttention() ? tr("Attention layer") : tr("Feature layer: ViT tokens entering block N, or a CNN stage"));
    }
    m_layer->setEnabled(hasLayer);
    m_heads->setEnabled(hasHeads);
    if (m_editorsMethod != view.method) {
        rebuildParameterEditors(view.method);
        setMethodFindings({});
    }
    syncParameterEditors();
    if (m_heads->count() != heads + 3) {
        m_heads->clear();
        m_heads->addItem(tr("mean of heads"), "mean");
        m_heads->addItem(tr("max of heads"), "max");
        m_heads->addItem(tr("min of heads"), "min");
        for (int h = 0; h < heads; ++h) m_heads->addItem(tr("head %1").arg(h), QString::number(h));
    }
    m_heads->setCurrentIndex(std::max(0, m_heads->findData(QString::fromStdString(view.heads))));
    m_query->setText(queryLabel);
    m_discard->setValue(view.discardRatio);
    bool hasDiscard = view.method == "rollout";
    for (const Explainer* method : explainers()) {
        if (method->name() != view.method) continue;
        for (const ExplainerParam& p : method->parameters()) hasDiscard = hasDiscard || p.name == "discard";
    }
    m_discard->setEnabled(hasDiscard);
    m_colormap->setCurrentText(QString::fromStdString(view.figure.colormap));
    m_opacity->setValue(int(std::lround(view.figure.opacity * 100)));
    m_range->setCurrentText(QString::fromStdString(view.rangeMode));
    m_low->setValue(view.figure.low);
    m_high->setValue(view.figure.high);
    m_low->setEnabled(view.rangeMode == "fixed");
    m_high->setEnabled(view.rangeMode == "fixed");
    m_percentile->setValue(view.percentile);
    m_percentile->setEnabled(view.rangeMode == "percentile");
    m_threshold->setValue(view.threshold < 0 ? -0.01 : view.threshold);
    m_smooth->setChecked(view.figure.smooth);
    m_excludeSinks->setChecked(view.excludeSinks);
    m_excludeSinks->setEnabled(hasHeads);  // attention methods: raw and rollout-like maps
    m_contours->setValue(view.contours);
    m_syncing = false;
}

void InspectorPanel::rebuildParameterEditors(const std::string& name) {
    while (m_parameterForm->rowCount() > 0) m_parameterForm->removeRow(0);
    m_editorsMethod = name;
    const Explainer* method = nullptr;
    for (const Explainer* e : explainers()) {
        if (e->name() == name) method = e;
    }
    if (!method) return;
    for (const ExplainerParam& p : method->parameters()) {
        if (p.name == "layer" || p.name == "head" || p.name == "query" || p.name == "discard") continue;  // fixed controls
        QWidget* editor = nullptr;
        const QString key = QString::fromStdString(p.name);
        const auto edited = [this, name = p.name](double value) {
            if (m_syncing) return;
            ViewSettings view = m_view;
            view.params[name] = value;
            Q_EMIT viewEdited(view);
        };
        if (p.integer && !p.choices.empty()) {
            auto* box = new QComboBox(m_parameters);
            for (std::size_t i = 0; i < p.choices.size(); ++i) box->addItem(QString::fromStdString(p.choices[i]), p.minimum + double(i));
            connect(box, &QComboBox::currentIndexChanged, this, [edited, box](int) { edited(box->currentData().toDouble()); });
            editor = box;
        } else if (p.integer) {
            auto* box = new QSpinBox(m_parameters);
            box->setRange(int(std::max(p.minimum, -1e9)), int(std::min(p.maximum, 1e9)));
            connect(box, &QSpinBox::valueChanged, this, [edited](int value) { edited(value); });
            editor = box;
        } else {
            auto* box = new QDoubleSpinBox(m_parameters);
            box->setDecimals(3);
            box->setRange(p.minimum, p.maximum);
            box->setSingleStep((p.maximum - p.minimum) / 20.0);
            connect(box, &QDoubleSpinBox::valueChanged, this, edited);
            editor = box;
        }
        editor->setObjectName(QStringLiteral("param-") + key);
        editor->setToolTip(QString::fromStdString(p.help));
        auto* label = new QLabel(key.left(1).toUpper() + key.mid(1), m_parameters);
        label->setToolTip(QString::fromStdString(p.help));
        m_parameterForm->addRow(label, editor);
    }
    m_parameters->setVisible(m_parameterForm->rowCount() > 0);
}

void InspectorPanel::syncParameterEditors() {
    const Explainer* method = nullptr;
    for (const Explainer* e : explainers()) {
        if (e->name() == m_editorsMethod) method = e;
    }
    if (!method) return;
    for (const ExplainerParam& p : method->parameters()) {
        const auto given = m_view.params.find(p.name);
        const double value = given != m_view.params.end() ? given->second : p.defaultValue;
        const QString key = QStringLiteral("param-") + QString::fromStdString(p.name);
        if (auto* box = m_parameters->findChild<QSpinBox*>(key)) box->setValue(int(value));
        if (auto* box = m_parameters->findChild<QDoubleSpinBox*>(key)) box->setValue(value);
        if (auto* box = m_parameters->findChild<QComboBox*>(key)) box->setCurrentIndex(std::max(0, box->findData(value)));
    }
}

void InspectorPanel::setHoverText(const QString& text) { m_hover->setText(text); }

void InspectorPanel::setMethodFindings(const QString& text) {
    m_findings->setText(text);
    m_findings->setVisible(!text.isEmpty());
}

std::string InspectorPanel::headsAfter(int delta) const {
    const int index = std::clamp(m_heads->currentIndex() + delta, 0, m_heads->count() - 1);
    return m_heads->itemData(index).toString().toStdString();
}

std::string InspectorPanel::nextMethod() const {
    return m_method->itemText((m_method->currentIndex() + 1) % m_method->count()).toStdString();
}

}  // namespace fovea
