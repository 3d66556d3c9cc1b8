#include "widgets/main_window.h"

#include "core/explain/attention_maps.h"
#include "core/explain/explainer.h"
#include "core/image/colormap.h"
#include "core/model/model.h"
#include "core/model/registry.h"
#include "core/session/view_map.h"
#include "core/util/error.h"
#include "core/util/progress.h"
#include "core/util/system.h"
#include "widgets/atlas_view.h"
#include "widgets/compare_view.h"
#include "widgets/gaze_view.h"
#include "widgets/head_figures.h"
#include "widgets/heads_controller.h"
#include "widgets/heads_page.h"
#include "widgets/volume_view.h"
#include "widgets/figure_builder.h"
#include "widgets/figure_export.h"
#include "widgets/heatmap_view.h"
#include "widgets/inspector_panel.h"
#include "widgets/job_runner.h"
#include "widgets/qt_convert.h"
#include "widgets/segment_controller.h"
#include "widgets/segment_view.h"
#include "widgets/text_controller.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QImageReader>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSaveFile>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTextBrowser>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>

#include <filesystem>

namespace fovea {
namespace {


bool isModelPath(const QString& path) {
    const QFileInfo info(path);
    if (info.isDir()) return QFileInfo::exists(QDir(path).filePath("model.safetensors"));
    return info.suffix().compare("safetensors", Qt::CaseInsensitive) == 0;
}

// Decoded off the GUI thread (a folder of large images would otherwise freeze the window).
QImage thumbnailImage(const QString& path) {
    QImageReader reader(path);
    const QSize size = reader.size();
    if (size.isValid()) reader.setScaledSize(size.scaled(96, 96, Qt::KeepAspectRatio));
    return reader.read();
}

struct ForwardResult {
    std::shared_ptr<const ImageInput> input;
    std::shared_ptr<const ModelOutputs> outputs;
};

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), m_jobs(new JobRunner(this)) {
    setWindowTitle(tr("Fovea"));
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_view = new HeatmapView(m_tabs);
    m_atlas = new AtlasView(m_tabs);
    m_tabs->addTab(m_view, tr("Heatmap"));
    m_tabs->addTab(m_atlas, tr("Layer x head atlas"));
    m_compare = new CompareView(m_tabs);
    m_tabs->addTab(m_compare, tr("Compare"));
    m_volume = new VolumeView(m_tabs);
    m_tabs->addTab(m_volume, tr("3D"));
    m_segment = new SegmentController(m_state.segment, m_jobs, m_tabs);
    m_tabs->addTab(m_segment->view(), tr("Segmentation"));
    connect(m_segment, &SegmentController::errorOccurred, this, [this](const QString& message) { showError(message); });
    connect(m_segment, &SegmentController::messageChanged, this,
            [this](const QString& message) { m_message->setText(message); });
    m_gaze = new GazeView(m_tabs);
    m_tabs->addTab(m_gaze, tr("Gaze"));
    m_text = new TextController(m_state.text, m_jobs, m_tabs);
    m_tabs->addTab(m_text->page(), tr("Text"));
    connect(m_text, &TextController::errorOccurred, this, [this](const QString& message) { showError(message); });
    connect(m_text, &TextController::messageChanged, this, [this](const QString& message) { m_message->setText(message); });
    m_heads = new HeadsController(m_state.heads, m_jobs, m_atlas, m_tabs);
    m_tabs->addTab(m_heads->page(), tr("Heads"));
    connect(m_heads, &HeadsController::interventionChanged, this, [this] {
        // A text model reruns its text with the intervention; the others their image.
        if (m_model && m_model->spec().modality == "text") {
            const ModelSpec& spec = m_model->spec();
            m_text->setHeadScales(headScalesOf(m_state.heads, spec.depth, spec.numHeads));
            m_text->run();
        } else {
            runCurrentInput();
        }
    });
    // A text model's runs feed the head views (with their token ids: induction, duplicate-token).
    connect(m_text, &TextController::textUpdated, this, [this] {
        const std::shared_ptr<const TextRun> run = m_text->lastRunShared();
        if (!run || !m_model || m_model->spec().modality != "text") return;
        m_heads->setTextRun(m_model, std::shared_ptr<const ModelOutputs>(run, &run->outputs), run->input.ids);
    });
    connect(m_heads, &HeadsController::errorOccurred, this, [this](const QString& message) { showError(message); });
    connect(m_heads, &HeadsController::messageChanged, this, [this](const QString& message) { m_message->setText(message); });
    connect(m_heads, &HeadsController::headActivated, this, [this](const HeadKey& head) {
        if (m_model && !m_model->accepts(InputKind::Image)) {
            // A language model's head opens in the Text page's head view.
            m_text->setLayer(head.layer);
            m_text->setHeads({head.head});
            m_text->setPage("heads");
            setCurrentView("text");
            return;
        }
        m_state.view.method = "raw";
        m_state.view.layer = head.layer;
        m_state.view.heads = std::to_string(head.head);
        syncInspector();
        updateMap();
        setCurrentView("heatmap");
    });
    // The head analysis runs only while a head view is on screen.
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] { m_heads->setWanted(m_tabs->currentWidget() == m_heads->page()); });
    setCentralWidget(m_tabs);
    // The Gaze page follows the current input and map while it is shown.
    const auto syncGaze = [this] {
        if (m_tabs->currentWidget() != m_gaze || !m_input || m_input->source.empty()) return;
        m_gaze->setStimulus(QString::fromStdString(m_input->source), figure().heatmap(),
                            m_model ? m_model->spec().preprocessing : Preprocessing{});
    };
    connect(this, &MainWindow::figureUpdated, this, syncGaze);
    connect(m_tabs, &QTabWidget::currentChanged, this, syncGaze);
    connect(m_atlas, &AtlasView::focusChanged, this, [this](int layer, int head) {
        m_state.view.method = "raw";
        m_state.view.layer = layer;
        m_state.view.heads = head < 0 ? "mean" : std::to_string(head);
        syncInspector();
        updateMap();
    });
    buildDocks();
    buildStatusBar();
    buildActions();
    syncInspector();

    connect(m_view, &HeatmapView::cellHovered, this, [this](int row, int col, float value) {
        QString token;
        if (m_outputs) token = tr(", token %1").arg(m_outputs->attention.tokens.patchIndex(row, col));
        m_inspector->setHoverText(tr("patch (%1, %2)%3: %4").arg(row).arg(col).arg(token).arg(double(value), 0, 'g', 4));
    });
    connect(m_view, &HeatmapView::cellClicked, this, &MainWindow::setQueryFromCell);
    // Quick jobs (a layer or head switch) finish before anything flickers: the progress bar and
    // the job's title appear only once a job has run for 300 ms.
    auto* showProgress = new QTimer(this);
    showProgress->setSingleShot(true);
    showProgress->setInterval(300);
    connect(showProgress, &QTimer::timeout, this, [this] {
        if (!m_jobs->busy()) return;
        m_progress->setVisible(true);
        m_message->setText(m_jobTitle);
    });
    connect(m_jobs, &JobRunner::busyChanged, this, [this, showProgress](bool busy) {
        m_cancel->setEnabled(busy);
        if (busy) {
            showProgress->start();
        } else {
            showProgress->stop();
            m_progress->setVisible(false);
            m_message->setText(m_lastError.isEmpty() ? tr("Ready") : m_lastError);
        }
    });
    connect(m_jobs, &JobRunner::progressChanged, this, [this](const QString& title, double fraction) {
        m_jobTitle = title;
        if (!m_progress->isVisible()) return;
        m_message->setText(title);
        if (fraction < 0) {
            m_progress->setRange(0, 0);
        } else {
            m_progress->setRange(0, 1000);
            m_progress->setValue(int(fraction * 1000));
        }
    });
    connect(m_jobs, &JobRunner::jobFailed, this, [this](const QString&, const QString& message) { showError(message); });

    QSettings settings;
    if (settings.contains("window/geometry")) {
        restoreGeometry(settings.value("window/geometry").toByteArray());
        restoreState(settings.value("window/state").toByteArray());
    } else {
        resize(1280, 800);
        resetLayout();
    }
}

const QStringList& MainWindow::imageFilters() {
    static const QStringList filters = {"*.png", "*.jpg", "*.jpeg", "*.bmp", "*.tif", "*.tiff", "*.webp", "*.npy"};
    return filters;
}

MainWindow::~MainWindow() {
    m_jobs->cancelAll();
    m_jobs->waitForDone();
}

const HeatmapPainter& MainWindow::figure() const { return m_view->figure(); }

void MainWindow::resetLayout() {
    QList<QDockWidget*> left, right;
    for (QDockWidget* dock : findChildren<QDockWidget*>()) {
        dock->show();
        (dockWidgetArea(dock) == Qt::RightDockWidgetArea ? right : left) << dock;
    }
    QList<QDockWidget*> all = left + right;
    QList<int> widths;
    for (QDockWidget* dock : all) widths << (left.contains(dock) ? 250 : 270);
    resizeDocks(all, widths, Qt::Horizontal);
}

void MainWindow::buildDocks() {
    auto dock = [this](const QString& title, const QString& name, QWidget* widget, Qt::DockWidgetArea area) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(widget);
        addDockWidget(area, d);
        return d;
    };
    m_modelInfo = new QTextBrowser(this);
    m_modelInfo->setPlaceholderText(tr("No model. File > Open Model (Ctrl+M), or drop a model folder here."));
    dock(tr("Model"), "model-dock", m_modelInfo, Qt::LeftDockWidgetArea);

    m_gallery = new QListWidget(this);
    m_gallery->setViewMode(QListView::IconMode);
    m_gallery->setIconSize(QSize(96, 96));
    m_gallery->setResizeMode(QListView::Adjust);
    m_gallery->setMovement(QListView::Static);
    m_gallery->setUniformItemSizes(true);
    m_gallery->setWordWrap(true);
    m_gallery->setGridSize(QSize(112, 124));
    m_gallery->setTextElideMode(Qt::ElideMiddle);
    connect(m_gallery, &QListWidget::currentRowChanged, this, [this](int row) {
        if (!m_syncing && row >= 0) selectInput(row);
    });
    dock(tr("Inputs"), "inputs-dock", m_gallery, Qt::LeftDockWidgetArea);

    m_inspector = new InspectorPanel(this);
    dock(tr("Inspector"), "inspector-dock", m_inspector, Qt::RightDockWidgetArea);
    connect(m_inspector, &InspectorPanel::viewEdited, this, [this](const ViewSettings& view) {
        m_state.view = view;
        syncInspector();
        updateMap();
    });
    connect(m_inspector, &InspectorPanel::queryResetRequested, this, [this] {
        m_state.view.query = -1;
        syncInspector();
        updateMap();
    });
}

void MainWindow::buildStatusBar() {
    m_message = new QLabel(tr("Ready"), this);
    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(220);
    m_progress->setVisible(false);
    m_cancel = new QToolButton(this);
    m_cancel->setIcon(style()->standardIcon(QStyle::SP_BrowserStop));
    m_cancel->setToolTip(tr("Cancel the running job"));
    m_cancel->setEnabled(false);
    connect(m_cancel, &QToolButton::clicked, this, [this] { m_jobs->cancelAll(); });
    statusBar()->addWidget(m_message, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancel);
}

void MainWindow::syncInspector() {
    const ViewSettings& view = m_state.view;
    const QString query = view.query < 0 || !m_outputs
                              ? tr("CLS")
                              : QString::fromStdString(m_outputs->attention.tokens[view.query].label()) +
                                    tr(" (token %1)").arg(view.query);
    const bool attention = viewUsesAttention(view);
    const int layers = !m_model ? 0 : attention ? m_model->spec().depth : m_model->spec().featureLayerCount();
    m_inspector->setView(view, layers, m_model ? m_model->spec().numHeads : 0, query);
}

void MainWindow::setView(const ViewSettings& view) {
    m_state.view = view;
    syncInspector();
    updateMap();
}

void MainWindow::showError(const QString& message) {
    m_lastError = message;
    m_message->setText(message);
    if (!m_quiet) QMessageBox::warning(this, tr("Fovea"), message);
}

void MainWindow::openModel(const QString& path) {
    m_lastError.clear();
    m_state.modelPath = path.toStdString();
    const std::string modelPath = path.toStdString();
    m_jobs->start(
        "model", tr("Loading model %1").arg(QFileInfo(path).fileName()),
        [modelPath](Progress&) {
            // One core stays with the GUI thread, so the window answers while the model works.
            RuntimeOptions runtime;
            runtime.threads = std::max(1, availableCores() - 1);
            return std::any(std::shared_ptr<Model>(fovea::openModel(modelPath, runtime)));
        },
        [this](std::any result) {
            m_model = std::any_cast<std::shared_ptr<Model>>(result);
            m_outputs.reset();
            m_otherInputs.clear();
            // Keep the view settings that still make sense for this model.
            if (m_state.view.layer >= m_model->spec().depth) m_state.view.layer = -1;
            if (m_state.view.heads != "mean" && m_state.view.heads != "max" && m_state.view.heads != "min" &&
                std::stoi(m_state.view.heads) >= m_model->spec().numHeads) {
                m_state.view.heads = "mean";
            }
            if (m_state.view.query >= m_model->spec().tokenCount()) m_state.view.query = -1;
            // A head intervention only for heads this model has.
            const std::size_t intervened = m_state.heads.scales.size();
            auto& scales = m_state.heads.scales;
            scales.erase(std::remove_if(scales.begin(), scales.end(),
                                        [this](const HeadScaleEntry& entry) {
                                            return entry.layer >= m_model->spec().depth || entry.head >= m_model->spec().numHeads;
                                        }),
                         scales.end());
            if (m_state.heads.scales.size() != intervened) m_heads->syncFromSettings();
            if (m_model->spec().depth <= 0 && viewUsesAttention(m_state.view)) m_state.view.method = "gradcam";  // a CNN
            m_modelLevelMap = {};
            updateModelPanel();
            updateTabsForModel();
            syncInspector();
            // The session's head intervention (valid heads only, see above) for a text model's runs.
            m_text->setHeadScales(m_model->spec().modality == "text"
                                      ? headScalesOf(m_state.heads, m_model->spec().depth, m_model->spec().numHeads)
                                      : HeadScales{});
            m_text->setModel(m_model, m_state.modelPath);
            if (!m_model->accepts(InputKind::Image)) {
                // A language model: nothing to run on the images; the head views take its text.
                const QString shown = currentView();
                if (shown != "heads" && shown != "heads-3d" && shown != "sinks") setCurrentView("text");
                return;
            }
            runCurrentInput();
        },
        [this](const QString& message) {
            m_model.reset();
            m_text->setModel(nullptr, {});
            updateModelPanel();
            updateTabsForModel();
            showError(message);
        });
}

void MainWindow::updateModelPanel() {
    if (!m_model) {
        m_modelInfo->clear();
        setWindowTitle(tr("Fovea"));
        return;
    }
    QString text = QStringLiteral("<pre style='white-space: pre-wrap'>%1</pre>").arg(QString::fromStdString(m_model->spec().describe()).toHtmlEscaped());
    if (m_outputs) {
        text += tr("<p><b>Prediction</b> (%1 ms)</p><table>").arg(m_outputs->forwardMilliseconds, 0, 'f', 1);
        for (const auto& [index, probability] : m_outputs->topClasses(5)) {
            text += QStringLiteral("<tr><td>%1</td><td align=right>%2%</td></tr>")
                        .arg(QString::fromStdString(m_model->spec().labelOf(index)).toHtmlEscaped())
                        .arg(double(probability) * 100.0, 0, 'f', 2);
        }
        text += "</table>";
    }
    if (m_state.heads.intervened()) {
        QStringList heads;
        for (const HeadScaleEntry& entry : m_state.heads.scales) {
            heads << (entry.scale == 0.0f ? tr("L%1 h%2 off").arg(entry.layer).arg(entry.head)
                                          : tr("L%1 h%2 \u00d7%3").arg(entry.layer).arg(entry.head).arg(double(entry.scale)));
        }
        text += tr("<p><b>Heads intervened</b> (Heads &gt; Reset Heads restores): %1</p>").arg(heads.join(", "));
    }
    m_modelInfo->setHtml(text);
    setWindowTitle(tr("Fovea — %1").arg(QFileInfo(QString::fromStdString(m_state.modelPath)).fileName()));
}

void MainWindow::addInputs(const QStringList& paths) {
    int first = -1;
    QStringList added;
    const QIcon placeholder = style()->standardIcon(QStyle::SP_FileIcon);
    for (const QString& path : paths) {
        const QString absolute = QFileInfo(path).absoluteFilePath();
        const std::string stored = absolute.toStdString();
        if (std::find(m_state.inputs.begin(), m_state.inputs.end(), stored) != m_state.inputs.end()) continue;
        m_state.inputs.push_back(stored);
        auto* item = new QListWidgetItem(placeholder, QFileInfo(path).fileName(), m_gallery);
        item->setToolTip(absolute);
        item->setData(Qt::UserRole, absolute);
        added << absolute;
        if (first < 0) first = int(m_state.inputs.size()) - 1;
    }
    if (!added.isEmpty()) {
        static int batch = 0;
        m_jobs->start(
            QStringLiteral("thumbnails-%1").arg(++batch), tr("Loading thumbnails"),
            [added](Progress& progress) {
                std::vector<std::pair<QString, QImage>> thumbnails;
                for (int i = 0; i < added.size(); ++i) {
                    thumbnails.emplace_back(added[i], thumbnailImage(added[i]));
                    if (!progress.update(double(i + 1) / added.size(), "thumbnails")) break;
                }
                return std::any(thumbnails);
            },
            [this](std::any result) {
                for (const auto& [path, image] : std::any_cast<std::vector<std::pair<QString, QImage>>>(result)) {
                    if (image.isNull()) continue;
                    for (int row = 0; row < m_gallery->count(); ++row) {
                        QListWidgetItem* item = m_gallery->item(row);
                        if (item->data(Qt::UserRole).toString() == path) item->setIcon(QIcon(QPixmap::fromImage(image)));
                    }
                }
            });
    }
    if (first >= 0 && m_state.currentInput < 0) selectInput(first);
}

void MainWindow::selectInput(int index) {
    if (index < 0 || index >= int(m_state.inputs.size())) return;
    m_state.currentInput = index;
    m_syncing = true;
    m_gallery->setCurrentRow(index);
    m_syncing = false;
    m_state.view.query = -1;
    runCurrentInput();
}

void MainWindow::stepInput(int delta) {
    if (m_state.inputs.empty()) return;
    const int count = int(m_state.inputs.size());
    selectInput(((std::max(0, m_state.currentInput) + delta) % count + count) % count);
}

void MainWindow::stepLayer(int delta) {
    if (!m_model) return;
    if (currentView() == "text") return m_text->stepLayer(delta);
    const int layers = viewUsesAttention(m_state.view) ? m_model->spec().depth : m_model->spec().featureLayerCount();
    if (layers <= 0) return;
    const int current = m_state.view.layer < 0 ? layers - 1 : m_state.view.layer;
    m_state.view.layer = std::clamp(current + delta, 0, layers - 1);
    syncInspector();
    updateMap();
}

void MainWindow::stepHead(int delta) {
    if (currentView() == "text") return m_text->stepHead(delta);
    const std::string heads = m_inspector->headsAfter(delta);
    if (heads == m_state.view.heads) return;
    m_state.view.heads = heads;
    syncInspector();
    updateMap();
}

void MainWindow::setQueryFromCell(int row, int col) {
    if (!m_outputs) return;
    const int token = m_outputs->attention.tokens.patchIndex(row, col);
    if (token < 0) return;
    m_state.view.query = token;
    syncInspector();
    updateMap();
}

void MainWindow::runCurrentInput() {
    if (!m_model || m_state.currentInput < 0) {
        if (!m_model) m_view->setPlaceholder(m_state.inputs.empty() ? tr("Open a model and an image") : tr("Open a model"));
        return;
    }
    const std::string path = m_state.inputs[std::size_t(m_state.currentInput)];
    std::shared_ptr<Model> model = m_model;
    const HeadSettings heads = m_state.heads;
    m_jobs->start(
        "forward", tr("Running %1").arg(QFileInfo(QString::fromStdString(path)).fileName()),
        [model, path, heads](Progress&) {
            // The session's head intervention (none: the model as loaded); every later job on the
            // model (maps, comparison, segmentation) runs with it too.
            const ModelSpec& spec = model->spec();
            if (spec.depth > 0 && spec.numHeads > 0) model->setHeadScales(headScalesOf(heads, spec.depth, spec.numHeads));
            auto input = std::make_shared<ImageInput>(loadImageInput(path, model->spec()));
            CaptureRequest request;  // every layer and head, float16
            auto outputs = std::make_shared<ModelOutputs>(model->run(*input, request));
            return std::any(ForwardResult{input, outputs});
        },
        [this, model](std::any result) {
            if (model != m_model) return;  // a different model was opened meanwhile
            auto forward = std::any_cast<ForwardResult>(result);
            m_input = forward.input;
            m_outputs = forward.outputs;
            m_segment->setRun(m_model, m_input);
            m_text->setImage(m_input);
            m_heads->setRun(m_model, m_input, m_outputs, m_state.inputs);
            updateModelPanel();
            syncInspector();
            updateMap();
        },
        [this](const QString& message) {
            m_outputs.reset();
            m_view->setPlaceholder(message);
            showError(message);
        });
}

QString MainWindow::figureTitle() const {
    if (!m_model || !m_outputs) return {};
    return viewTitle(m_model->spec(), *m_outputs, m_state.view);
}

QString MainWindow::currentView() const {
    if (m_tabs->currentWidget() == m_atlas) return "atlas";
    if (m_tabs->currentWidget() == m_compare) return "compare";
    if (m_tabs->currentWidget() == m_volume) return "3d";
    if (m_tabs->currentWidget() == m_segment->view()) return "segment";
    if (m_tabs->currentWidget() == m_gaze) return "gaze";
    if (m_tabs->currentWidget() == m_text->page()) return "text";
    if (m_tabs->currentWidget() == m_heads->page()) {
        const HeadsPage::Page page = m_heads->page()->page();
        return page == HeadsPage::Page::Cloud ? "heads-3d" : page == HeadsPage::Page::Sinks ? "sinks" : "heads";
    }
    return "heatmap";
}

void MainWindow::setCurrentView(const QString& name) {
    QWidget* page = m_view;
    if (name == "atlas") page = m_atlas;
    if (name == "compare") page = m_compare;
    if (name == "3d") page = m_volume;
    if (name == "segment") page = m_segment->view();
    if (name == "gaze") page = m_gaze;
    if (name == "text") page = m_text->page();
    if (name == "heads" || name == "heads-3d" || name == "sinks") {
        page = m_heads->page();
        m_heads->page()->setPage(name == "heads-3d" ? HeadsPage::Page::Cloud
                                 : name == "sinks"  ? HeadsPage::Page::Sinks
                                                    : HeadsPage::Page::Scatter);
    }
    if (!m_tabs->isTabEnabled(m_tabs->indexOf(page))) {
        // Say why instead of switching to a page this model cannot fill.
        m_message->setText(m_tabs->tabToolTip(m_tabs->indexOf(page)));
        return;
    }
    m_tabs->setCurrentWidget(page);
}

void MainWindow::openFixations(const QString& path) {
    try {
        m_gaze->openFixations(path);
        setCurrentView("gaze");
        m_message->setText(tr("%1: %2 scanpaths on %3 images").arg(QFileInfo(path).fileName()).arg(m_gaze->dataset().scanpathCount())
                               .arg(m_gaze->dataset().stimuli().size()));
    } catch (const Error& error) {
        showError(QString::fromStdString(error.what()));
    }
}

void MainWindow::setMethod(const std::string& name) {
    m_state.view.method = name;
    syncInspector();
    updateMap();
}

void MainWindow::updateAtlas() {
    if (!m_outputs || !m_input || m_outputs->attention.empty()) return;
    const std::shared_ptr<const ModelOutputs> outputs = m_outputs;
    const std::shared_ptr<const ImageInput> input = m_input;
    const ViewSettings view = m_state.view;
    const int head = view.heads == "mean" || view.heads == "max" || view.heads == "min" ? -1 : std::stoi(view.heads);
    const int layer = view.layer < 0 ? (m_model ? m_model->spec().depth - 1 : 0) : view.layer;
    m_jobs->start(
        "atlas", tr("Drawing the atlas"),
        [outputs, input, view, head, layer](Progress&) {
            return std::any(buildAtlasFigure(*input, *outputs, view, AtlasCell{layer, head}));
        },
        [this](std::any result) {
            m_atlas->setAtlas(std::any_cast<AtlasPainter>(result));
            Q_EMIT atlasUpdated();
        });
}

void MainWindow::updateVolume() {
    if (!m_outputs || m_outputs->attention.empty()) return;
    const std::shared_ptr<const ModelOutputs> outputs = m_outputs;
    const ViewSettings view = m_state.view;
    m_jobs->start(
        "volume", tr("Building the attention volume"),
        [outputs, view](Progress&) {
            int query = view.query;
            if (query < 0) query = std::max(0, outputs->attention.tokens.firstOf(TokenKind::Cls));
            const HeadSelection heads = HeadSelection::parse(view.heads);
            std::vector<cv::Mat> layers;
            for (const AttentionLayer& layer : outputs->attention.layers) {
                layers.push_back(rawAttentionMap(outputs->attention, layer.layer, heads, query));
            }
            return std::any(layers);
        },
        [this, view](std::any result) {
            m_volume->setVolume(std::any_cast<std::vector<cv::Mat>>(result), view.figure.colormap);
            Q_EMIT volumeUpdated();
        });
}

void MainWindow::updateModelLevelMap() {
    ViewSettings view = m_state.view;
    view.figure.title = figureTitle().toStdString();
    std::ostringstream key;
    key << static_cast<const void*>(m_model.get()) << '|' << static_cast<const void*>(m_input.get()) << '|' << view.method << '|' << view.layer;
    for (const auto& [name, value] : viewParams(findExplainer(view.method), view)) key << '|' << name << '=' << value;
    const auto show = [this](const cv::Mat& map, const ViewSettings& settings) {
        try {
            m_view->setFigure(buildHeatmapFigure(*m_input, map, settings));
            m_lastError.clear();
            Q_EMIT figureUpdated();
        } catch (const std::exception& error) {
            const QString message = QString::fromStdString(error.what()).section('\n', 0, 0);
            m_view->setPlaceholder(message);
            showError(message);
        }
    };
    if (m_modelLevelMap.key == key.str() && !m_modelLevelMap.map.empty()) {
        m_jobs->cancelLane("map");
        show(m_modelLevelMap.map, view);
        return;
    }
    const std::shared_ptr<Model> model = m_model;
    const std::shared_ptr<const ImageInput> input = m_input;
    const std::string cacheKey = key.str();
    m_jobs->start(
        "map", tr("Computing %1").arg(QString::fromStdString(findExplainer(view.method).title())),
        [model, input, view](Progress& progress) { return std::any(computeViewMap(*model, *input, nullptr, view, -1, &progress)); },
        [this, model, input, view, cacheKey, show](std::any result) {
            if (model != m_model || input != m_input) return;
            const ViewMap computed = std::any_cast<ViewMap>(result);
            m_modelLevelMap = {cacheKey, computed.map};
            show(computed.map, view);
            QStringList notes;
            for (const auto& [name, value] : computed.notes) {
                notes << QStringLiteral("%1: %2").arg(QString::fromStdString(name).replace('_', ' ')).arg(value, 0, 'g', 4);
            }
            m_inspector->setMethodFindings(notes.join('\n'));
        },
        [this](const QString& message) {
            m_view->setPlaceholder(message);
            showError(message);
        });
}

void MainWindow::updateMap() {
    if (!m_outputs || !m_input) return;
    if (!viewUsesAttention(m_state.view)) {
        updateModelLevelMap();
        updateAtlas();
        updateVolume();
        if (!m_state.comparison.empty()) updateComparison();
        return;
    }
    if (viewNeedsGradients(m_state.view) && !m_outputs->attention.hasGradients()) {
        // Run the input once more, keeping d(top-1 logit)/d(attention) as well.
        const std::shared_ptr<Model> model = m_model;
        const std::shared_ptr<const ImageInput> input = m_input;
        m_jobs->start(
            "forward", tr("Computing attention gradients"),
            [model, input](Progress&) {
                CaptureRequest request;
                request.gradients = true;
                return std::any(std::make_shared<const ModelOutputs>(model->run(*input, request)));
            },
            [this, model, input](std::any result) {
                if (model != m_model || input != m_input) return;
                m_outputs = std::any_cast<std::shared_ptr<const ModelOutputs>>(result);
                updateMap();
            },
            [this](const QString& message) {
                m_view->setPlaceholder(message);
                showError(message);
            });
        return;
    }
    const std::shared_ptr<const ModelOutputs> outputs = m_outputs;
    const std::shared_ptr<const ImageInput> input = m_input;
    ViewSettings view = m_state.view;
    view.figure.title = figureTitle().toStdString();
    // Small maps are cheaper than a trip through the worker: raw attention is O(tokens^2), the
    // rollout-like methods O(layers x tokens^3). Under ~3 M multiply-adds (a few ms at most)
    // the map is made right here; larger ones (ViT-B rollout: 92 M) go to the worker.
    const double tokens = outputs->attention.tokens.size();
    const double cost = view.method == "raw" ? tokens * tokens : double(outputs->attention.modelLayers) * tokens * tokens * tokens;
    if (cost < 3e6) {
        m_jobs->cancelLane("map");
        try {
            m_view->setFigure(buildHeatmapFigure(*input, *outputs, view));
            m_lastError.clear();
            Q_EMIT figureUpdated();
        } catch (const std::exception& error) {
            const QString message = QString::fromStdString(error.what()).section('\n', 0, 0);
            m_view->setPlaceholder(message);
            showError(message);
        }
        updateAtlas();
        updateVolume();
        if (!m_state.comparison.empty()) updateComparison();
        return;
    }
    m_jobs->start(
        "map", tr("Computing %1 map").arg(QString::fromStdString(view.method)),
        [outputs, input, view](Progress&) { return std::any(buildHeatmapFigure(*input, *outputs, view)); },
        [this](std::any result) {
            m_lastError.clear();
            m_view->setFigure(std::any_cast<HeatmapPainter>(result));
            Q_EMIT figureUpdated();
        },
        [this](const QString& message) {
            m_view->setPlaceholder(message);
            showError(message);
        });
    // The heatmap goes first (one worker runs jobs in order); the other views follow.
    updateAtlas();
    updateVolume();
    if (!m_state.comparison.empty()) updateComparison();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    m_jobs->cancelAll();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    QStringList images;
    for (const QUrl& url : event->mimeData()->urls()) {
        const QString path = url.toLocalFile();
        if (path.isEmpty()) continue;
        if (isModelPath(path)) {
            openModel(path);
        } else if (path.endsWith(".fovea")) {
            openSession(path);
        } else if (QFileInfo(path).isDir()) {
            for (const QFileInfo& info : QDir(path).entryInfoList(imageFilters(), QDir::Files, QDir::Name)) {
                images << info.absoluteFilePath();
            }
        } else {
            images << path;
        }
    }
    addInputs(images);
    event->acceptProposedAction();
}

}  // namespace fovea
