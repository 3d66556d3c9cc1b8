// The heatmap painter on screen and in exported figures, against the core's raster figure code.
#include "core/image/colormap.h"
#include "core/image/figure.h"
#include "core/util/error.h"
#include "widgets/figure_export.h"
#include "widgets/heatmap_view.h"
#include "widgets/qt_convert.h"

#include <QFile>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>

#include <cmath>
#include <limits>

using namespace fovea;

class TestHeatmapView : public QObject {
    Q_OBJECT

    static cv::Mat sampleImage() {
        cv::Mat image(64, 64, CV_8UC3);
        cv::randu(image, 0, 256);
        return image;
    }
    static cv::Mat1f sampleMap() {
        cv::Mat1f map(4, 4);
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 4; ++c) map(r, c) = float(r * 4 + c) / 15.0f;
        map(0, 3) = std::numeric_limits<float>::quiet_NaN();
        return map;
    }
    static HeatmapPainter sampleFigure(const cv::Mat& image) {
        HeatmapPainter figure;
        figure.setImage(toQImage(image));
        figure.setHeatmap(sampleMap());
        FigureOptions options;
        options.colormap = "magma";
        options.opacity = 0.6f;
        figure.setOptions(options);
        return figure;
    }

private Q_SLOTS:
    void paintsTheSameBlendAsTheCoreFigure() {
        const cv::Mat image = sampleImage();
        const HeatmapPainter figure = sampleFigure(image);
        // Paint with no title and no colorbar so the image fills the target pixel for pixel.
        HeatmapPainter plain = figure;
        FigureOptions options = figure.options();
        options.colorbar = false;
        plain.setOptions(options);
        QImage canvas(64, 64, QImage::Format_RGB32);
        canvas.fill(Qt::white);
        QPainter painter(&canvas);
        plain.paint(painter, QRectF(0, 0, 64, 64));
        painter.end();
        const cv::Mat painted = toBgrMat(canvas);
        const cv::Mat expected = overlayHeatmap(image, sampleMap(), options);
        // Qt blends with an 8-bit alpha, the core in double: allow a step of rounding.
        QVERIFY2(cv::norm(painted, expected, cv::NORM_INF) <= 2.0,
                 qPrintable(QString::number(cv::norm(painted, expected, cv::NORM_INF))));
        // The masked cell (row 0, col 3) shows the image untouched.
        QCOMPARE(cv::norm(painted(cv::Rect(48, 0, 16, 16)), image(cv::Rect(48, 0, 16, 16)), cv::NORM_INF), 0.0);
    }

    void exportsPngSvgAndPdf() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        HeatmapPainter figure = sampleFigure(sampleImage());
        FigureOptions options = figure.options();
        options.title = "CLS attention";
        figure.setOptions(options);
        const QSizeF size(300, 240);

        const QString png = dir.filePath("f.png");
        exportFigure(figure, png, size, 144);
        const QImage raster(png);
        QCOMPARE(raster.size(), QSize(600, 480));

        const QString svg = dir.filePath("f.svg");
        exportFigure(figure, svg, size);
        QFile svgFile(svg);
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        const QByteArray svgText = svgFile.readAll();
        QVERIFY(svgText.contains("<svg"));
        QVERIFY(svgText.contains("CLS attention"));
        // Vector cells: the SVG renders back to nearly the same picture as the raster export.
        QSvgRenderer renderer(svg);
        QVERIFY(renderer.isValid());
        QImage fromSvg(600, 480, QImage::Format_RGB32);
        fromSvg.fill(Qt::white);
        QPainter painter(&fromSvg);
        renderer.render(&painter, QRectF(0, 0, 600, 480));
        painter.end();
        const QRectF image = figure.imageRect(QRectF(QPointF(0, 0), size));
        // Compare the centre of cell (2, 1) in both.
        const QPoint centre(int((image.left() + image.width() * 1.5 / 4) * 2), int((image.top() + image.height() * 2.5 / 4) * 2));
        const QColor a = raster.pixelColor(centre), b = fromSvg.pixelColor(centre);
        QVERIFY2(std::abs(a.red() - b.red()) <= 3 && std::abs(a.green() - b.green()) <= 3 && std::abs(a.blue() - b.blue()) <= 3,
                 qPrintable(a.name() + " vs " + b.name()));

        const QString pdf = dir.filePath("f.pdf");
        exportFigure(figure, pdf, size);
        QFile pdfFile(pdf);
        QVERIFY(pdfFile.open(QIODevice::ReadOnly));
        QVERIFY(pdfFile.read(5) == "%PDF-");
        QVERIFY(pdfFile.size() > 1000);
    }

    void badExportIsAClearError() {
        QTemporaryDir dir;
        const HeatmapPainter figure = sampleFigure(sampleImage());
        const QString path = dir.filePath("f.bmpx");
        try {
            exportFigure(figure, path);
            QFAIL("expected an error");
        } catch (const Error& error) {
            QVERIFY(QString(error.what()).contains("f.bmpx"));
            QVERIFY(QString(error.what()).contains("unknown figure format"));
        }
        QVERIFY(!QFile::exists(path));
        QVERIFY_THROWS_EXCEPTION(Error, exportFigure(figure, dir.filePath("missing/dir/f.png")));
    }

    void viewShowsTheFigureAndReportsHoveredCells() {
        HeatmapView view;
        view.setFigure(sampleFigure(sampleImage()));
        view.resize(400, 300);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QImage shot = view.grab().toImage();
        QCOMPARE(shot.size(), QSize(400, 300) * shot.devicePixelRatio());
        if (qEnvironmentVariableIsSet("FOVEA_TEST_OUTPUT_DIR")) {
            shot.save(qEnvironmentVariable("FOVEA_TEST_OUTPUT_DIR") + "/heatmap_view.png");
        }
        QSignalSpy hovered(&view, &HeatmapView::cellHovered);
        const QRectF image = view.figure().imageRect(view.figureRect());
        const QPoint inCell(int(image.left() + image.width() * 2.5 / 4), int(image.top() + image.height() * 1.5 / 4));
        QMouseEvent move(QEvent::MouseMove, QPointF(inCell), view.mapToGlobal(QPointF(inCell)), Qt::NoButton,
                         Qt::NoButton, Qt::NoModifier);
        QApplication::sendEvent(&view, &move);
        QCOMPARE(hovered.count(), 1);
        QCOMPARE(hovered.at(0).at(0).toInt(), 1);  // row
        QCOMPARE(hovered.at(0).at(1).toInt(), 2);  // col
        QCOMPARE(hovered.at(0).at(2).toFloat(), 6.0f / 15.0f);
    }
};

QTEST_MAIN(TestHeatmapView)
#include "test_heatmap_view.moc"
