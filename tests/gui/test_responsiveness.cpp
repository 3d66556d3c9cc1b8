// The window stays responsive while a realistic model works: a ViT-S/16 (random weights, 22 M
// parameters) runs on a 1024x1024 image, then the user scrubs layers and switches to rollout.
// A 5 ms timer on the GUI thread measures the longest time the event loop was away, and the job
// runner measures the longest job on the worker thread (loading the model, its forward pass on
// preprocessed input). Work done on the GUI thread would stall the loop for as long as that job
// takes; the test holds the longest stall to the workbench issue's 50 ms, or to a tenth of the
// longest job when a loaded machine stretches both alike (a paint alone then takes longer than
// 50 ms): a responsiveness property (no model work on the GUI thread), not a speed limit. The test
// prints both numbers (idle two-core machine: stalls of 12-15 ms, longest job ~140 ms).
#include "core/model/model.h"
#include "core/model/random_model.h"
#include "widgets/job_runner.h"
#include "widgets/main_window.h"

#include <QElapsedTimer>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

using namespace fovea;

class TestResponsiveness : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName("FoveaTest");
        QCoreApplication::setApplicationName("FoveaTest");
    }

    void guiThreadIsNeverBlockedLong() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString model = dir.filePath("vit_small");
        writeRandomVitCheckpoint(model.toStdString(), "vit_small_patch16_224", 7);
        const QString image = dir.filePath("big.png");
        QImage big(1024, 1024, QImage::Format_RGB32);
        for (int y = 0; y < big.height(); ++y)
            for (int x = 0; x < big.width(); ++x)
                big.setPixel(x, y, qRgb(x % 256, y % 256, (x ^ y) % 256));
        QVERIFY(big.save(image));

        MainWindow window;
        window.setQuiet(true);
        window.resize(1200, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();  // the keys below are shortcuts: they need the active window
        QVERIFY(QTest::qWaitForWindowActive(&window));

        QElapsedTimer clock;
        qint64 last = 0, longest = 0;
        QTimer ticker;
        ticker.setInterval(5);
        QObject::connect(&ticker, &QTimer::timeout, [&] {
            const qint64 now = clock.elapsed();
            longest = std::max(longest, now - last);
            last = now;
        });
        auto waitFigure = [&](const std::function<void()>& action) {
            QSignalSpy updated(&window, &MainWindow::figureUpdated);
            action();
            return updated.count() > 0 || updated.wait(120000);
        };
        clock.start();
        ticker.start();
        QVERIFY(waitFigure([&] {
            window.openModel(model);
            window.addInputs({image});
        }));
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        QCOMPARE(window.model()->spec().depth, 12);
        // Scrub: five layer steps in quick succession, then rollout over all 12 layers.
        QVERIFY(waitFigure([&] {
            for (int i = 0; i < 5; ++i) QTest::keyClick(&window, Qt::Key_BracketLeft);
        }));
        QVERIFY(waitFigure([&] { QTest::keyClick(&window, Qt::Key_R); }));
        QTRY_VERIFY_WITH_TIMEOUT(!window.jobs()->busy(), 60000);
        ticker.stop();
        QCOMPARE(window.state().view.layer, 6);
        const qint64 longestJob = window.jobs()->longestWorkMilliseconds();
        qInfo(
            "longest time away from the event loop: %lld ms over %lld ms; longest job on the "
            "worker: %lld ms",
            longest, clock.elapsed(), longestJob);
        QVERIFY2(longestJob > 0, "no job ran on the worker thread");
        // Allowed: the workbench issue's 50 ms, or a tenth of the longest job when a loaded machine
        // stretches everything (paints included) alike. Model work on the GUI thread would stall
        // the loop for the whole job: more than either.
        const qint64 allowed = std::max<qint64>(50, longestJob / 10);
        QVERIFY2(longestJob > allowed,
                 "the longest job is too short to tell work on the GUI thread from a paint");
        QVERIFY2(longest <= allowed,
                 qPrintable(QString("the GUI thread was blocked for %1 ms, more than %2 ms (50 ms, "
                                    "or a tenth of the longest "
                                    "job, %3 ms)")
                                .arg(longest)
                                .arg(allowed)
                                .arg(longestJob)));
    }
};

QTEST_MAIN(TestResponsiveness)
#include "test_responsiveness.moc"
