#include "widgets/segment_controller.h"

#include "core/io/image_io.h"
#include "core/model/model.h"
#include "core/segment/ground_truth.h"
#include "core/util/error.h"
#include "core/util/progress.h"
#include "widgets/figure_export.h"
#include "widgets/job_runner.h"
#include "widgets/segment_figure.h"
#include "widgets/segment_view.h"

#include <QFileDialog>
#include <QFileInfo>

#include <any>

namespace fovea {
namespace {

struct SegmentJobResult {
    std::shared_ptr<const SegmentOutcome> outcome;
    SegmentPainter figure;
};

}  // namespace

SegmentController::SegmentController(SegmentSettings& settings, JobRunner* jobs, QWidget* parent)
    : QObject(parent), m_settings(settings), m_jobs(jobs), m_view(new SegmentView(parent)) {
    m_view->setObjectName("segment-view");
    connect(m_view, &SegmentView::settingsEdited, this, &SegmentController::applySettings);
    connect(m_view, &SegmentView::shown, this, [this] {
        if (m_stale) requestUpdate();
    });
    connect(m_view, &SegmentView::groundTruthOpenRequested, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            m_view, tr("Open the ground truth of this image"), QString(),
            tr("Label masks or COCO annotations (*.png *.bmp *.tif *.tiff *.json);;All files (*)"));
        if (!path.isEmpty()) openGroundTruth(path);
    });
    connect(m_view, &SegmentView::groundTruthClearRequested, this, &SegmentController::clearGroundTruth);
    connect(m_view, &SegmentView::labelMaskExportRequested, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(m_view, tr("Export label mask"), "labels.png", tr("PNG (*.png)"));
        if (path.isEmpty()) return;
        try {
            exportLabelMask(path);
        } catch (const Error& error) {
            Q_EMIT errorOccurred(QString::fromStdString(error.what()));
        }
    });
    m_view->setPlaceholder(tr("Open a model and an image"));
    syncView();
}

const SegmentPainter& SegmentController::figure() const {
    return m_view->figure();
}

std::string SegmentController::inputPath() const {
    return m_input ? m_input->source : std::string();
}

void SegmentController::setRun(std::shared_ptr<Model> model, std::shared_ptr<const ImageInput> input) {
    if (model == m_model && input == m_input) return;
    m_model = std::move(model);
    m_input = std::move(input);
    m_stale = true;
    syncView();
    requestUpdate();
}

void SegmentController::syncFromSettings() {
    m_stale = true;
    syncView();
}

void SegmentController::syncView() {
    const std::string truth = m_settings.groundTruthFor(inputPath());
    m_view->setSettings(m_settings, m_model ? m_model->spec().depth : 0,
                        truth.empty() ? QString() : QFileInfo(QString::fromStdString(truth)).fileName());
}

bool SegmentController::needsRecompute(const SegmentSettings& next) const {
    if (m_stale || !m_outcome) return true;
    const auto paramsOf = [](const SegmentSettings& settings) {
        const auto found = settings.params.find(settings.method);
        return found == settings.params.end() ? SegmentParams{} : found->second;
    };
    return next.method != m_computedWith.method || paramsOf(next) != paramsOf(m_computedWith) ||
           next.layer != m_computedWith.layer || next.mapMethod != m_computedWith.mapMethod ||
           next.groundTruthFor(inputPath()) != m_computedWith.groundTruthFor(inputPath());
}

void SegmentController::applySettings(const SegmentSettings& settings) {
    const bool recompute = needsRecompute(settings);
    m_settings = settings;
    syncView();
    if (recompute) {
        m_stale = true;
        requestUpdate();
        return;
    }
    // Display only: the paths stay, the style changes.
    SegmentPainter restyled = m_view->figure();
    restyled.setStyle(segmentStyle(m_settings, *m_outcome));
    m_view->setFigure(restyled);
    Q_EMIT segmentUpdated();
}

void SegmentController::requestUpdate() {
    if (!m_model || !m_input) return;
    // Hidden: the work waits until the tab is shown (SegmentView::shown).
    if (!m_view->isVisible()) return;
    startJob();
}

void SegmentController::startJob() {
    const std::shared_ptr<Model> model = m_model;
    const std::shared_ptr<const ImageInput> input = m_input;
    const SegmentSettings settings = m_settings;
    m_jobs->start(
        "segment", tr("Segmenting (%1)").arg(QString::fromStdString(settings.method)),
        [model, input, settings](Progress& progress) {
            auto result = std::make_shared<SegmentJobResult>();
            auto outcome =
                std::make_shared<SegmentOutcome>(runSegmentation(*model, *input, settings, input->source, progress));
            result->figure = buildSegmentFigure(*input, *outcome, settings);
            result->outcome = std::move(outcome);
            return std::any(result);
        },
        [this, model, input, settings](std::any value) {
            if (model != m_model || input != m_input) return;
            auto result = std::any_cast<std::shared_ptr<SegmentJobResult>>(value);
            m_outcome = result->outcome;
            m_computedWith = settings;
            m_stale = false;
            // Display edits made while the job ran apply to the new picture too.
            result->figure.setStyle(segmentStyle(m_settings, *m_outcome));
            m_view->setFigure(result->figure);
            Q_EMIT segmentUpdated();
        },
        [this](const QString& message) {
            // Shown in place of the figure and in the status bar, without a dialog: a method that
            // cannot run on this model (keys of a CNN) would otherwise interrupt every input switch.
            m_view->setPlaceholder(message);
            Q_EMIT messageChanged(message);
        });
}

void SegmentController::openGroundTruth(const QString& path) {
    if (!m_model || !m_input) {
        Q_EMIT errorOccurred(tr("Open a model and an image before their ground truth"));
        return;
    }
    const std::shared_ptr<Model> model = m_model;
    const std::shared_ptr<const ImageInput> input = m_input;
    const std::string file = QFileInfo(path).absoluteFilePath().toStdString();
    m_jobs->start(
        "segment-truth", tr("Reading %1").arg(QFileInfo(path).fileName()),
        [model, input, file](Progress&) {
            // Read once here so a bad file is reported now, not by every later segmentation.
            readGroundTruth(file, input->source, model->spec(), input->view.size());
            return std::any();
        },
        [this, input, file](std::any) {
            if (input != m_input) return;
            SegmentSettings settings = m_settings;
            settings.groundTruth[input->source] = file;
            applySettings(settings);
            Q_EMIT messageChanged(tr("Ground truth: %1").arg(QString::fromStdString(file)));
        },
        [this](const QString& message) { Q_EMIT errorOccurred(message); });
}

void SegmentController::clearGroundTruth() {
    SegmentSettings settings = m_settings;
    settings.groundTruth.erase(inputPath());
    applySettings(settings);
}

void SegmentController::exportLabelMask(const QString& path) {
    if (!m_outcome || !m_input) {
        throw Error(path.toStdString(), "no segmentation to export yet (open a model and an image)");
    }
    // At the size the model saw, as `fovea segment` writes them.
    writeImage(path.toStdString(), labelMaskImage(resizeLabels(m_outcome->result.labels, m_input->view.size())));
    Q_EMIT messageChanged(tr("Wrote %1").arg(path));
}

void SegmentController::exportFigure(const QString& path, int dpi) const {
    if (!m_outcome) throw Error(path.toStdString(), "no segmentation to export yet (open a model and an image)");
    const SegmentPainter& shown = figure();
    exportPainting([&shown](QPainter& painter, const QRectF& target) { shown.paint(painter, target); }, path,
                   shown.preferredSize(), dpi, shown.style().title);
}

}  // namespace fovea
