// MainWindow's comparison view: every method at once, adding and clearing panels, the shared
// colour range, and recomputing the panels (as jobs) when the input or the model changes.
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

void MainWindow::compareAllMethods() {
    if (!m_model) {
        showError(tr("Open a model first"));
        return;
    }
    m_state.comparison = allMethodViews(m_state.view, m_model->spec());
    m_state.comparisonInputs.assign(m_state.comparison.size(), std::string());
    setCurrentView("compare");
    // Methods measure in different units: one colour scale per panel.
    if (m_state.comparisonSharedRange) {
        setComparisonSharedRange(false);  // redraws
    } else {
        updateComparison();
    }
}

void MainWindow::addToComparison() {
    if (int(m_state.comparison.size()) >= kMaxComparison) {
        showError(tr("The comparison holds at most %1 views; clear it first (View > Clear Comparison)").arg(kMaxComparison));
        return;
    }
    m_state.comparison.push_back(m_state.view);
    m_state.comparisonInputs.resize(m_state.comparison.size() - 1);
    m_state.comparisonInputs.push_back(m_state.currentInput >= 0 ? m_state.inputs[std::size_t(m_state.currentInput)] : std::string());
    setCurrentView("compare");
    updateComparison();
}

void MainWindow::clearComparison() {
    m_state.comparison.clear();
    m_state.comparisonInputs.clear();
    m_otherInputs.clear();
    updateComparison();
}

void MainWindow::setComparisonSharedRange(bool shared) {
    m_state.comparisonSharedRange = shared;
    if (m_sharedRangeAction) m_sharedRangeAction->setChecked(shared);
    updateComparison();
}

void MainWindow::updateComparison() {
    if (!m_outputs || !m_input || !m_model) {
        m_compare->setComparison(ComparePainter{});
        return;
    }
    using Run = std::pair<std::shared_ptr<const ImageInput>, std::shared_ptr<const ModelOutputs>>;
    const std::string current = m_state.currentInput >= 0 ? m_state.inputs[std::size_t(m_state.currentInput)] : std::string();
    // Each panel shows its own input: the current one, one seen before, or one run in the job.
    std::vector<std::string> panelInputs = m_state.comparisonInputs;
    panelInputs.resize(m_state.comparison.size());
    std::map<std::string, Run> known = m_otherInputs;
    known[current] = {m_input, m_outputs};
    known[std::string()] = {m_input, m_outputs};
    std::shared_ptr<Model> model = m_model;
    std::vector<ViewSettings> panels = m_state.comparison;
    const bool shared = m_state.comparisonSharedRange;
    struct Result {
        ComparePainter comparison;
        std::map<std::string, Run> ran;
    };
    m_jobs->start(
        "compare", tr("Drawing the comparison"),
        [model, known, panelInputs, panels, shared](Progress& progress) mutable {
            Result result;
            std::vector<HeatmapPainter> figures;
            for (std::size_t i = 0; i < panels.size(); ++i) {
                auto found = known.find(panelInputs[i]);
                if (found == known.end()) {
                    auto input = std::make_shared<ImageInput>(loadImageInput(panelInputs[i], model->spec()));
                    auto outputs = std::make_shared<ModelOutputs>(model->run(*input, CaptureRequest()));
                    found = known.emplace(panelInputs[i], Run{input, outputs}).first;
                    result.ran[panelInputs[i]] = found->second;
                }
                ViewSettings panel = panels[i];
                const QString name = panelInputs[i].empty() ? QString()
                                                             : QFileInfo(QString::fromStdString(panelInputs[i])).fileName() + ": ";
                panel.figure.title = (name + viewTitle(model->spec(), *found->second.second, panel)).toStdString();
                SliceProgress part(progress, double(i) / double(panels.size()), double(i + 1) / double(panels.size()));
                const ViewMap map = computeViewMap(*model, *found->second.first, found->second.second.get(), panel, -1, &part);
                figures.push_back(buildHeatmapFigure(*found->second.first, map.map, panel));
                if (!progress.update(double(i + 1) / double(panels.size()), "comparison")) throw Cancelled();
            }
            result.comparison.setPanels(std::move(figures));
            if (shared) result.comparison.shareRange();
            return std::any(std::make_shared<Result>(std::move(result)));
        },
        [this, model](std::any value) {
            auto result = std::any_cast<std::shared_ptr<Result>>(value);
            if (model == m_model) {
                for (auto& [path, run] : result->ran) m_otherInputs[path] = run;
            }
            m_compare->setComparison(result->comparison);
            Q_EMIT comparisonUpdated();
        });
}

}  // namespace fovea
