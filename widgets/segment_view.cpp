#include "widgets/segment_view.h"

#include "core/explain/explainer.h"
#include "widgets/parameter_editors.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMouseEvent>
#include <QPainter>
#include <QPixmap>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <functional>

namespace fovea {

// The figure, fitted into the widget with a small margin; reports the segment under the mouse.
class SegmentCanvas : public QWidget {
  public:
    explicit SegmentCanvas(QWidget* parent) : QWidget(parent) {
        setMouseTracking(true);
        setMinimumSize(240, 200);
        setAutoFillBackground(true);
        QPalette palette = this->palette();
        palette.setColor(QPalette::Window, Qt::white);
        setPalette(palette);
    }
    SegmentPainter figure;
    QString placeholder;
    std::function<void(int)> hovered;

    QRectF figureRect() const {
        const QRectF area = QRectF(rect()).adjusted(8, 8, -8, -8);
        const QSizeF preferred = figure.preferredSize();
        if (preferred.isEmpty()) return area;
        const double scale = std::min(area.width() / preferred.width(), area.height() / preferred.height());
        const QSizeF size = preferred * scale;
        return {area.center().x() - size.width() / 2, area.center().y() - size.height() / 2, size.width(),
                size.height()};
    }

  protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        if (!placeholder.isEmpty() || figure.image().isNull()) {
            painter.setPen(palette().color(QPalette::PlaceholderText));
            painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
                             placeholder.isEmpty() ? tr("Open a model and an image") : placeholder);
            return;
        }
        painter.setRenderHint(QPainter::Antialiasing);
        figure.paint(painter, figureRect());
    }
    void mouseMoveEvent(QMouseEvent* event) override {
        if (hovered) hovered(figure.labelAt(figureRect(), event->position()));
    }
};

SegmentView::SegmentView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    // The panel can be dragged narrower or wider; the canvas takes what is left.
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setChildrenCollapsible(false);
    layout->addWidget(splitter);
    m_canvas = new SegmentCanvas(splitter);
    m_canvas->setObjectName("segment-canvas");
    auto* scroll = new QScrollArea(splitter);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMinimumWidth(200);
    auto* panel = new QWidget(scroll);
    buildPanel(panel);
    scroll->setWidget(panel);
    splitter->addWidget(m_canvas);
    splitter->addWidget(scroll);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 0);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    splitter->setSizes({800, 260});
    m_canvas->hovered = [this](int label) {
        if (label < 0) {
            m_hover->clear();
        } else if (label == 0) {
            m_hover->setText(tr("background"));
        } else {
            m_hover->setText(figure().segmentName(label));
        }
    };
}

SegmentView::~SegmentView() = default;

void SegmentView::buildPanel(QWidget* panel) {
    auto* column = new QVBoxLayout(panel);
    auto* form = new QFormLayout;
    column->addLayout(form);
    column->addStretch(1);  // rows keep their natural height; the space goes below them
    m_method = new QComboBox(panel);
    m_method->setObjectName("segment-method");
    for (const Segmenter* method : segmenters()) {
        m_method->addItem(QString::fromStdString(method->name()));
        m_method->setItemData(m_method->count() - 1,
                              QString::fromStdString(method->title() + "\n" + method->citation()), Qt::ToolTipRole);
    }
    m_layer = new QSpinBox(panel);
    m_layer->setObjectName("segment-layer");
    m_layer->setSpecialValueText(tr("last"));
    m_layer->setRange(-1, 0);
    m_layer->setToolTip(tr("The block whose keys and CLS attention the method reads"));
    m_mapMethod = new QComboBox(panel);
    m_mapMethod->setObjectName("segment-map-method");
    m_mapMethod->addItem(tr("default"), QString());
    for (const Explainer* method : explainers()) {
        m_mapMethod->addItem(QString::fromStdString(method->name()), QString::fromStdString(method->name()));
    }
    // Long method names must not widen the panel: the combo boxes elide instead.
    for (QComboBox* box : {m_method, m_mapMethod}) {
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        box->setMinimumContentsLength(10);
    }
    m_mapMethod->setToolTip(
        tr("The explanation map that map methods threshold (default: rollout, or Grad-CAM for CAM to mask)"));
    m_parameters = new QWidget(panel);
    m_parameterForm = new QFormLayout(m_parameters);
    m_parameterForm->setContentsMargins(0, 0, 0, 0);
    m_editors = std::make_unique<ParameterEditors>(m_parameterForm, m_parameters);
    m_citation = new QLabel(panel);
    m_citation->setWordWrap(true);
    m_citation->setStyleSheet(QStringLiteral("color: palette(mid)"));
    m_opacity = new QSlider(Qt::Horizontal, panel);
    m_opacity->setObjectName("segment-opacity");
    m_opacity->setRange(0, 100);
    m_contours = new QCheckBox(tr("Contours"), panel);
    m_boxes = new QCheckBox(tr("Object box"), panel);
    m_boxes->setToolTip(tr("Object discovery: the box of the object's largest connected component (CorLoc scores it)"));
    m_showTruth = new QCheckBox(tr("Ground truth (dashed)"), panel);
    m_segments = new QListWidget(panel);
    m_segments->setObjectName("segment-list");
    m_segments->setMaximumHeight(150);
    m_segments->setToolTip(tr("Untick a segment to hide it"));
    auto* openTruth = new QPushButton(tr("Open..."), panel);
    openTruth->setToolTip(tr("A PNG label mask of this image, or a COCO instances JSON that annotates it"));
    m_clearTruth = new QPushButton(tr("Clear"), panel);
    auto* truthRow = new QHBoxLayout;
    truthRow->addWidget(openTruth);
    truthRow->addWidget(m_clearTruth);
    m_truthName = new QLabel(panel);
    m_truthName->setWordWrap(true);
    m_iou = new QLabel(panel);
    m_iou->setObjectName("segment-iou");
    m_iou->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* exportMask = new QPushButton(tr("Export Label Mask PNG..."), panel);
    exportMask->setToolTip(tr("Labels 0..N at the size the model saw (8-bit, 16-bit past 255 segments)"));
    m_hover = new QLabel(panel);

    form->addRow(tr("Method"), m_method);
    form->addRow(tr("Layer"), m_layer);
    form->addRow(tr("Map"), m_mapMethod);
    form->addRow(m_parameters);
    form->addRow(m_citation);
    form->addRow(tr("Opacity"), m_opacity);
    form->addRow(QString(), m_contours);
    form->addRow(QString(), m_boxes);
    form->addRow(QString(), m_showTruth);
    form->addRow(tr("Segments"), m_segments);
    form->addRow(tr("Ground truth"), truthRow);
    form->addRow(m_truthName);
    form->addRow(m_iou);
    form->addRow(exportMask);
    form->addRow(tr("Under cursor"), m_hover);

    connect(m_method, &QComboBox::currentIndexChanged, this, [this] {
        SegmentSettings settings = m_settings;
        settings.method = m_method->currentText().toStdString();
        settings.hidden.clear();  // another method's labels mean other regions
        emitEdited(settings);
    });
    connect(m_layer, &QSpinBox::valueChanged, this, [this](int layer) {
        SegmentSettings settings = m_settings;
        settings.layer = layer;
        emitEdited(settings);
    });
    connect(m_mapMethod, &QComboBox::currentIndexChanged, this, [this] {
        SegmentSettings settings = m_settings;
        settings.mapMethod = m_mapMethod->currentData().toString().toStdString();
        emitEdited(settings);
    });
    connect(m_opacity, &QSlider::valueChanged, this, [this](int value) {
        SegmentSettings settings = m_settings;
        settings.opacity = float(value) / 100.0f;
        emitEdited(settings);
    });
    const auto toggle = [this](QCheckBox* box, bool SegmentSettings::*field) {
        connect(box, &QCheckBox::toggled, this, [this, field](bool on) {
            SegmentSettings settings = m_settings;
            settings.*field = on;
            emitEdited(settings);
        });
    };
    toggle(m_contours, &SegmentSettings::contours);
    toggle(m_boxes, &SegmentSettings::boxes);
    toggle(m_showTruth, &SegmentSettings::showGroundTruth);
    connect(m_segments, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        if (m_syncing) return;
        SegmentSettings settings = m_settings;
        const int label = item->data(Qt::UserRole).toInt();
        settings.hidden.erase(std::remove(settings.hidden.begin(), settings.hidden.end(), label),
                              settings.hidden.end());
        if (item->checkState() != Qt::Checked) settings.hidden.push_back(label);
        std::sort(settings.hidden.begin(), settings.hidden.end());
        emitEdited(settings);
    });
    connect(openTruth, &QPushButton::clicked, this, &SegmentView::groundTruthOpenRequested);
    connect(m_clearTruth, &QPushButton::clicked, this, &SegmentView::groundTruthClearRequested);
    connect(exportMask, &QPushButton::clicked, this, &SegmentView::labelMaskExportRequested);
}

void SegmentView::emitEdited(const SegmentSettings& settings) {
    if (m_syncing) return;
    Q_EMIT settingsEdited(settings);
}

void SegmentView::setSettings(const SegmentSettings& settings, int layers, const QString& groundTruthName) {
    m_settings = settings;
    m_syncing = true;
    m_method->setCurrentText(QString::fromStdString(settings.method));
    const Segmenter& method = findSegmenter(settings.method);
    const bool readsAttention = method.needs() == SegmentNeeds::Attention || method.needs() == SegmentNeeds::Keys;
    m_layer->setRange(-1, std::max(0, layers - 1));
    m_layer->setValue(settings.layer);
    m_layer->setEnabled(readsAttention);
    m_mapMethod->setCurrentIndex(std::max(0, m_mapMethod->findData(QString::fromStdString(settings.mapMethod))));
    m_mapMethod->setEnabled(!readsAttention);
    if (m_editorsMethod != settings.method) rebuildParameterEditors();
    const auto given = settings.params.find(settings.method);
    m_editors->setValues(given == settings.params.end() ? SegmentParams{} : given->second);
    m_opacity->setValue(int(std::lround(settings.opacity * 100)));
    m_contours->setChecked(settings.contours);
    m_boxes->setChecked(settings.boxes);
    m_showTruth->setChecked(settings.showGroundTruth);
    m_truthName->setText(groundTruthName.isEmpty() ? tr("none for this image") : groundTruthName);
    m_clearTruth->setEnabled(!groundTruthName.isEmpty());
    m_syncing = false;
    rebuildSegmentList();
}

void SegmentView::rebuildParameterEditors() {
    m_editorsMethod = m_settings.method;
    const Segmenter& method = findSegmenter(m_settings.method);
    m_citation->setText(QString::fromStdString(method.citation()));
    m_editors->rebuild(toEditorSpecs(method.parameters()), [this](const std::string& name, double value) {
        SegmentSettings settings = m_settings;
        settings.params[settings.method][name] = value;
        emitEdited(settings);
    });
    m_parameters->setVisible(m_editors->count() > 0);
}

void SegmentView::rebuildSegmentList() {
    m_syncing = true;
    const SegmentPainter& shown = figure();
    // Items are updated in place when the count is unchanged: this runs inside the list's own
    // itemChanged when a segment is toggled, where deleting the item would pull it from under Qt.
    if (m_segments->count() != shown.segmentCount()) {
        m_segments->clear();
        for (int label = 1; label <= shown.segmentCount(); ++label) {
            auto* item = new QListWidgetItem(m_segments);
            item->setData(Qt::UserRole, label);
            item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        }
    }
    for (int label = 1; label <= shown.segmentCount(); ++label) {
        QListWidgetItem* item = m_segments->item(label - 1);
        QPixmap swatch(12, 12);
        swatch.fill(SegmentPainter::segmentColor(label));
        item->setIcon(QIcon(swatch));
        item->setText(tr("%1  (%2%)").arg(shown.segmentName(label)).arg(shown.segmentArea(label) * 100.0, 0, 'f', 1));
        item->setCheckState(m_settings.isHidden(label) ? Qt::Unchecked : Qt::Checked);
    }
    m_syncing = false;
    if (!shown.iou()) {
        m_iou->setText(tr("IoU: open the ground truth to score"));
    } else {
        m_iou->setText(tr("IoU %1 (foreground vs. ground truth)").arg(*shown.iou(), 0, 'f', 3));
    }
}

void SegmentView::setFigure(const SegmentPainter& figure) {
    m_canvas->figure = figure;
    m_canvas->placeholder.clear();
    rebuildSegmentList();
    m_canvas->update();
}

const SegmentPainter& SegmentView::figure() const {
    return m_canvas->figure;
}

void SegmentView::setPlaceholder(const QString& text) {
    m_canvas->placeholder = text;
    m_canvas->update();
}

QString SegmentView::iouText() const {
    return m_iou->text();
}

QWidget* SegmentView::canvas() const {
    return m_canvas;
}

QRectF SegmentView::figureRect() const {
    return m_canvas->figureRect();
}

void SegmentView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    Q_EMIT shown();
}

}  // namespace fovea
