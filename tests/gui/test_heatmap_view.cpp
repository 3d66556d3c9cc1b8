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

#include <algorithm>
#include <cmath>
#include <vector>
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

    void contourLinesFollowTheIsoValue() {
        // A cone: value 1 - r / 10 in cell units around the centre of a 16 x 16 grid.
        cv::Mat1f cone(16, 16);
        float low = 1e9f, high = -1e9f;
        for (int r = 0; r < 16; ++r) {
            for (int c = 0; c < 16; ++c) {
                const float d = std::hypot(r + 0.5f - 8.0f, c + 0.5f - 8.0f);
                cone(r, c) = 1.0f - d / 10.0f;
                low = std::min(low, cone(r, c));
                high = std::max(high, cone(r, c));
            }
        }
        HeatmapPainter figure;
        QImage grey(320, 320, QImage::Format_RGB32);
        grey.fill(QColor(128, 128, 128));
        figure.setImage(grey);
        figure.setHeatmap(cone);
        FigureOptions options;
        options.colorbar = false;
        options.opacity = 0.0f;  // only the lines show
        options.colormap = "gray";
        figure.setOptions(options);
        QImage plain(320, 320, QImage::Format_RGB32), lined(320, 320, QImage::Format_RGB32);
        plain.fill(Qt::gray);
        lined.fill(Qt::gray);
        {
            QPainter p(&plain);
            figure.paint(p, QRectF(0, 0, 320, 320));
        }
        figure.setContourLevels(1);
        {
            QPainter p(&lined);
            figure.paint(p, QRectF(0, 0, 320, 320));
        }
        // The one level is the middle of the range; on the cone that is a circle of this radius.
        const double level = (low + high) / 2.0;
        const double radius = (1.0 - level) * 10.0 * 20.0;  // cells -> pixels (20 px per cell)
        std::vector<double> distances;
        for (int y = 0; y < 320; ++y) {
            for (int x = 0; x < 320; ++x) {
                if (plain.pixel(x, y) != lined.pixel(x, y)) distances.push_back(std::hypot(x + 0.5 - 160.0, y + 0.5 - 160.0));
            }
        }
        QVERIFY2(distances.size() > 300, qPrintable(QString::number(distances.size())));
        std::sort(distances.begin(), distances.end());
        const double median = distances[distances.size() / 2];
        QVERIFY2(std::abs(median - radius) < 0.05 * radius, qPrintable(QString("median %1, expected %2").arg(median).arg(radius)));
        QVERIFY(distances.front() > 0.8 * radius && distances.back() < 1.2 * radius);
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
