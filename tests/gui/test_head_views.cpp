// The head views on planted data, without a model: the lasso selects exactly the heads whose
// points lie inside the drawn polygon (checked by an independent crossing-number test), points
// are drawn where the painter says they are, the atlas and the scatter share one selection both
// ways, the atlas colourings paint what the data says (importance colour scale, label and
// cluster colours, switched-off heads), the sink timeline marks the planted sinks, sink tokens
// leave heatmaps renormalised, and every head figure exports as valid SVG.
#include "core/model/token_info.h"
#include "core/util/error.h"
#include "widgets/atlas_view.h"
#include "widgets/figure_export.h"
#include "widgets/head_figures.h"
#include "widgets/head_scatter_view.h"
#include "widgets/heads_controller.h"
#include "widgets/heads_page.h"
#include "widgets/job_runner.h"

#include <QComboBox>
#include <QFile>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QXmlStreamReader>
#include <QtTest>

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <random>

using namespace fovea;

namespace {

// `layers` x `heads` heads at random positions in three planted clusters, labels by a rule.
HeadData plantedHeads(int layers, int heads, unsigned seed) {
    std::mt19937 random(seed);
    std::normal_distribution<double> noise(0.0, 0.6);
    const double centres[3][2] = {{-4.0, -1.0}, {3.0, 4.0}, {2.5, -3.5}};
    HeadData data;
    data.layers = layers;
    data.heads = heads;
    data.labels = {
        {"local", {230, 159, 0}, ""}, {"sink", {0, 114, 178}, ""}, {"row", {204, 121, 167}, ""}};
    data.clusterNames = {"local", "sink", "row+local"};
    for (int l = 0; l < layers; ++l) {
        for (int h = 0; h < heads; ++h) {
            HeadPoint p;
            p.key = {l, h};
            p.cluster = (l * heads + h) % 3;
            p.x = centres[p.cluster][0] + noise(random);
            p.y = centres[p.cluster][1] + noise(random);
            p.xyz = {p.x, p.y, noise(random)};
            if (p.cluster == 0) p.labels = {0};
            if (p.cluster == 1) p.labels = {1};
            if (p.cluster == 2) p.labels = {2, 0};
            p.importance = 0.1 * (l * heads + h);
            p.features = {{"entropy", 1.0 + h}, {"mean_distance", 8.0 * l}};
            p.pattern = cv::Mat(7, 7, CV_32F, cv::Scalar(0.01f));
            p.pattern.at<float>(3, 3) = 1.0f;
            data.points.push_back(p);
        }
    }
    return data;
}

// Crossing-number point-in-polygon (Shimrat 1962): a horizontal ray from the point crosses the
// closed polygon's edges an odd number of times iff the point is inside.
bool insidePolygon(const QPointF& point, const QPolygonF& polygon) {
    bool inside = false;
    const int n = int(polygon.size());
    for (int i = 0, j = n - 1; i < n; j = i++) {
        const QPointF a = polygon[i], b = polygon[j];
        if ((a.y() > point.y()) != (b.y() > point.y())) {
            const double x = a.x() + (point.y() - a.y()) * (b.x() - a.x()) / (b.y() - a.y());
            if (point.x() < x) inside = !inside;
        }
    }
    return inside;
}

// A random star-shaped, usually non-convex polygon around `centre` with whole-pixel vertices.
QPolygonF randomLasso(std::mt19937& random, const QPointF& centre, double radius, int vertices) {
    std::uniform_real_distribution<double> scale(0.25, 1.0);
    QPolygonF polygon;
    for (int i = 0; i < vertices; ++i) {
        const double angle = 2.0 * M_PI * i / vertices;
        const double r = radius * scale(random);
        polygon << QPointF(std::round(centre.x() + r * std::cos(angle)),
                           std::round(centre.y() + r * std::sin(angle)));
    }
    return polygon;
}

QColor pixel(const QImage& image, const QPointF& at) {
    return image.pixelColor(int(std::floor(at.x())), int(std::floor(at.y())));
}

bool near(const QColor& a, const QColor& b, int tolerance = 6) {
    return std::abs(a.red() - b.red()) <= tolerance &&
           std::abs(a.green() - b.green()) <= tolerance &&
           std::abs(a.blue() - b.blue()) <= tolerance;
}

// A valid SVG document Qt can render, containing `needle`.
void checkSvg(const QString& path, const QString& needle) {
    QFile file(path);
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(path));
    const QByteArray content = file.readAll();
    QXmlStreamReader xml(content);
    while (!xml.atEnd()) xml.readNext();
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QSvgRenderer renderer(content);
    QVERIFY(renderer.isValid());
    QVERIFY2(content.contains(needle.toUtf8()), qPrintable(needle));
}

}  // namespace

class TestHeadViews : public QObject {
    Q_OBJECT

  private Q_SLOTS:
    // Every point is drawn at position(): its fill colour is there in the rendered view.
    void pointsAreDrawnWherePositionSays() {
        HeadScatterView view;
        view.resize(700, 480);
        const HeadData data = plantedHeads(3, 4, 7);
        view.setData(data);
        const QImage image = view.grab().toImage();
        for (const HeadPoint& p : data.points) {
            const QPointF at = view.painter().position(view.scatterRect(), p);
            const Rgb rgb = clusterColour(p.cluster);
            // Neighbours may overlap a point; a point is found when its centre or one of the
            // pixels beside it has its colour.
            bool found = false;
            for (const QPointF d :
                 {QPointF(0, 0), QPointF(1, 0), QPointF(-1, 0), QPointF(0, 1), QPointF(0, -1)}) {
                found = found || near(pixel(image, at + d), QColor(rgb[0], rgb[1], rgb[2]), 10);
            }
            QVERIFY2(found, qPrintable(QString("L%1 h%2").arg(p.key.layer).arg(p.key.head)));
        }
        // The extremes of the data land at the extremes of the plot.
        const auto byX =
            std::minmax_element(data.points.begin(), data.points.end(),
                                [](const HeadPoint& a, const HeadPoint& b) { return a.x < b.x; });
        QVERIFY(view.painter().position(view.scatterRect(), *byX.first).x() <
                view.painter().position(view.scatterRect(), *byX.second).x());
    }

    // The lasso picks exactly the points inside: 40 random polygons over 300 random heads, the
    // selection compared head by head with a brute-force crossing-number test.
    void lassoSelectsExactlyThePointsInside() {
        HeadScatterView view;
        view.resize(800, 560);
        const HeadData data = plantedHeads(12, 25, 11);
        view.setData(data);
        std::mt19937 random(3);
        const QRectF plot = view.painter().plotRect(view.scatterRect());
        std::uniform_real_distribution<double> cx(plot.left(), plot.right()),
            cy(plot.top(), plot.bottom());
        int selectedTotal = 0;
        for (int trial = 0; trial < 40; ++trial) {
            const QPolygonF lasso = randomLasso(random, QPointF(cx(random), cy(random)),
                                                plot.width() * 0.3, 5 + trial % 9);
            QSignalSpy changed(&view, &HeadScatterView::selectionChanged);
            view.applyLasso(lasso, false);
            HeadSet expected;
            for (const HeadPoint& p : data.points) {
                if (insidePolygon(view.painter().position(view.scatterRect(), p), lasso))
                    expected.insert(p.key);
            }
            QCOMPARE(view.selection().size(), expected.size());
            QVERIFY(view.selection() == expected);
            selectedTotal += int(expected.size());
        }
        // The polygons were neither all empty nor all-encompassing.
        QVERIFY(selectedTotal > 40);
        QVERIFY(selectedTotal < 40 * 300);
    }

    // The same through the mouse: press, drag along the polygon, release; Shift adds.
    void lassoByMouseDragAndShiftAdds() {
        HeadScatterView view;
        view.resize(800, 560);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const HeadData data = plantedHeads(6, 10, 5);
        view.setData(data);
        const QRectF plot = view.painter().plotRect(view.scatterRect());
        std::mt19937 random(9);
        const auto drag = [&](const QPolygonF& lasso, Qt::KeyboardModifiers modifiers) {
            QTest::mousePress(&view, Qt::LeftButton, modifiers, lasso[0].toPoint());
            for (int i = 1; i < lasso.size(); ++i) QTest::mouseMove(&view, lasso[i].toPoint());
            QTest::mouseRelease(&view, Qt::LeftButton, modifiers, lasso[0].toPoint());
        };
        const auto inside = [&](const QPolygonF& lasso) {
            HeadSet heads;
            for (const HeadPoint& p : data.points) {
                if (insidePolygon(view.painter().position(view.scatterRect(), p), lasso))
                    heads.insert(p.key);
            }
            return heads;
        };
        const QPolygonF first = randomLasso(random, plot.center() - QPointF(plot.width() * 0.2, 0),
                                            plot.width() * 0.3, 8);
        const QPolygonF second = randomLasso(random, plot.center() + QPointF(plot.width() * 0.2, 0),
                                             plot.width() * 0.3, 8);
        QSignalSpy changed(&view, &HeadScatterView::selectionChanged);
        drag(first, Qt::NoModifier);
        QVERIFY(!inside(first).empty());
        QVERIFY(view.selection() == inside(first));
        QCOMPARE(changed.count(), 1);
        drag(second, Qt::ShiftModifier);
        HeadSet both = inside(first);
        const HeadSet secondHeads = inside(second);
        both.insert(secondHeads.begin(), secondHeads.end());
        QVERIFY(view.selection() == both);
        // A click on a point selects it alone; a click on empty space clears.
        const HeadPoint& target = data.points[5];
        QTest::mouseClick(&view, Qt::LeftButton, Qt::NoModifier,
                          view.painter().position(view.scatterRect(), target).toPoint());
        QVERIFY(view.selection() == HeadSet{target.key});
        QTest::mouseClick(&view, Qt::LeftButton, Qt::NoModifier, QPoint(3, view.height() - 3));
        QVERIFY(view.selection().empty());
        // Hovering a point shows its card (name, labels, pattern thumbnail) beside the cursor.
        const QImage before = view.grab().toImage();
        const QPoint at = view.painter().position(view.scatterRect(), target).toPoint();
        QTest::mouseMove(&view, at);
        QVERIFY(view.hovered().has_value());
        QCOMPARE(view.hovered()->layer, target.key.layer);
        QCOMPARE(view.hovered()->head, target.key.head);
        const QImage after = view.grab().toImage();
        if (qEnvironmentVariableIsSet("FOVEA_TEST_SHOTS"))
            after.save(qEnvironmentVariable("FOVEA_TEST_SHOTS") + "/scatter_hover_card.png");
        // The card lies to the lower right of the cursor, or to its left near the right edge.
        int differing = 0;
        for (int y = 0; y < after.height(); ++y) {
            for (int x = 0; x < after.width(); ++x) differing += before.pixel(x, y) != after.pixel(x, y);
        }
        QVERIFY2(differing > 84 * 84, qPrintable(QString("%1 pixels changed").arg(differing)));
    }

    // Atlas and scatter share one selection, whichever side the user works in.
    void atlasAndScatterSelectionsAreLinked() {
        JobRunner jobs;
        AtlasView atlas;
        HeadSettings settings;
        QWidget host;
        HeadsController heads(settings, &jobs, &atlas, &host);
        HeadsPage* page = heads.page();
        const HeadData data = plantedHeads(3, 4, 21);
        AtlasPainter painter;
        AttentionStack stack;  // an atlas grid of 3 x 4 heads with uniform 2 x 2 maps
        stack.tokens = TokenLayout::forVisionTransformer(true, false, 0, 2, 2);
        stack.modelLayers = 3;
        stack.modelHeads = 4;
        for (int l = 0; l < 3; ++l) {
            AttentionLayer layer;
            layer.layer = l;
            layer.heads = {0, 1, 2, 3};
            layer.tokens = 5;
            layer.precision = AttentionPrecision::Float32;
            layer.floatValues.assign(4 * 5 * 5, 0.2f);
            stack.layers.push_back(layer);
        }
        painter.setAttention(stack, 0);
        atlas.setAtlas(painter);
        atlas.setHeadData(data);
        page->setData(data, {});
        atlas.resize(600, 500);
        page->resize(800, 560);

        // Lasso in the scatter -> the atlas shows the same heads selected.
        QSignalSpy linked(&heads, &HeadsController::selectionChanged);
        const QRectF plot = page->scatter()->painter().plotRect(page->scatter()->scatterRect());
        page->scatter()->applyLasso(
            QPolygonF(QRectF(plot.left(), plot.top(), plot.width() / 2, plot.height())), false);
        QCOMPARE(linked.count(), 1);
        const HeadSet fromScatter = page->scatter()->selection();
        QVERIFY(!fromScatter.empty());
        QVERIFY(atlas.atlas().selection() == fromScatter);
        QVERIFY(heads.selection() == fromScatter);
        QCOMPARE(int(settings.selection.size()), int(fromScatter.size()));

        // Ctrl+click in the atlas toggles a head -> the scatter follows.
        const HeadKey extra{2, 3};
        const bool wasSelected = fromScatter.count(extra) > 0;
        const QRectF cell = atlas.atlas().cellRect(atlas.atlasRect(), 2, 3);
        QTest::mouseClick(&atlas, Qt::LeftButton, Qt::ControlModifier, cell.center().toPoint());
        QCOMPARE(page->scatter()->selection().count(extra) > 0, !wasSelected);
        QVERIFY(page->scatter()->selection() == atlas.atlas().selection());
        // A plain click selects that head alone, in both views.
        const QRectF other = atlas.atlas().cellRect(atlas.atlasRect(), 0, 1);
        QTest::mouseClick(&atlas, Qt::LeftButton, Qt::NoModifier, other.center().toPoint());
        QVERIFY(page->scatter()->selection() == (HeadSet{{0, 1}}));
        QVERIFY(heads.selection() == (HeadSet{{0, 1}}));
        // Clear from the page.
        heads.setSelection({});
        QVERIFY(atlas.atlas().selection().empty());
        QVERIFY(page->scatter()->selection().empty());

        // The intervention: scales land in the settings and the atlas; 1 restores; out of range
        // throws.
        QSignalSpy intervened(&heads, &HeadsController::interventionChanged);
        heads.setHeadScale({1, 2}, 0.0f);
        heads.setHeadScale({0, 0}, 1.5f);
        QCOMPARE(intervened.count(), 2);
        QCOMPARE(settings.scaleOf(1, 2), 0.0f);
        QCOMPARE(atlas.atlas().scales().at(HeadKey{0, 0}), 1.5f);
        QVERIFY_THROWS_EXCEPTION(Error, heads.setHeadScale({0, 0}, 2.5f));
        QCOMPARE(settings.scaleOf(0, 0), 1.5f);  // unchanged by the refused request
        heads.setHeadScale({0, 0}, 1.0f);
        QCOMPARE(int(settings.scales.size()), 1);
        heads.resetHeads();
        QVERIFY(!settings.intervened());
        QVERIFY(atlas.atlas().scales().empty());
        QCOMPARE(intervened.count(), 4);

        // The heads list beside the views: one checkbox per head, showing and making the
        // intervention.
        QTreeWidget* list = page->headSwitches();
        QCOMPARE(list->topLevelItemCount(), 3);
        QCOMPARE(list->topLevelItem(2)->childCount(), 4);
        const auto state = [&](int layer, int head) {
            return list->topLevelItem(layer)->child(head)->checkState(0);
        };
        QCOMPARE(state(1, 2), Qt::Checked);
        list->topLevelItem(1)->child(2)->setCheckState(0, Qt::Unchecked);  // as a click does
        QCOMPARE(settings.scaleOf(1, 2), 0.0f);
        QCOMPARE(intervened.count(), 5);
        QCOMPARE(atlas.atlas().scales().at(HeadKey{1, 2}), 0.0f);
        heads.setHeadScale({2, 1}, 0.5f);  // elsewhere: the list follows
        QCOMPARE(state(2, 1), Qt::PartiallyChecked);
        QVERIFY(list->topLevelItem(2)->child(1)->text(0).contains("0.5"));
        list->topLevelItem(2)->child(1)->setCheckState(0, Qt::Checked);  // restores
        QCOMPARE(settings.scaleOf(2, 1), 1.0f);
        heads.resetHeads();
        QCOMPARE(state(1, 2), Qt::Checked);
        QCOMPARE(intervened.count(), 8);
    }

    // Each colouring paints what the data says.
    void atlasColouringsPaintTheData() {
        const HeadData data = plantedHeads(2, 3, 4);
        AttentionStack stack;
        stack.tokens = TokenLayout::forVisionTransformer(true, false, 0, 2, 2);
        stack.modelLayers = 2;
        stack.modelHeads = 3;
        for (int l = 0; l < 2; ++l) {
            AttentionLayer layer;
            layer.layer = l;
            layer.heads = {0, 1, 2};
            layer.tokens = 5;
            layer.precision = AttentionPrecision::Float32;
            layer.floatValues.assign(3 * 5 * 5, 0.2f);
            stack.layers.push_back(layer);
        }
        AtlasPainter atlas;
        atlas.setAttention(stack, 0);
        atlas.setHeadData(data);
        const QRectF target(0, 0, 640, 360);
        const auto render = [&] {
            QImage image(640, 360, QImage::Format_RGB32);
            image.fill(Qt::white);
            QPainter painter(&image);
            atlas.paint(painter, target);
            painter.end();
            return image;
        };
        // Importance: the cell's corner has the colour of its value on the data's scale; the
        // least and most important heads get the two ends of viridis.
        atlas.setColouring(AtlasColouring::Importance);
        QImage image = render();
        for (const HeadPoint& p : data.points) {
            const QRectF cell = atlas.cellRect(target, p.key.layer, p.key.head);
            QVERIFY(near(pixel(image, cell.topLeft() + QPointF(3, cell.height() - 3)),
                         atlas.importanceColour(p.importance)));
        }
        QVERIFY(near(atlas.importanceColour(0.0), QColor(68, 1, 84)));     // viridis[0]
        QVERIFY(near(atlas.importanceColour(0.5), QColor(253, 231, 36)));  // viridis[255]
        // Labels: the border has the strongest label's colour.
        atlas.setColouring(AtlasColouring::Labels);
        image = render();
        for (const HeadPoint& p : data.points) {
            const QRectF cell = atlas.cellRect(target, p.key.layer, p.key.head);
            const Rgb rgb = data.labels[std::size_t(p.labels.front())].rgb;
            QVERIFY(near(pixel(image, QPointF(cell.center().x(), cell.bottom() - 2)),
                         QColor(rgb[0], rgb[1], rgb[2]), 12));
        }
        // Cluster: the same with the cluster's colour; a switched-off head is crossed out
        // (its centre dark), a selected one washed blue.
        atlas.setColouring(AtlasColouring::Cluster);
        const QImage plain = render();
        for (const HeadPoint& p : data.points) {
            const QRectF cell = atlas.cellRect(target, p.key.layer, p.key.head);
            const Rgb rgb = clusterColour(p.cluster);
            QVERIFY(near(pixel(plain, QPointF(cell.center().x(), cell.bottom() - 2)),
                         QColor(rgb[0], rgb[1], rgb[2]), 12));
        }
        atlas.setScales({{HeadKey{1, 1}, 0.0f}});
        atlas.setSelection({HeadKey{0, 2}});
        image = render();
        const QRectF off = atlas.cellRect(target, 1, 1);
        QVERIFY(pixel(image, off.center()).lightness() < 80);
        QVERIFY(pixel(plain, off.center()).lightness() >= 80 ||
                pixel(plain, off.center()) != pixel(image, off.center()));
        const QRectF selected = atlas.cellRect(target, 0, 2);
        const QPointF probe =
            selected.center() + QPointF(selected.width() / 4, selected.height() / 4);
        const QColor before = pixel(plain, probe), washed = pixel(image, probe);
        QVERIFY2(washed.blue() - washed.red() > before.blue() - before.red() + 10,
                 qPrintable(washed.name() + " " + before.name()));
        // Heads neither selected nor intervened look as before.
        const QRectF untouched = atlas.cellRect(target, 1, 2);
        QCOMPARE(pixel(image, untouched.center()), pixel(plain, untouched.center()));
    }

    // The sink timeline: a planted primary sink (token 0, every layer) and a secondary one
    // (token 3, middle layers) are marked above their columns; cells above tau are framed.
    void sinkTimelineMarksPlantedSinks() {
        SinkTimeline timeline;
        timeline.layers = {0, 1, 2, 3, 4, 5};
        timeline.mass = cv::Mat(6, 10, CV_32F, cv::Scalar(0.05f));
        for (int r = 0; r < 6; ++r) timeline.mass.at<float>(r, 0) = 0.6f;
        for (int r = 2; r < 4; ++r) timeline.mass.at<float>(r, 3) = 0.35f;
        for (int t = 0; t < 10; ++t)
            timeline.tokenLabels.push_back(t == 0 ? "CLS" : "P" + std::to_string(t));
        timeline.primary = {0};
        timeline.secondary = {3};
        SinkTimelinePainter painter;
        painter.setTimeline(timeline);
        const QSizeF size = painter.preferredSize();
        QImage image(size.toSize(), QImage::Format_RGB32);
        image.fill(Qt::white);
        QPainter p(&image);
        const QRectF target(QPointF(0, 0), size);
        painter.paint(p, target);
        p.end();
        // The cell colours follow magma over 0..max: the strongest sink at the top of the scale.
        const QRectF strongest = painter.cellRect(target, 2, 0);
        QVERIFY(near(pixel(image, strongest.center()), painter.cellColour(0.6f)));
        QVERIFY(near(painter.cellColour(0.6f), QColor(252, 253, 191)));  // magma[255]
        const QRectF quiet = painter.cellRect(target, 0, 5);
        QVERIFY(near(pixel(image, quiet.center()), painter.cellColour(0.05f)));
        // Markers: the primary sink's triangle is red above column 0, the secondary's diamond
        // blue above column 3, nothing above column 6.
        const auto above = [&](int token) {
            return painter.cellRect(target, 0, token).center() -
                   QPointF(0, painter.cellRect(target, 0, token).height() / 2 + 8);
        };
        QColor mark = pixel(image, above(0));
        QVERIFY2(mark.red() > 150 && mark.green() < 100, qPrintable(mark.name()));
        bool blue = false;
        for (int dy = -6; dy <= 6 && !blue; ++dy) {
            for (int dx = -6; dx <= 6 && !blue; ++dx) {
                const QColor c = pixel(image, above(3) + QPointF(dx, dy));
                blue = c.blue() > 150 && c.red() < 80;
            }
        }
        QVERIFY(blue);
        QVERIFY(near(pixel(image, above(6)), Qt::white));
        // Hover: the cell under a point is found back.
        const auto cell = painter.cellAt(target, painter.cellRect(target, 4, 7).center());
        QVERIFY(cell.has_value());
        QCOMPARE(cell->first, 4);
        QCOMPARE(cell->second, 7);
    }

    // Excluding tokens: their patches masked, the rest renormalised to sum 1 in proportion.
    void excludedTokensLeaveARenormalisedMap() {
        const TokenLayout tokens = TokenLayout::forVisionTransformer(true, false, 0, 2, 3);
        cv::Mat map = (cv::Mat_<float>(2, 3) << 0.1f, 0.2f, 0.05f, 0.3f, 0.05f, 0.1f);
        // CLS (0) is not in the map; patch (0,1) is position 2, patch (1,0) is position 4.
        const cv::Mat result =
            withoutTokens(map, tokens, {0, tokens.patchIndex(0, 1), tokens.patchIndex(1, 0)});
        QVERIFY(std::isnan(result.at<float>(0, 1)));
        QVERIFY(std::isnan(result.at<float>(1, 0)));
        // Remaining 0.1, 0.05, 0.05, 0.1 (sum 0.3) -> 1/3, 1/6, 1/6, 1/3.
        QVERIFY(std::abs(result.at<float>(0, 0) - 1.0f / 3.0f) < 1e-6f);
        QVERIFY(std::abs(result.at<float>(0, 2) - 1.0f / 6.0f) < 1e-6f);
        QVERIFY(std::abs(result.at<float>(1, 1) - 1.0f / 6.0f) < 1e-6f);
        QVERIFY(std::abs(result.at<float>(1, 2) - 1.0f / 3.0f) < 1e-6f);
        // Only non-patch tokens excluded: nothing masked, sum 1.
        const cv::Mat clsOnly = withoutTokens(map, tokens, {0});
        QVERIFY(std::abs(cv::sum(clsOnly)[0] - 1.0) < 1e-6);
        QVERIFY_THROWS_EXCEPTION(Error, withoutTokens(cv::Mat(2, 3, CV_8U), tokens, {}));
    }

    // Exports of the scatter (both colourings), the timeline and the atlas (every colouring)
    // are valid SVG that carry their legends.
    void headFiguresExportAsValidSvg() {
        QTemporaryDir dir;
        const HeadData data = plantedHeads(3, 4, 8);
        HeadScatterPainter scatter;
        scatter.setData(data);
        scatter.setSelection({{0, 1}, {2, 2}});
        const QString scatterPath = dir.filePath("scatter.svg");
        exportPainting([&](QPainter& p, const QRectF& r) { scatter.paint(p, r); }, scatterPath,
                       scatter.preferredSize());
        checkSvg(scatterPath, "Clusters");
        checkSvg(scatterPath, "row+local");
        scatter.setColouring(HeadScatterPainter::Colouring::Label);
        exportPainting([&](QPainter& p, const QRectF& r) { scatter.paint(p, r); }, scatterPath,
                       scatter.preferredSize());
        checkSvg(scatterPath, "Strongest label");

        SinkTimeline timeline;
        timeline.layers = {0, 1};
        timeline.mass = cv::Mat(2, 4, CV_32F, cv::Scalar(0.1f));
        timeline.mass.at<float>(0, 0) = 0.7f;
        timeline.primary = {0};
        SinkTimelinePainter sinks;
        sinks.setTimeline(timeline);
        const QString sinksPath = dir.filePath("sinks.svg");
        exportPainting([&](QPainter& p, const QRectF& r) { sinks.paint(p, r); }, sinksPath,
                       sinks.preferredSize());
        checkSvg(sinksPath, "primary sink");

        AttentionStack stack;
        stack.tokens = TokenLayout::forVisionTransformer(true, false, 0, 2, 2);
        stack.modelLayers = 3;
        stack.modelHeads = 4;
        for (int l = 0; l < 3; ++l) {
            AttentionLayer layer;
            layer.layer = l;
            layer.heads = {0, 1, 2, 3};
            layer.tokens = 5;
            layer.precision = AttentionPrecision::Float32;
            layer.floatValues.assign(4 * 5 * 5, 0.2f);
            stack.layers.push_back(layer);
        }
        AtlasPainter atlas;
        atlas.setAttention(stack, 0);
        atlas.setHeadData(data);
        const std::pair<AtlasColouring, QString> colourings[] = {
            {AtlasColouring::Attention, "mean"},
            {AtlasColouring::Labels, "Head labels"},
            {AtlasColouring::Importance, "Importance"},
            {AtlasColouring::Cluster, "Clusters"}};
        for (const auto& [colouring, needle] : colourings) {
            atlas.setColouring(colouring);
            const QString path =
                dir.filePath(QString::fromStdString(atlasColouringName(colouring)) + ".svg");
            exportPainting([&](QPainter& p, const QRectF& r) { atlas.paint(p, r); }, path,
                           atlas.preferredSize());
            checkSvg(path, needle);
        }
        // An unknown extension is a clear error, no file.
        QVERIFY_THROWS_EXCEPTION(
            Error, exportPainting([&](QPainter& p, const QRectF& r) { scatter.paint(p, r); },
                                  dir.filePath("scatter.bmp"), scatter.preferredSize()));
        QVERIFY(!QFile::exists(dir.filePath("scatter.bmp")));
    }
};

QTEST_MAIN(TestHeadViews)
#include "test_head_views.moc"
