// fovea gui: the workbench window (also `fovea` with no command); fovea export: a session's
// figure written headless. Both need Qt; they exist only in GUI builds.
#include "app/cli_args.h"
#include "app/commands/bench_gui_text.h"
#include "app/commands/commands.h"
#include "app/commands/common.h"
#include "app/console_progress.h"
#include "core/data/shapes_scene.h"
#include "core/explain/explainer.h"
#include "core/io/image_io.h"
#include "core/model/model.h"
#include "core/model/registry.h"
#include "core/train/train_demo.h"
#include "core/session/session.h"
#include "core/session/view_map.h"
#include "core/util/error.h"
#include "widgets/compare_view.h"
#include "widgets/figure_builder.h"
#include "widgets/figure_export.h"
#include "widgets/gaze_view.h"
#include "widgets/head_figures.h"
#include "widgets/head_importance.h"
#include "widgets/head_scatter_painter.h"
#include "widgets/heatmap_view.h"
#include "widgets/job_runner.h"
#include "widgets/main_window.h"
#include "widgets/segment_figure.h"
#include "widgets/text_controller.h"
#include "widgets/sink_timeline_painter.h"

#include <QApplication>
#include <QFileInfo>
#include <QGuiApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPainter>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <functional>
#include <cmath>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace fovea::cli {
namespace {

bool haveDisplay() {
    const QByteArray platform = qgetenv("QT_QPA_PLATFORM");
    if (!platform.isEmpty()) return true;  // the user chose (offscreen, xcb, wayland, ...)
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
}

// Qt's notices about the environment (no XDG_RUNTIME_DIR under CI, the offscreen plugin's
// limits) are noise on a command line whose stderr should hold one line per problem.
void quietQtNotices(QtMsgType type, const QMessageLogContext&, const QString& message) {
    if (type == QtDebugMsg || type == QtInfoMsg) return;
    if (message.startsWith("QStandardPaths: XDG_RUNTIME_DIR") || message.contains("propagateSizeHints")) return;
    std::fprintf(stderr, "%s\n", qPrintable(message));
}

void setApplicationNames();

// What a Qt application object needs: an argc/argv that outlive it (declare this first), the
// notice filter and the names QSettings uses, all set before the application is constructed.
struct QtArguments {
    QtArguments() {
        qInstallMessageHandler(quietQtNotices);
        setApplicationNames();
    }
    int argc = 1;
    char name[6] = "fovea";
    char* argv[2] = {name, nullptr};
};

void setApplicationNames() {
    QCoreApplication::setOrganizationName("Fovea");
    QCoreApplication::setApplicationName("Fovea");
    QCoreApplication::setApplicationVersion(FOVEA_VERSION);
}

}  // namespace

int runGuiCommand(const Arguments& arguments) {
    const Args args(arguments,
                    {"session", "screenshot", "size", "model", "view", "method", "fixations", "text", "text-pair", "tokenizer", "overflow"},
                    {});
    const bool screenshot = args.has("screenshot");
    if (!haveDisplay()) {
        if (!screenshot) {
            throw Error("fovea gui", "no display (DISPLAY is not set); run it on a desktop, under xvfb-run, or with "
                                     "QT_QPA_PLATFORM=offscreen; the headless commands work without one");
        }
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QtArguments qt;
    QApplication app(qt.argc, qt.argv);
    MainWindow window;
    if (args.has("size")) {
        const QStringList parts = QString::fromStdString(args.value("size")).split('x');
        if (parts.size() != 2 || parts[0].toInt() <= 0 || parts[1].toInt() <= 0) throw UsageError{"--size must be WIDTHxHEIGHT"};
        window.resize(parts[0].toInt(), parts[1].toInt());
    }
    if (screenshot) {
        window.setQuiet(true);
        window.resetLayout();  // screenshots do not depend on how the user left the docks
    }
    if (args.has("session") && !window.openSession(QString::fromStdString(args.value("session")))) {
        throw Error(args.value("session"), window.lastError().toStdString());
    }
    if (args.has("model")) window.openModel(QString::fromStdString(args.value("model")));
    QStringList inputs;
    for (const std::string& path : args.positional()) {
        if (QFileInfo(QString::fromStdString(path)).isDir() || QString::fromStdString(path).endsWith(".safetensors")) {
            window.openModel(QString::fromStdString(path));
        } else if (QString::fromStdString(path).endsWith(".fovea")) {
            window.openSession(QString::fromStdString(path));
        } else {
            inputs << QString::fromStdString(path);
        }
    }
    window.addInputs(inputs);
    const std::string view = args.value("view", "heatmap");
    const bool textView = view == "text" || view == "text-heads" || view == "text-matrix" || view == "text-saliency" || view == "text-atlas";
    if (view != "heatmap" && view != "atlas" && view != "compare" && view != "3d" && view != "all-methods" &&
        view != "segment" && view != "gaze" && view != "gaze-cube" && view != "heads" && view != "heads-3d" && view != "sinks" &&
        !textView) {
        throw UsageError{"--view must be heatmap, atlas, compare, all-methods, 3d, segment, gaze, gaze-cube, heads, heads-3d, sinks, "
                         "text, text-heads, text-matrix, text-saliency or text-atlas"};
    }
    // Language models: the tokenizer (when the model folder has none), the overflow rule and the
    // text; the text runs once the model is loaded.
    TextController* text = window.textController();
    if (args.has("tokenizer")) text->setTokenizerPath(QString::fromStdString(args.value("tokenizer")));
    if (args.has("overflow")) {
        const std::string overflow = args.value("overflow");
        if (overflow != "truncate" && overflow != "refuse") throw UsageError{"--overflow must be truncate or refuse"};
        text->setOverflow(QString::fromStdString(overflow));
    }
    if (args.has("text") || args.has("text-pair")) {
        text->setText(QString::fromStdString(args.value("text")), QString::fromStdString(args.value("text-pair")));
    }
    if (args.has("fixations")) {
        window.openFixations(QString::fromStdString(args.value("fixations")));
        if (screenshot && !window.lastError().isEmpty()) throw Error(args.value("fixations"), window.lastError().toStdString());
    }
    if (args.has("method")) {
        if (textView) {
            text->setMethod(QString::fromStdString(args.value("method")));  // the saliency view's
        } else {
            window.setMethod(findExplainer(args.value("method")).name());
        }
    }
    // All methods need the model open first: asked for once the first jobs are done.
    bool pendingAllMethods = view == "all-methods";
    if (textView) {
        window.setCurrentView("text");
        if (view != "text") text->setPage(QString::fromStdString(view.substr(5)));
    } else {
        window.setCurrentView(QString::fromStdString(pendingAllMethods ? "compare" : view == "gaze-cube" ? "gaze" : view));
    }
    if (view == "gaze-cube") window.gazeView()->setCurrentPage("cube");
    window.show();
    if (!screenshot) return app.exec();

    // Wait until every job is done, then grab the window and leave.
    const QString out = QString::fromStdString(args.value("screenshot"));
    int status = 0;
    auto grab = [&] {
        QTimer::singleShot(100, &window, [&] {
            if (window.jobs()->busy() || window.gazeView()->metricsPending()) return;
            if (pendingAllMethods) {
                pendingAllMethods = false;
                window.compareAllMethods();
                if (window.jobs()->busy()) return;  // grabbed when the grid is drawn
            }
            if (!window.grab().save(out)) {
                std::fprintf(stderr, "fovea: %s: cannot write the screenshot\n", qPrintable(out));
                status = 1;
            } else if (!window.lastError().isEmpty()) {
                std::fprintf(stderr, "fovea: warning: %s\n", qPrintable(window.lastError()));
            }
            app.quit();
        });
    };
    QObject::connect(window.jobs(), &JobRunner::idle, &window, grab);
    QObject::connect(window.gazeView(), &GazeView::metricsUpdated, &window, grab);
    QTimer::singleShot(0, &window, [&] {
        if (!window.jobs()->busy()) grab();
    });
    QTimer::singleShot(300000, &window, [&] {
        std::fprintf(stderr, "fovea: screenshot: jobs still running after 300 s\n");
        status = 1;
        app.quit();
    });
    app.exec();
    return status;
}

int runExportCommand(const Arguments& arguments) {
    const Args args(arguments, joinNames({"view", "out", "dpi", "width", "height"}, runtimeOptionNames()), {});
    const std::string sessionPath = args.positional(0, "SESSION.fovea");
    const std::string out = args.value("out");
    if (out.empty()) throw UsageError{"--out FILE.png|svg|pdf is required"};
    const std::string view = args.value("view", "heatmap");
    if (view != "heatmap" && view != "atlas" && view != "compare" && view != "all-methods" && view != "segment" && view != "heads" &&
        view != "sinks") {
        throw UsageError{"--view must be heatmap, atlas, compare, all-methods, segment, heads or sinks, not '" + view + "'"};
    }
    const SessionLoad load = loadSession(sessionPath);
    for (const std::string& warning : load.warnings) std::fprintf(stderr, "fovea: warning: %s\n", warning.c_str());
    if (load.state.modelPath.empty()) throw Error(sessionPath, "the session names no model");
    if (load.state.currentInput < 0) throw Error(sessionPath, "the session has no input that exists");

    if (!haveDisplay()) qputenv("QT_QPA_PLATFORM", "offscreen");
    QtArguments qt;
    QGuiApplication app(qt.argc, qt.argv);

    const std::unique_ptr<Model> model = openModel(load.state.modelPath, runtimeFromArgs(args));
    // The session's head intervention holds for every view, as in the window.
    if (load.state.heads.intervened()) {
        model->setHeadScales(headScalesOf(load.state.heads, model->spec().depth, model->spec().numHeads));
    }
    const ImageInput input = loadImageInput(load.state.inputs[std::size_t(load.state.currentInput)], model->spec());
    const ModelOutputs outputs = model->run(input, CaptureRequest());
    ConsoleProgress progress;
    // Any method: attention methods from `outputs`, the others (and gradient methods) run the model.
    const auto figureOf = [&](const ImageInput& in, const ModelOutputs& ran, ViewSettings settings, const QString& prefix,
                              Progress& part) {
        settings.figure.title = (prefix + viewTitle(model->spec(), ran, settings)).toStdString();
        cv::Mat map = computeViewMap(*model, in, &ran, settings, -1, &part).map;
        if (settings.excludeSinks && viewUsesAttention(settings)) map = withoutSinkTokens(map, ran.attention, settings);
        return buildHeatmapFigure(in, map, settings);
    };
    HeatmapPainter figure;
    AtlasPainter atlas;
    if (view == "heatmap") figure = figureOf(input, outputs, load.state.view, QString(), progress);
    if (view == "atlas") atlas = buildAtlasFigure(input, outputs, load.state.view);
    // The head views as the session sets them: the atlas's colouring, selection and intervention,
    // the scatter's embedding, colouring and k.
    HeadScatterPainter scatter;
    SinkTimelinePainter sinks;
    if (view == "atlas" || view == "heads" || view == "sinks") {
        const HeadSettings& heads = load.state.heads;
        HeadSet selection;
        for (const auto& [layer, head] : heads.selection) selection.insert({layer, head});
        const bool analyse = view != "atlas" || heads.atlasColouring != "attention";
        HeadAnalysis analysis;
        if (analyse) analysis = analyseHeads(outputs.attention, model->spec(), heads);
        if (view == "atlas" && heads.atlasColouring == "importance") {
            applyImportance(analysis.data, imageImportance(*model, load.state.inputs, progress));
        }
        atlas.setColouring(atlasColouringFromName(heads.atlasColouring));
        atlas.setHeadData(analysis.data);
        atlas.setSelection(selection);
        atlas.setScales(headScaleMapOf(heads));
        scatter.setData(analysis.data);
        scatter.setSelection(selection);
        scatter.setColouring(heads.scatterColouring == "label" ? HeadScatterPainter::Colouring::Label
                                                               : HeadScatterPainter::Colouring::Cluster);
        sinks.setTimeline(analysis.sinks);
    }
    SegmentPainter segmentation;
    if (view == "segment") {
        const std::string inputPath = load.state.inputs[std::size_t(load.state.currentInput)];
        const SegmentOutcome outcome = runSegmentation(*model, input, load.state.segment, inputPath, progress);
        segmentation = buildSegmentFigure(input, outcome, load.state.segment);
    }
    ComparePainter comparison;
    if (view == "compare" || view == "all-methods") {
        const std::vector<ViewSettings> settings =
            view == "compare" ? load.state.comparison : allMethodViews(load.state.view, model->spec());
        if (settings.empty()) throw Error(sessionPath, "the session's comparison is empty");
        std::vector<HeatmapPainter> panels;
        for (std::size_t i = 0; i < settings.size(); ++i) {
            SliceProgress part(progress, double(i) / double(settings.size()), double(i + 1) / double(settings.size()));
            const std::string other =
                view == "compare" && i < load.state.comparisonInputs.size() ? load.state.comparisonInputs[i] : std::string();
            if (other.empty() || other == load.state.inputs[std::size_t(load.state.currentInput)]) {
                panels.push_back(figureOf(input, outputs, settings[i], QString(), part));
            } else {
                const ImageInput otherInput = loadImageInput(other, model->spec());
                const ModelOutputs otherOutputs = model->run(otherInput, CaptureRequest());
                panels.push_back(figureOf(otherInput, otherOutputs, settings[i],
                                          QFileInfo(QString::fromStdString(other)).fileName() + ": ", part));
            }
        }
        comparison.setPanels(std::move(panels));
        // Every method has its own units: the all-methods grid keeps a scale per panel.
        if (view == "compare" && load.state.comparisonSharedRange) comparison.shareRange();
    }
    const bool grid = view == "compare" || view == "all-methods";
    QSizeF size = view == "atlas" ? atlas.preferredSize() : grid ? comparison.preferredSize() : figure.preferredSize();
    if (view == "segment") size = segmentation.preferredSize();
    if (view == "heads") size = scatter.preferredSize();
    if (view == "sinks") size = sinks.preferredSize();
    if (args.has("width")) size.setWidth(args.doubleValue("width", size.width()));
    if (args.has("height")) size.setHeight(args.doubleValue("height", size.height()));
    const int dpi = args.intValue("dpi", 300);
    if (grid) {
        exportPainting([&comparison](QPainter& painter, const QRectF& target) { comparison.paint(painter, target); },
                       QString::fromStdString(out), size, dpi,
                       view == "compare" ? QStringLiteral("Comparison") : QStringLiteral("All methods"));
    } else if (view == "segment") {
        exportPainting(
            [&segmentation](QPainter& painter, const QRectF& target) { segmentation.paint(painter, target); },
            QString::fromStdString(out), size, dpi, segmentation.style().title);
    } else if (view == "atlas") {
        exportPainting([&atlas](QPainter& painter, const QRectF& target) { atlas.paint(painter, target); },
                       QString::fromStdString(out), size, dpi, QStringLiteral("Layer x head atlas"));
    } else if (view == "heads") {
        exportPainting([&scatter](QPainter& painter, const QRectF& target) { scatter.paint(painter, target); },
                       QString::fromStdString(out), size, dpi, QStringLiteral("Heads scatter"));
    } else if (view == "sinks") {
        exportPainting([&sinks](QPainter& painter, const QRectF& target) { sinks.paint(painter, target); },
                       QString::fromStdString(out), size, dpi, QStringLiteral("Attention sink timeline"));
    } else {
        exportFigure(figure, QString::fromStdString(out), size, dpi);
    }
    std::printf("wrote %s\n", out.c_str());
    return 0;
}

}  // namespace fovea::cli

namespace fovea::cli {
namespace {

double percentileMs(std::vector<double> values, double p) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t rank = std::size_t(std::max(1.0, std::ceil(p / 100.0 * double(values.size()))));
    return values[rank - 1];
}

}  // namespace

// fovea bench gui: how fast the window answers a layer or head switch on a 1024x1024 image, and
// how long a new image takes to its first heatmap. The reference, measured in the same run, is
// a bare QPainter drawing the same image into the same rectangle.
int runGuiBenchCommand(const Arguments& arguments) {
    const Args args(arguments, {"model", "switches", "case", "tokens", "repaints", "screenshot"}, {});
    const int switches = std::max(4, args.intValue("switches", 40));
    const std::string benchCase = args.value("case", "all");
    if (benchCase != "all" && benchCase != "heatmap" && benchCase != "token-matrix") {
        throw UsageError{"--case must be all, heatmap or token-matrix"};
    }
    if (!haveDisplay()) qputenv("QT_QPA_PLATFORM", "offscreen");
    QtArguments qt;
    QApplication app(qt.argc, qt.argv);
    if (benchCase != "heatmap") {
        const int tokens = args.intValue("tokens", 1024);
        if (tokens < 2 || tokens > 8192) throw UsageError{"--tokens must be 2..8192"};
        runTokenMatrixBench(tokens, std::max(8, args.intValue("repaints", 200)), QString::fromStdString(args.value("screenshot")));
        if (benchCase == "token-matrix") return 0;
    }
    const std::string modelPath = args.has("model") ? args.value("model") : findDemoModel();

    QTemporaryDir dir;
    SceneOptions big;
    big.size = 1024;
    big.targetMinSize = 288;
    big.targetMaxSize = 416;
    big.distractorMinSize = 96;
    big.distractorMaxSize = 160;
    const QString imagePath = dir.filePath("scene1024.png");
    writeImage(imagePath.toStdString(), generateScene(kHeldOutSeedOffset + 11, big).image);

    MainWindow window;
    window.setQuiet(true);
    window.resize(1280, 800);
    window.show();
    QEventLoop loop;
    // Runs `action` and returns once `signal` has fired (during the action or after it).
    auto runAndWait = [&](auto* sender, auto signal, const std::function<void()>& action) {
        bool fired = false;
        const QMetaObject::Connection done = QObject::connect(sender, signal, &loop, [&] {
            fired = true;
            loop.quit();
        });
        action();
        if (!fired) {
            QTimer timeout;
            timeout.setSingleShot(true);
            QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
            timeout.start(120000);
            loop.exec();
        }
        QObject::disconnect(done);
        if (!fired) throw Error("fovea bench gui", "timed out waiting for the window");
    };
    auto waitFor = [&](auto* sender, auto signal) { runAndWait(sender, signal, [] {}); };
    auto waitIdle = [&] {
        if (window.jobs()->busy()) waitFor(window.jobs(), &JobRunner::idle);
    };
    window.openModel(QString::fromStdString(modelPath));
    waitIdle();
    if (!window.model()) throw Error(modelPath, window.lastError().toStdString());

    QElapsedTimer clock;
    clock.start();
    runAndWait(&window, &MainWindow::figureUpdated, [&] { window.addInputs({imagePath}); });
    {
        QImage target(window.heatmapView()->size(), QImage::Format_RGB32);
        window.heatmapView()->render(&target);  // painted, as for the switches below
    }
    const double firstHeatmap = double(clock.nsecsElapsed()) / 1e6;
    waitIdle();

    HeatmapView* view = window.heatmapView();
    const int layers = window.model()->spec().depth, heads = window.model()->spec().numHeads;
    std::vector<double> switchMs, paintMs, referenceMs;
    const QImage reference = window.figure().image();
    for (int i = 0; i < switches; ++i) {
        ViewSettings settings = window.state().view;
        if (i % 2 == 0) {
            settings.layer = (i / 2) % layers;
        } else {
            settings.heads = (i / 2) % (heads + 1) == heads ? "mean" : std::to_string((i / 2) % (heads + 1));
        }
        clock.restart();
        runAndWait(&window, &MainWindow::figureUpdated, [&] { window.setView(settings); });
        // The new map painted: what paintEvent draws, into an image of the view's size (a
        // repaint() of the window would add the window system's copy, which varies).
        QImage target(view->size(), QImage::Format_RGB32);
        QElapsedTimer paint;
        paint.start();
        view->render(&target);
        paintMs.push_back(double(paint.nsecsElapsed()) / 1e6);
        switchMs.push_back(double(clock.nsecsElapsed()) / 1e6);
        waitIdle();
        // Reference: the same image drawn into the same rectangle by a bare QPainter.
        QImage canvas(view->size(), QImage::Format_RGB32);
        QElapsedTimer bare;
        bare.start();
        {
            QPainter painter(&canvas);
            painter.fillRect(canvas.rect(), Qt::white);
            painter.drawImage(view->figure().imageRect(view->figureRect()), reference);
        }
        referenceMs.push_back(double(bare.nsecsElapsed()) / 1e6);
    }
    std::printf("fovea bench gui: %s, 1024x1024 image, %d switches (platform %s)\n", modelPath.c_str(), switches,
                qPrintable(QGuiApplication::platformName()));
    std::printf("  image dropped -> first heatmap on screen: %.1f ms\n", firstHeatmap);
    std::printf("  layer/head switch -> new map painted:     p50 %.2f ms  p95 %.2f ms  (target p95 <= 16 ms)\n",
                percentileMs(switchMs, 50), percentileMs(switchMs, 95));
    std::printf("  paint alone (view rendered to an image):  p50 %.2f ms  p95 %.2f ms\n", percentileMs(paintMs, 50),
                percentileMs(paintMs, 95));
    std::printf("  reference, bare QPainter drawImage:       p50 %.2f ms  p95 %.2f ms\n", percentileMs(referenceMs, 50),
                percentileMs(referenceMs, 95));
    std::printf("  ratio paint / reference (p50):            %.2fx\n",
                percentileMs(paintMs, 50) / std::max(1e-6, percentileMs(referenceMs, 50)));
    return 0;
}

}  // namespace fovea::cli
