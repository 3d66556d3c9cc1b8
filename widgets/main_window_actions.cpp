// MainWindow's menus, toolbar and shortcuts (buildActions), and what the File menu does with
// sessions and figures: open / save a session, the recent-sessions menu, export the current view;
// which pages a model can fill (updateTabsForModel).
// The rest of the window is in main_window.cpp.
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

void MainWindow::buildActions() {
    auto* file = menuBar()->addMenu(tr("&File"));
    auto* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName("main-toolbar");
    auto add = [this](QMenu* menu, const QString& text, const QKeySequence& keys, QStyle::StandardPixmap icon,
                      auto slot) {
        auto* action = menu->addAction(style()->standardIcon(icon), text);
        action->setShortcut(keys);
        connect(action, &QAction::triggered, this, slot);
        return action;
    };
    auto* openModelAction = add(file, tr("Open &Model..."), QKeySequence(tr("Ctrl+M")), QStyle::SP_DirOpenIcon, [this] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("Open a model folder"));
        if (!path.isEmpty()) openModel(path);
    });
    auto* openImages = add(file, tr("Open &Images..."), QKeySequence::Open, QStyle::SP_FileDialogStart, [this] {
        const QStringList paths = QFileDialog::getOpenFileNames(this, tr("Open images"), QString(),
                                                                tr("Images (%1)").arg(imageFilters().join(' ')));
        addInputs(paths);
    });
    add(file, tr("Open Image &Folder..."), QKeySequence(tr("Ctrl+Shift+O")), QStyle::SP_DirIcon, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a folder of images"));
        if (dir.isEmpty()) return;
        QStringList paths;
        for (const QFileInfo& info : QDir(dir).entryInfoList(imageFilters(), QDir::Files, QDir::Name)) {
            paths << info.absoluteFilePath();
        }
        addInputs(paths);
    });
    add(file, tr("Open &Fixations..."), QKeySequence(tr("Ctrl+Shift+F")), QStyle::SP_FileDialogContentsView, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open eye-tracking data"), QString(),
                                                          tr("Gaze data (*.json *.asc *.tsv *.csv *.txt)"));
        if (!path.isEmpty()) openFixations(path);
    });
    file->addSeparator();
    add(file, tr("Open &Session..."), QKeySequence(tr("Ctrl+Shift+S")), QStyle::SP_DialogOpenButton, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a session"), QString(), tr("Fovea sessions (*.fovea)"));
        if (!path.isEmpty()) openSession(path);
    });
    m_recentMenu = file->addMenu(tr("Recent Sessions"));
    rebuildRecentMenu();
    auto* save = add(file, tr("&Save Session"), QKeySequence::Save, QStyle::SP_DialogSaveButton, [this] {
        QString path = m_sessionPath;
        if (path.isEmpty()) path = QFileDialog::getSaveFileName(this, tr("Save session"), "session.fovea", tr("Fovea sessions (*.fovea)"));
        if (!path.isEmpty()) saveSession(path);
    });
    add(file, tr("Save Session &As..."), QKeySequence::SaveAs, QStyle::SP_DialogSaveButton, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save session"), "session.fovea", tr("Fovea sessions (*.fovea)"));
        if (!path.isEmpty()) saveSession(path);
    });
    file->addSeparator();
    auto* exportAction = add(file, tr("&Export Figure..."), QKeySequence(tr("Ctrl+E")), QStyle::SP_DialogSaveButton, [this] {
        QString selected;
        const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), "figure.pdf",
                                                          tr("PDF (*.pdf);;SVG (*.svg);;PNG, 300 dpi (*.png)"), &selected);
        if (!path.isEmpty()) exportFigure(path);
    });
    add(file, tr("&Copy Figure"), QKeySequence(tr("Ctrl+Shift+C")), QStyle::SP_FileIcon, [this] {
        const QSizeF size = figure().preferredSize();
        QImage image((size * 2).toSize(), QImage::Format_RGB32);
        image.fill(Qt::white);
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.scale(2, 2);
        figure().paint(painter, QRectF(QPointF(0, 0), size));
        painter.end();
        QApplication::clipboard()->setImage(image);
        m_message->setText(tr("Figure copied to the clipboard"));
    });
    file->addSeparator();
    add(file, tr("&Quit"), QKeySequence::Quit, QStyle::SP_DialogCloseButton, [this] { close(); });

    auto* viewMenu = menuBar()->addMenu(tr("&View"));
    add(viewMenu, tr("Next Input"), QKeySequence(Qt::Key_PageDown), QStyle::SP_ArrowDown, [this] { stepInput(1); });
    add(viewMenu, tr("Previous Input"), QKeySequence(Qt::Key_PageUp), QStyle::SP_ArrowUp, [this] { stepInput(-1); });
    add(viewMenu, tr("Next Layer"), QKeySequence(Qt::Key_BracketRight), QStyle::SP_ArrowRight, [this] { stepLayer(1); });
    add(viewMenu, tr("Previous Layer"), QKeySequence(Qt::Key_BracketLeft), QStyle::SP_ArrowLeft, [this] { stepLayer(-1); });
    add(viewMenu, tr("Next Head"), QKeySequence(Qt::Key_Period), QStyle::SP_ArrowForward, [this] { stepHead(1); });
    add(viewMenu, tr("Previous Head"), QKeySequence(Qt::Key_Comma), QStyle::SP_ArrowBack, [this] { stepHead(-1); });
    add(viewMenu, tr("Next Method"), QKeySequence(Qt::Key_R), QStyle::SP_BrowserReload, [this] {
        m_state.view.method = m_inspector->nextMethod();
        syncInspector();
        updateMap();
    });
    add(viewMenu, tr("Query CLS"), QKeySequence(Qt::Key_Escape), QStyle::SP_DialogResetButton, [this] {
        m_state.view.query = -1;
        syncInspector();
        updateMap();
    });
    add(viewMenu, tr("Heatmap"), QKeySequence(tr("Ctrl+1")), QStyle::SP_FileDialogContentsView, [this] { setCurrentView("heatmap"); });
    add(viewMenu, tr("Layer x Head Atlas"), QKeySequence(tr("Ctrl+2")), QStyle::SP_FileDialogDetailedView, [this] { setCurrentView("atlas"); });
    add(viewMenu, tr("Comparison"), QKeySequence(tr("Ctrl+3")), QStyle::SP_FileDialogListView, [this] { setCurrentView("compare"); });
    add(viewMenu, tr("3D Attention Volume"), QKeySequence(tr("Ctrl+4")), QStyle::SP_DesktopIcon, [this] { setCurrentView("3d"); });
    add(viewMenu, tr("Segmentation"), QKeySequence(tr("Ctrl+5")), QStyle::SP_FileDialogInfoView,
        [this] { setCurrentView("segment"); });
    add(viewMenu, tr("Gaze"), QKeySequence(tr("Ctrl+6")), QStyle::SP_FileDialogInfoView, [this] { setCurrentView("gaze"); });
    add(viewMenu, tr("Text"), QKeySequence(tr("Ctrl+7")), QStyle::SP_FileDialogDetailedView, [this] { setCurrentView("text"); });
    add(viewMenu, tr("Heads"), QKeySequence(tr("Ctrl+8")), QStyle::SP_FileDialogListView, [this] { setCurrentView("heads"); });
    add(viewMenu, tr("Add to Comparison"), QKeySequence(tr("Ctrl+D")), QStyle::SP_FileDialogNewFolder, [this] { addToComparison(); });
    add(viewMenu, tr("Clear Comparison"), QKeySequence(tr("Ctrl+Shift+D")), QStyle::SP_TrashIcon, [this] { clearComparison(); });
    add(viewMenu, tr("Compare All Methods"), QKeySequence(tr("Ctrl+Shift+M")), QStyle::SP_FileDialogContentsView,
        [this] { compareAllMethods(); });
    m_sharedRangeAction = viewMenu->addAction(tr("Shared Colour Scale in Comparison"));
    m_sharedRangeAction->setCheckable(true);
    m_sharedRangeAction->setChecked(m_state.comparisonSharedRange);
    connect(m_sharedRangeAction, &QAction::toggled, this, [this](bool on) {
        if (on != m_state.comparisonSharedRange) setComparisonSharedRange(on);
    });
    add(viewMenu, tr("Reset Zoom"), QKeySequence(tr("Ctrl+0")), QStyle::SP_TitleBarNormalButton, [this] { m_view->resetView(); });
    viewMenu->addSeparator();
    for (QDockWidget* dock : findChildren<QDockWidget*>()) viewMenu->addAction(dock->toggleViewAction());
    add(viewMenu, tr("Reset Layout"), QKeySequence(), QStyle::SP_DialogResetButton, [this] { resetLayout(); });

    auto* headsMenu = menuBar()->addMenu(tr("H&eads"));
    add(headsMenu, tr("Heads Scatter"), QKeySequence(), QStyle::SP_FileDialogListView, [this] { setCurrentView("heads"); });
    add(headsMenu, tr("Heads in 3D"), QKeySequence(), QStyle::SP_DesktopIcon, [this] { setCurrentView("heads-3d"); });
    add(headsMenu, tr("Sink Timeline"), QKeySequence(), QStyle::SP_FileDialogDetailedView, [this] { setCurrentView("sinks"); });
    headsMenu->addSeparator();
    add(headsMenu, tr("Switch Off Selected Heads"), QKeySequence(tr("Ctrl+Shift+K")), QStyle::SP_MediaStop, [this] {
        if (m_heads->selection().empty()) {
            showError(tr("Select heads first (click or lasso them in the atlas or the Heads scatter)"));
            return;
        }
        try {
            m_heads->setHeadScales(m_heads->selection(), 0.0f);
        } catch (const Error& error) {
            showError(QString::fromStdString(error.what()));
        }
    });
    add(headsMenu, tr("Restore Selected Heads"), QKeySequence(), QStyle::SP_MediaPlay, [this] {
        try {
            m_heads->setHeadScales(m_heads->selection(), 1.0f);
        } catch (const Error& error) {
            showError(QString::fromStdString(error.what()));
        }
    });
    add(headsMenu, tr("Reset Heads"), QKeySequence(tr("Ctrl+Shift+H")), QStyle::SP_DialogResetButton, [this] { m_heads->resetHeads(); });

    auto* help = menuBar()->addMenu(tr("&Help"));
    add(help, tr("&About Fovea"), QKeySequence(), QStyle::SP_MessageBoxInformation, [this] {
        QMessageBox::about(this, tr("About Fovea"),
                           tr("<b>Fovea</b> %1<br>Visual analytics for attention in vision and language transformers.")
                               .arg(QApplication::applicationVersion()));
    });

    toolbar->addAction(openModelAction);
    toolbar->addAction(openImages);
    toolbar->addAction(save);
    toolbar->addAction(exportAction);
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList recent = QSettings().value("sessions/recent").toStringList();
    for (const QString& path : recent) {
        m_recentMenu->addAction(QFileInfo(path).fileName(), this, [this, path] { openSession(path); })->setToolTip(path);
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::addRecentSession(const QString& path) {
    QSettings settings;
    QStringList recent = settings.value("sessions/recent").toStringList();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    recent.removeAll(absolute);
    recent.prepend(absolute);
    while (recent.size() > 8) recent.removeLast();
    settings.setValue("sessions/recent", recent);
    rebuildRecentMenu();
}

bool MainWindow::openSession(const QString& path) {
    SessionLoad load;
    try {
        load = loadSession(path.toStdString());
    } catch (const Error& error) {
        showError(QString::fromStdString(error.what()));
        return false;
    }
    m_jobs->cancelAll();
    m_sessionPath = path;
    m_model.reset();
    m_state = SessionState{};
    m_state.view = load.state.view;
    m_state.comparison = load.state.comparison;
    m_state.comparisonInputs = load.state.comparisonInputs;
    m_state.segment = load.state.segment;
    m_segment->syncFromSettings();
    m_state.text = load.state.text;
    m_text->syncFromSettings();
    m_state.heads = load.state.heads;
    m_heads->syncFromSettings();
    m_otherInputs.clear();
    setComparisonSharedRange(load.state.comparisonSharedRange);
    m_gallery->clear();
    m_input.reset();
    m_outputs.reset();
    QStringList inputs;
    for (const std::string& input : load.state.inputs) inputs << QString::fromStdString(input);
    m_syncing = true;
    addInputs(inputs);
    m_syncing = false;
    m_state.currentInput = load.state.currentInput;
    m_syncing = true;
    m_gallery->setCurrentRow(m_state.currentInput);
    m_syncing = false;
    const int query = load.state.view.query;
    syncInspector();
    if (!load.state.modelPath.empty() && std::filesystem::exists(load.state.modelPath)) {
        m_state.modelPath = load.state.modelPath;
        m_state.view.query = query;
        openModel(QString::fromStdString(load.state.modelPath));
    } else {
        m_state.modelPath = load.state.modelPath;
        m_view->setPlaceholder(tr("Open a model"));
    }
    addRecentSession(path);
    if (!load.warnings.empty()) {
        QStringList lines;
        for (const std::string& warning : load.warnings) lines << QString::fromStdString(warning);
        showError(tr("%1: %2").arg(QFileInfo(path).fileName(), lines.join("; ")));
    } else {
        m_message->setText(tr("Opened %1").arg(path));
    }
    return true;
}

bool MainWindow::saveSession(const QString& path) {
    try {
        fovea::saveSession(path.toStdString(), m_state);
    } catch (const Error& error) {
        showError(QString::fromStdString(error.what()));
        return false;
    }
    m_sessionPath = path;
    addRecentSession(path);
    m_message->setText(tr("Saved %1").arg(path));
    return true;
}

void MainWindow::exportFigure(const QString& path, int dpi) {
    try {
        if (currentView() == "3d") {
            if (!path.endsWith(".png", Qt::CaseInsensitive)) {
                throw Error(path.toStdString(), "the 3D view exports PNG only (it is a rendered picture)");
            }
            if (!m_volume->available()) {
                throw Error(path.toStdString(), "3D view unavailable: " + m_volume->unavailableReason().toStdString());
            }
            const QImage image = m_volume->grabImage();
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit()) {
                throw Error(path.toStdString(), "cannot write: " + file.errorString().toStdString());
            }
        } else if (currentView() == "gaze") {
            m_gaze->exportFigure(path, dpi);
        } else if (currentView() == "text") {
            m_text->exportFigure(path, dpi);
        } else if (currentView() == "heads" || currentView() == "heads-3d" || currentView() == "sinks") {
            m_heads->exportFigure(path, dpi);
        } else if (currentView() == "compare") {
            const ComparePainter& comparison = m_compare->comparison();
            if (comparison.panels().empty()) throw Error(path.toStdString(), "the comparison is empty (View > Add to Comparison)");
            exportPainting([&comparison](QPainter& painter, const QRectF& target) { comparison.paint(painter, target); },
                           path, comparison.preferredSize(), dpi, tr("Comparison"));
        } else if (currentView() == "segment") {
            m_segment->exportFigure(path, dpi);
        } else if (currentView() == "atlas") {
            const AtlasPainter& atlas = m_atlas->atlas();
            exportPainting([&atlas](QPainter& painter, const QRectF& target) { atlas.paint(painter, target); }, path,
                           atlas.preferredSize(), dpi, tr("Layer x head atlas"));
        } else {
            fovea::exportFigure(figure(), path, {}, dpi);
        }
        m_message->setText(tr("Exported %1").arg(path));
    } catch (const Error& error) {
        showError(QString::fromStdString(error.what()));
    }
}

void MainWindow::updateTabsForModel() {
    const bool images = !m_model || m_model->accepts(InputKind::Image);
    const bool text = !m_model || m_model->accepts(InputKind::Text);
    const QString model = QFileInfo(QString::fromStdString(m_state.modelPath)).fileName();
    const auto available = [this](QWidget* page, bool on, const QString& why) {
        const int index = m_tabs->indexOf(page);
        m_tabs->setTabEnabled(index, on);
        m_tabs->setTabToolTip(index, on ? QString() : why);
    };
    const QString noImages = tr("%1 takes no images: its attention is on the Text and Heads tabs").arg(model);
    const std::vector<QWidget*> imagePages = {m_view, m_atlas, m_compare, m_volume, m_segment->view()};
    for (QWidget* page : imagePages) available(page, images, noImages);
    available(m_text->page(), text, tr("%1 takes no text: its attention is on the image tabs").arg(model));
    // The inspector's settings and the image list are for image runs only.
    m_inspector->setEnabled(images);
    m_inspector->setToolTip(images ? QString() : noImages);
    m_gallery->setEnabled(images);
    m_gallery->setToolTip(images ? QString() : noImages);
    if (!m_tabs->isTabEnabled(m_tabs->currentIndex())) setCurrentView(images ? "heatmap" : "text");
}

}  // namespace fovea
