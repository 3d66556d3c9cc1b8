// Golden images of the heatmap figure and the atlas for the shipped demo model on a fixed
// scene, compared with a tolerance (text antialiasing may differ by a few levels). To accept a
// deliberate change: FOVEA_UPDATE_GOLDEN=1 ./test_golden, look at the new files, commit them.
#include "core/data/shapes_scene.h"
#include "core/model/model.h"
#include "core/model/registry.h"
#include "core/session/session.h"
#include "core/train/train_demo.h"
#include "widgets/figure_builder.h"
#include "widgets/qt_convert.h"

#include <QDir>
#include <QImage>
#include <QPainter>
#include <QtTest>

#include <cmath>

using namespace fovea;

class TestGolden : public QObject {
    Q_OBJECT

    static QImage render(const std::function<void(QPainter&, const QRectF&)>& paint, QSize size) {
        QImage image(size, QImage::Format_RGB32);
        image.fill(Qt::white);
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        paint(painter, QRectF(QPointF(0, 0), QSizeF(size)));
        return image;
    }

    static void compareWithGolden(const QImage& image, const QString& name) {
        const QString path = QStringLiteral(FOVEA_TEST_DATA_DIR "/golden/") + name;
        if (qEnvironmentVariableIsSet("FOVEA_UPDATE_GOLDEN")) {
            QDir().mkpath(QFileInfo(path).path());
            QVERIFY(image.save(path));
            qInfo("wrote %s", qPrintable(path));
            return;
        }
        const QImage golden(path);
        QVERIFY2(!golden.isNull(), qPrintable(path + " is missing"));
        QCOMPARE(golden.size(), image.size());
        double total = 0.0;
        int far = 0;
        for (int y = 0; y < image.height(); ++y) {
            for (int x = 0; x < image.width(); ++x) {
                const QRgb a = image.pixel(x, y), b = golden.pixel(x, y);
                const int d = std::max({std::abs(qRed(a) - qRed(b)), std::abs(qGreen(a) - qGreen(b)), std::abs(qBlue(a) - qBlue(b))});
                total += d;
                far += d > 32 ? 1 : 0;
            }
        }
        const double pixels = double(image.width()) * image.height();
        const QString summary = QString("%1: mean difference %2, %3 pixels differ by more than 32")
                                    .arg(name).arg(total / pixels, 0, 'f', 3).arg(far);
        qInfo("%s", qPrintable(summary));
        QVERIFY2(total / pixels < 1.0 && far < pixels * 0.005, qPrintable(summary));
    }

private Q_SLOTS:
    void heatmapAndAtlasOfTheDemoModel() {
        const std::unique_ptr<Model> model = openModel(FOVEA_SOURCE_DIR "/resources/models/shapes-vit");
        const Scene scene = generateScene(kHeldOutSeedOffset + 3);
        const ImageInput input = makeImageInput(scene.image, model->spec(), "golden scene");
        CaptureRequest request;
        request.precision = AttentionPrecision::Float32;
        const ModelOutputs outputs = model->run(input, request);

        ViewSettings view;
        view.figure.colormap = "viridis";
        view.figure.title = viewTitle(model->spec(), outputs, view).toStdString();
        const HeatmapPainter heatmap = buildHeatmapFigure(input, outputs, view);
        compareWithGolden(render([&](QPainter& p, const QRectF& r) { heatmap.paint(p, r); }, QSize(480, 400)),
                          "heatmap_demo.png");

        view.method = "rollout";
        view.figure.smooth = true;
        view.figure.colormap = "magma";
        view.figure.title = viewTitle(model->spec(), outputs, view).toStdString();
        const HeatmapPainter rollout = buildHeatmapFigure(input, outputs, view);
        compareWithGolden(render([&](QPainter& p, const QRectF& r) { rollout.paint(p, r); }, QSize(480, 400)),
                          "rollout_smooth_demo.png");

        const AtlasPainter atlas = buildAtlasFigure(input, outputs, view, AtlasCell{3, 1});
        compareWithGolden(render([&](QPainter& p, const QRectF& r) { atlas.paint(p, r); }, QSize(520, 440)),
                          "atlas_demo.png");
    }
};

QTEST_MAIN(TestGolden)
#include "test_golden.moc"
