// The 3D attention volume (VTK in a Qt 6 QOpenGLWidget). With a display (xvfb-run in CI) it
// must render the slices in the colormap's colours and rotate with the mouse; on a platform
// without OpenGL (QT_QPA_PLATFORM=offscreen, a second registration of this test) it must say
// so instead of aborting.
#include "core/image/colormap.h"
#include "widgets/main_window.h"
#include "widgets/volume_view.h"
#include "widgets/vtk_widget.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <set>

using namespace fovea;

namespace {

const QString kModel = QStringLiteral(FOVEA_TEST_DATA_DIR "/models/timm-vit-tiny");
const QString kImage = QStringLiteral(FOVEA_TEST_DATA_DIR "/models/timm-vit-tiny/input.png");

}  // namespace

class TestVolumeView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QCoreApplication::setOrganizationName("FoveaTest");
        QCoreApplication::setApplicationName("FoveaTest");
    }

    void rendersTheVolumeOrExplainsWhyNot() {
        MainWindow window;
        window.setQuiet(true);
        window.resize(1000, 700);
        window.setCurrentView("3d");
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy volume(&window, &MainWindow::volumeUpdated);
        window.openModel(kModel);
        window.addInputs({kImage});
        QVERIFY(volume.wait(30000));
        VolumeView* view = window.volumeView();
        QCOMPARE(view->slices(), 3);
        QString reason;
        if (!VtkWidget::platformSupportsOpenGL(&reason)) {
            QVERIFY(!view->available());
            QVERIFY(view->unavailableReason().contains("display"));
            // The export says why, in one line naming the file.
            QTemporaryDir dir;
            window.exportFigure(dir.filePath("v.png"));
            QVERIFY(window.lastError().contains("v.png"));
            return;
        }
        QTRY_VERIFY_WITH_TIMEOUT(view->vtkWidget()->hasRendered(), 10000);
        QVERIFY2(view->available(), qPrintable(view->unavailableReason()));
        const QImage before = view->grabImage();
        // The slices show colours of the chosen colormap (inferno by default? the view's).
        const std::string colormap = window.state().view.figure.colormap;
        std::set<QRgb> colours;
        int matching = 0, coloured = 0;
        for (int y = 0; y < before.height(); y += 3) {
            for (int x = 0; x < before.width(); x += 3) {
                const QRgb pixel = before.pixel(x, y) | 0xff000000u;
                if (pixel == 0xffffffffu) continue;  // background
                ++coloured;
                colours.insert(pixel);
                for (int i = 0; i < 256; i += 2) {
                    const cv::Vec3b c = colormapColor(colormap, i);
                    if (std::abs(qRed(pixel) - c[0]) + std::abs(qGreen(pixel) - c[1]) + std::abs(qBlue(pixel) - c[2]) <= 12) {
                        ++matching;
                        break;
                    }
                }
            }
        }
        QVERIFY2(coloured > 1000, qPrintable(QString::number(coloured)));
        QVERIFY2(colours.size() > 8, qPrintable(QString::number(colours.size())));
        QVERIFY2(matching > coloured * 8 / 10, qPrintable(QString("%1 of %2").arg(matching).arg(coloured)));

        // Dragging with the left button rotates the camera.
        QWidget* gl = view->vtkWidget();
        const QPoint centre = gl->rect().center();
        QTest::mousePress(gl, Qt::LeftButton, Qt::NoModifier, centre);
        for (int step = 1; step <= 10; ++step) {
            QMouseEvent move(QEvent::MouseMove, QPointF(centre + QPoint(step * 12, step * 3)),
                             gl->mapToGlobal(QPointF(centre + QPoint(step * 12, step * 3))), Qt::NoButton, Qt::LeftButton,
                             Qt::NoModifier);
            QApplication::sendEvent(gl, &move);
        }
        QTest::mouseRelease(gl, Qt::LeftButton, Qt::NoModifier, centre + QPoint(120, 30));
        const QImage after = view->grabImage();
        QVERIFY(after != before);

        QTemporaryDir dir;
        window.exportFigure(dir.filePath("volume.png"));
        QVERIFY2(window.lastError().isEmpty(), qPrintable(window.lastError()));
        QCOMPARE(QImage(dir.filePath("volume.png")).size(), after.size());
        window.exportFigure(dir.filePath("volume.svg"));
        QVERIFY(window.lastError().contains("PNG only"));
    }
};

QTEST_MAIN(TestVolumeView)
#include "test_volume_view.moc"
