#include "widgets/heads_controller.h"

#include "core/model/model.h"
#include "core/util/error.h"
#include "core/util/progress.h"
#include "widgets/atlas_view.h"
#include "widgets/figure_export.h"
#include "widgets/head_cloud_view.h"
#include "widgets/head_figures.h"
#include "widgets/head_importance.h"
#include "widgets/head_scatter_view.h"
#include "widgets/heads_page.h"
#include "widgets/job_runner.h"

#include <QSaveFile>

#include <any>
#include <sstream>

namespace fovea {
namespace {

HeadSet selectionOf(const HeadSettings& settings) {
    HeadSet selection;
    for (const auto& [layer, head] : settings.selection) selection.insert({layer, head});
    return selection;
}

}  // namespace

HeadsController::HeadsController(HeadSettings& settings, JobRunner* jobs, AtlasView* atlas,
                                 QWidget* parent)
    : QObject(parent),
      m_settings(settings),
      m_jobs(jobs),
      m_atlas(atlas),
      m_page(new HeadsPage(parent)) {
    m_page->setObjectName("heads-page");
    connect(m_page, &HeadsPage::settingsEdited, this, [this](const HeadSettings& edited) {
        m_settings.embedding = edited.embedding;
        m_settings.scatterColouring = edited.scatterColouring;
        m_settings.clusters = edited.clusters;
        m_page->setSettings(m_settings);
        requestAnalysis();
    });
    connect(m_page, &HeadsPage::clearSelectionRequested, this, [this] { setSelection({}); });
    connect(m_page, &HeadsPage::headSwitched, this, [this](const HeadKey& head, bool on) {
        try {
            setHeadScale(head, on ? 1.0f : 0.0f);
        } catch (const Error& error) {
            m_page->showScales(m_settings.scales);
            Q_EMIT errorOccurred(QString::fromStdString(error.what()));
        }
    });
    connect(m_page->scatter(), &HeadScatterView::selectionChanged, this,
            &HeadsController::setSelection);
    connect(m_page->scatter(), &HeadScatterView::headActivated, this,
            &HeadsController::headActivated);
    connect(m_atlas, &AtlasView::selectionChanged, this, &HeadsController::setSelection);
    connect(m_atlas, &AtlasView::colouringChanged, this, &HeadsController::setAtlasColouring);
    connect(m_atlas, &AtlasView::headScaleRequested, this,
            [this](const HeadKey& head, float scale) {
                try {
                    setHeadScale(head, scale);
                } catch (const Error& error) {
                    Q_EMIT errorOccurred(QString::fromStdString(error.what()));
                }
            });
    connect(m_atlas, &AtlasView::resetHeadsRequested, this, &HeadsController::resetHeads);
    syncFromSettings();
}

void HeadsController::syncFromSettings() {
    m_selection = selectionOf(m_settings);
    m_page->setSettings(m_settings);
    m_page->setSelection(m_selection);
    m_atlas->setColouring(atlasColouringFromName(m_settings.atlasColouring));
    m_atlas->setSelection(m_selection);
    m_atlas->setScales(headScaleMapOf(m_settings));
    m_page->showScales(m_settings.scales);
    m_analysedKey.clear();
    requestAnalysis();
}

void HeadsController::setRun(std::shared_ptr<Model> model, std::shared_ptr<const ImageInput> input,
                             std::shared_ptr<const ModelOutputs> outputs,
                             const std::vector<std::string>& inputs) {
    m_model = std::move(model);
    m_input = std::move(input);
    m_outputs = std::move(outputs);
    m_inputs = inputs;
    m_ids.clear();
    requestAnalysis();
}

void HeadsController::setTextRun(std::shared_ptr<Model> model, std::shared_ptr<const ModelOutputs> outputs,
                                 std::vector<std::int64_t> ids) {
    m_model = std::move(model);
    m_input.reset();
    m_outputs = std::move(outputs);
    m_inputs.clear();
    m_ids = std::move(ids);
    requestAnalysis();
}

void HeadsController::setWanted(bool wanted) {
    m_wanted = wanted;
    requestAnalysis();
}

void HeadsController::setAtlasColouring(AtlasColouring colouring) {
    m_settings.atlasColouring = atlasColouringName(colouring);
    m_atlas->setColouring(colouring);
    requestAnalysis();
}

bool HeadsController::needsImportance() const {
    return m_settings.atlasColouring == "importance";
}

void HeadsController::requestAnalysis() {
    const bool wanted = m_wanted || m_settings.atlasColouring != "attention";
    if (!wanted || !m_outputs || !m_model || m_outputs->attention.empty()) return;
    std::ostringstream key;
    key << static_cast<const void*>(m_outputs.get()) << '|' << m_settings.embedding << '|'
        << m_settings.clusters;
    if (key.str() != m_analysedKey) {
        const std::shared_ptr<const ModelOutputs> outputs = m_outputs;
        const std::shared_ptr<Model> model = m_model;
        const HeadSettings settings = m_settings;
        const std::vector<std::int64_t> ids = m_ids;
        const std::string analysedKey = key.str();
        m_page->setStatus(tr("Analysing the heads..."));
        m_jobs->start(
            "heads", tr("Analysing the heads"),
            [outputs, model, settings, ids](Progress&) {
                return std::any(analyseHeads(outputs->attention, model->spec(), settings, ids));
            },
            [this, outputs, analysedKey](std::any result) {
                if (outputs != m_outputs) return;
                auto analysis = std::any_cast<HeadAnalysis>(std::move(result));
                m_analysed = std::move(analysis.data);
                m_timeline = std::move(analysis.sinks);
                m_analysedKey = analysedKey;
                m_page->setTimeline(m_timeline);
                QString status = tr("%1 heads, %2 labels, %3 clusters")
                                     .arg(m_analysed.points.size())
                                     .arg(m_analysed.labels.size())
                                     .arg(m_analysed.clusterNames.size());
                if (!m_analysed.note.empty())
                    status += QStringLiteral(" (%1)").arg(QString::fromStdString(m_analysed.note));
                status += tr("; sinks: %1 primary, %2 secondary")
                              .arg(m_timeline.primary.size())
                              .arg(m_timeline.secondary.size());
                m_page->setStatus(status);
                publish();
                Q_EMIT analysisUpdated();
            },
            [this](const QString& message) {
                m_page->setStatus(message);
                Q_EMIT errorOccurred(message);
            });
    }
    if (needsImportance()) requestImportance();
}

void HeadsController::requestImportance() {
    if (!m_model || m_inputs.empty()) return;
    std::ostringstream key;
    key << static_cast<const void*>(m_model.get()) << '|' << m_settings.toJson()["scales"].dump();
    for (const std::string& input : m_inputs) key << '|' << input;
    if (key.str() == m_importanceKey) return;
    const std::shared_ptr<Model> model = m_model;
    const std::vector<std::string> inputs = m_inputs;
    const std::string importanceKey = key.str();
    m_jobs->start(
        "importance", tr("Measuring head importance"),
        [model, inputs](Progress& progress) {
            return std::any(imageImportance(*model, inputs, progress));
        },
        [this, model, importanceKey](std::any result) {
            if (model != m_model) return;
            m_importance = std::any_cast<HeadImportanceValues>(std::move(result));
            m_importanceKey = importanceKey;
            publish();
            Q_EMIT importanceUpdated();
        },
        [this](const QString& message) {
            m_importanceKey.clear();
            Q_EMIT errorOccurred(message);
        });
}

void HeadsController::publish() {
    m_shown = m_analysed;
    if (!m_importance.values.empty()) applyImportance(m_shown, m_importance);
    // Heads that are gone (another model) leave the selection.
    HeadSet kept;
    for (const HeadKey& key : m_selection) {
        if (m_shown.empty() || m_shown.find(key)) kept.insert(key);
    }
    m_selection = kept;
    m_page->setData(m_shown, m_selection);
    m_atlas->setHeadData(m_shown);
    m_atlas->setSelection(m_selection);
}

void HeadsController::setSelection(const HeadSet& selection) {
    m_selection = selection;
    m_settings.selection.clear();
    for (const HeadKey& key : selection) m_settings.selection.emplace_back(key.layer, key.head);
    m_page->setSelection(selection);
    m_atlas->setSelection(selection);
    Q_EMIT selectionChanged(selection);
}

void HeadsController::setHeadScale(const HeadKey& head, float scale) {
    const float before = m_settings.scaleOf(head.layer, head.head);
    setHeadScales({head}, scale);
    if (before == scale) return;
    Q_EMIT messageChanged(
        scale == 0.0f   ? tr("Layer %1, head %2 switched off").arg(head.layer).arg(head.head)
        : scale == 1.0f ? tr("Layer %1, head %2 restored").arg(head.layer).arg(head.head)
                        : tr("Layer %1, head %2 scaled by %3")
                              .arg(head.layer)
                              .arg(head.head)
                              .arg(double(scale)));
}

void HeadsController::setHeadScales(const HeadSet& heads, float scale) {
    HeadSettings next = m_settings;
    for (const HeadKey& head : heads) {
        if (m_model &&
            (head.layer >= m_model->spec().depth || head.head >= m_model->spec().numHeads)) {
            throw Error("head intervention", "layer " + std::to_string(head.layer) + ", head " +
                                                 std::to_string(head.head) +
                                                 " does not exist in this model");
        }
        next.setScale(head.layer, head.head, scale);  // validates 0..2
    }
    if (next.scales == m_settings.scales) return;
    m_settings.scales = next.scales;
    m_atlas->setScales(headScaleMapOf(m_settings));
    m_page->showScales(m_settings.scales);
    Q_EMIT interventionChanged();
}

void HeadsController::resetHeads() {
    if (!m_settings.intervened()) return;
    m_settings.scales.clear();
    m_atlas->setScales({});
    m_page->showScales({});
    Q_EMIT messageChanged(tr("Every head restored"));
    Q_EMIT interventionChanged();
}

void HeadsController::exportFigure(const QString& path, int dpi) {
    const std::string subject = path.toStdString();
    switch (m_page->page()) {
        case HeadsPage::Page::Scatter: {
            const HeadScatterPainter& scatter = m_page->scatter()->painter();
            if (scatter.data().empty()) throw Error(subject, "no head analysis to export yet");
            exportPainting([&scatter](QPainter& painter,
                                      const QRectF& target) { scatter.paint(painter, target); },
                           path, scatter.preferredSize(), dpi, tr("Heads scatter"));
            break;
        }
        case HeadsPage::Page::Sinks: {
            const SinkTimelinePainter& sinks = m_page->sinks()->painter();
            if (sinks.timeline().empty()) throw Error(subject, "no sink analysis to export yet");
            exportPainting(
                [&sinks](QPainter& painter, const QRectF& target) { sinks.paint(painter, target); },
                path, sinks.preferredSize(), dpi, tr("Attention sink timeline"));
            break;
        }
        case HeadsPage::Page::Cloud: {
            if (!path.endsWith(".png", Qt::CaseInsensitive))
                throw Error(subject,
                            "the 3D head view exports PNG only (it is a rendered picture)");
            const QImage image = m_page->cloud()->grabImage();
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit()) {
                throw Error(subject, "cannot write: " + file.errorString().toStdString());
            }
            break;
        }
    }
}

}  // namespace fovea
