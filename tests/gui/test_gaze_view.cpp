// The Gaze page: the scanpath painter draws circles where the fixations are (and exports), the
// view finds a stimulus's fixations by file name and fills the metrics panel with each subject,
// their mean and the inter-observer baseline as core computes them, playback limits what is
// drawn, and the space-time cube renders with a display (xvfb-run) or explains why not
// (a second registration on the offscreen platform).
#include "core/gaze/gaze_eval.h"
#include "core/gaze/gaze_io.h"
#include "core/util/error.h"
#include "widgets/figure_export.h"
#include "widgets/gaze_view.h"
#include "widgets/main_window.h"
#include "widgets/scanpath_cube_view.h"
#include "widgets/scanpath_painter.h"
#include "widgets/vtk_widget.h"

#include <QFile>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace fovea;

namespace {

Scanpath pathOf(const std::string& subject, const std::vector<std::array<double, 3>>& rows) {
    Scanpath path;
    path.subject = subject;
    path.image = "a.png";
    for (const auto& [x, y, duration] : rows) {
        Fixation f;
        f.x = x;
        f.y = y;
        f.duration = duration;
        path.fixations.push_back(f);
    }
    setStartsFromDurations(path);
    return path;
}

// A stimulus (64x48, grey gradient) and fixations of three subjects on it and one on another image.
struct Stimulus {
    QTemporaryDir dir;
    QString image, fixations;
    Stimulus() {
        QImage picture(64, 48, QImage::Format_RGB888);
        for (int y = 0; y < 48; ++y) {
            for (int x = 0; x < 64; ++x) picture.setPixelColor(x, y, QColor(x * 3, y * 4, 90));
        }
        image = dir.filePath("a.png");
        picture.save(image);
        fixations = dir.filePath("fixations.csv");
        QFile file(fixations);
        file.open(QIODevice::WriteOnly);
        file.write(
            "x,y,duration,subject,image\n"
            "10,10,0.2,s1,a.png\n40,20,0.3,s1,a.png\n50,40,0.25,s1,a.png\n"
            "12,11,0.25,s2,a.png\n45,22,0.2,s2,a.png\n"
            "30,30,0.4,s3,a.png\n48,38,0.1,s3,a.png\n11,12,0.2,s3,a.png\n"
            "5,5,0.2,s1,b.png\n");
    }
};

Preprocessing identityGeometry() {
    Preprocessing prep;
    prep.width = 64;
    prep.height = 48;
    return prep;  // no resize; the centre crop of a 64x48 image is the whole image
}

cv::Mat1f gridMap() {
    cv::Mat1f grid(6, 8, 0.1f);
    grid(1, 1) = 1.0f;  // near (10, 10)
    grid(2, 5) = 0.8f;  // near (45, 20)
    return grid;
}

}  // namespace

class TestGazeView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName("FoveaTest");
        QCoreApplication::setApplicationName("FoveaTest");
    }

    void painterDrawsCirclesOnTheFixations() {
        QImage white(100, 80, QImage::Format_RGB888);
        white.fill(Qt::white);
        ScanpathPainter figure;
        figure.setImage(white);
        Scanpath path = pathOf("s1", {{20, 20, 0.3}, {80, 60, 0.3}});
        figure.setScanpaths({path});
        ScanpathStyle style;
        style.numbers = false;  // the number would sit on the sampled centre pixel
        figure.setStyle(style);
        QImage canvas(400, 340, QImage::Format_RGB32);
        canvas.fill(Qt::white);
        QPainter painter(&canvas);
        figure.paint(painter, QRectF(0, 0, 400, 340));
        painter.end();
        const QRectF image = figure.imageRect(QRectF(0, 0, 400, 340));
        const double scale = image.width() / 100.0;
        const auto pixelAt = [&](double x, double y) {
            return canvas.pixelColor(int(image.left() + x * scale), int(image.top() + y * scale));
        };
        // A circle (not white) on each fixation; the image's white far from both.
        QVERIFY(pixelAt(20, 20) != QColor(Qt::white));
        QVERIFY(pixelAt(80, 60) != QColor(Qt::white));
        QCOMPARE(pixelAt(90, 10), QColor(Qt::white));
        // Side by side needs about twice the width.
        const double single = figure.preferredSize().width();
        figure.setDisplay(GazeDisplay::SideBySide);
        QVERIFY(figure.preferredSize().width() > 1.8 * single);
        // Exports as vector SVG and as PNG.
        QTemporaryDir dir;
        exportPainting([&](QPainter& p, const QRectF& r) { figure.paint(p, r); }, dir.filePath("f.svg"),
                       figure.preferredSize());
        QFile svg(dir.filePath("f.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QVERIFY(svg.readAll().contains("<svg"));
        exportPainting([&](QPainter& p, const QRectF& r) { figure.paint(p, r); }, dir.filePath("f.png"),
                       figure.preferredSize(), 144);
        QCOMPARE(QImage(dir.filePath("f.png")).width(), int(std::lround(figure.preferredSize().width() * 2)));
    }

    void viewScoresEachSubjectMeanAndInterObserver() {
        Stimulus stimulus;
        GazeView view;
        view.resize(900, 700);
        view.openFixations(stimulus.fixations);
        view.setStimulus(stimulus.image, gridMap(), identityGeometry());
        QCOMPARE(view.stimulusKey(), QString("a.png"));
        QTRY_VERIFY_WITH_TIMEOUT(!view.metricsPending(), 20000);
        QTableWidget* table = view.metricsTable();
        QCOMPARE(table->rowCount(), 5);
        QCOMPARE(table->item(0, 0)->text(), QString("s1"));
        QCOMPARE(table->item(3, 0)->text(), QString("mean over subjects"));
        QCOMPARE(table->item(4, 0)->text(), QString("inter-observer"));
        // The panel shows what core computes for the same map and fixations.
        GazeDataset data = readFixationCsv(stimulus.fixations.toStdString());
        data.fitToImage("a.png", {64, 48});
        const cv::Mat1f map = viewMapToImage(gridMap(), identityGeometry(), {64, 48});
        const std::vector<cv::Point2d> others = otherFixationsScaled(data, "a.png", {64, 48});
        const std::vector<SubjectScores> subjects = scoreSubjects(map, data, "a.png", SaliencyOptions{}, &others);
        const int nssColumn = 2 + 3;  // "model vs", "fixations", then auc_judd, auc_borji, sauc, nss
        QCOMPARE(table->horizontalHeaderItem(nssColumn)->text(), QString("nss"));
        QCOMPARE(table->item(0, nssColumn)->text(), QString::number(subjects[0].scores.nss, 'f', 3));
        QCOMPARE(table->item(3, nssColumn)->text(), QString::number(meanScores(scoresOf(subjects)).nss, 'f', 3));
        const SaliencyScores people = interObserverScores(data, "a.png", {64, 48}, SaliencyOptions{}, &others);
        QCOMPARE(table->item(4, nssColumn)->text(), QString::number(people.nss, 'f', 3));
    }

    void playbackShowsFixationsUpToTheTime() {
        Stimulus stimulus;
        GazeView view;
        view.openFixations(stimulus.fixations);
        view.setStimulus(stimulus.image, gridMap(), identityGeometry());
        view.setModelScanpath(false);
        QVERIFY(view.duration() >= 0.75);  // s1 looks for 0.75 s
        view.setTime(0.3);
        QCOMPARE(view.figure().style().upToTime, 0.3);
        const ScanpathLayout layout = layoutScanpaths(view.figure().scanpaths(), {64, 48}, view.figure().style());
        // Starts at or before 0.3 s: s1 0, 0.2; s2 0, 0.25; s3 0.
        QCOMPARE(int(layout.marks.size()), 5);
        view.setTime(view.duration());
        QVERIFY(std::isinf(view.figure().style().upToTime));
        view.setTime(0.0);
        view.setSpeed(4.0);
        view.play();
        QVERIFY(view.playing());
        QTRY_VERIFY_WITH_TIMEOUT(view.time() > 0.2, 5000);
        view.pause();
        QVERIFY(!view.playing());
        QTRY_VERIFY_WITH_TIMEOUT(!view.metricsPending(), 20000);
    }

    void cubeRendersOrExplainsWhyNot() {
        Stimulus stimulus;
        GazeView view;
        view.resize(800, 600);
        view.openFixations(stimulus.fixations);
        view.setCurrentPage("cube");
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.setStimulus(stimulus.image, gridMap(), identityGeometry());
        ScanpathCubeView* cube = view.cube();
        QCOMPARE(cube->pathCount(), 4);  // three people and the model
        QTemporaryDir dir;
        QString reason;
        if (!VtkWidget::platformSupportsOpenGL(&reason)) {
            QVERIFY(!cube->available());
            QVERIFY(!cube->unavailableReason().isEmpty());
            QVERIFY_THROWS_EXCEPTION(Error, view.exportFigure(dir.filePath("cube.png")));
            QTRY_VERIFY_WITH_TIMEOUT(!view.metricsPending(), 20000);
            return;
        }
        // Floor levels, one line per path, a sphere per fixation (3 + 2 + 3 + the model's 8), the outline.
        QVERIFY(cube->actorCount() >= 4 + 16 + 1);
        QTRY_VERIFY_WITH_TIMEOUT(cube->vtkWidget()->hasRendered(), 10000);
        const QImage picture = cube->grabImage();
        int coloured = 0;
        for (int y = 0; y < picture.height(); y += 2) {
            for (int x = 0; x < picture.width(); x += 2) {
                const QColor c = picture.pixelColor(x, y);
                if (std::abs(c.red() - c.green()) + std::abs(c.green() - c.blue()) > 60)
                    ++coloured;  // not grey or white
            }
        }
        QVERIFY2(coloured > 50, qPrintable(QString::number(coloured)));
        view.exportFigure(dir.filePath("cube.png"));
        QVERIFY(!QImage(dir.filePath("cube.png")).isNull());
        QVERIFY_THROWS_EXCEPTION(Error, view.exportFigure(dir.filePath("cube.svg")));
        QTRY_VERIFY_WITH_TIMEOUT(!view.metricsPending(), 20000);
    }

    void mainWindowOpensFixationsOnTheGazePage() {
        Stimulus stimulus;
        MainWindow window;
        window.setQuiet(true);
        window.openFixations(stimulus.fixations);
        QCOMPARE(window.currentView(), QString("gaze"));
        QCOMPARE(int(window.gazeView()->dataset().scanpathCount()), 4);
        const QString bad = stimulus.dir.filePath("bad.csv");
        QFile file(bad);
        file.open(QIODevice::WriteOnly);
        file.write("x,y,duration\n1,oops,0.2\n");
        file.close();
        window.openFixations(bad);
        QVERIFY2(window.lastError().contains("bad.csv: line 2"), qPrintable(window.lastError()));
    }
};

QTEST_MAIN(TestGazeView)
#include "test_gaze_view.moc"
