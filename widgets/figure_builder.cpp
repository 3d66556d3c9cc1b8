#include "widgets/figure_builder.h"

#include "core/session/view_map.h"
#include "widgets/head_figures.h"
#include "widgets/qt_convert.h"

#include <QCoreApplication>

namespace fovea {

QString viewTitle(const ModelSpec& spec, const ModelOutputs& outputs, const ViewSettings& view) {
    const auto tr = [](const char* text) { return QCoreApplication::translate("fovea::Figure", text); };
    if (!viewUsesAttention(view)) {
        // Model-level methods explain the top-1 class; layer only where the method has one.
        const Explainer& method = findExplainer(view.method);
        QString what = QString::fromStdString(method.title());
        for (const ExplainerParam& p : method.parameters()) {
            if (p.name == "layer" && view.layer >= 0) what += tr(", feature layer %1").arg(view.layer);
        }
        return tr("%1; predicted %2").arg(what, QString::fromStdString(spec.labelOf(outputs.topClass())));
    }
    const QString what = view.method == "raw"
                             ? tr("layer %1").arg(view.layer < 0 ? spec.depth - 1 : view.layer)
                             : QString::fromStdString(view.method);
    const bool fused = view.heads == "mean" || view.heads == "max" || view.heads == "min";
    const QString heads = fused ? tr("%1 of heads").arg(QString::fromStdString(view.heads))
                                : tr("head %1").arg(QString::fromStdString(view.heads));
    const int query = view.query < 0 ? std::max(0, outputs.attention.tokens.firstOf(TokenKind::Cls)) : view.query;
    const QString queryLabel = query < outputs.attention.tokens.size()
                                   ? QString::fromStdString(outputs.attention.tokens[query].label())
                                   : QString::number(query);
    return tr("%1, %2, query %3; predicted %4")
        .arg(what, heads, queryLabel, QString::fromStdString(spec.labelOf(outputs.topClass())));
}

HeatmapPainter buildHeatmapFigure(const ImageInput& input, const ModelOutputs& outputs, const ViewSettings& view) {
    cv::Mat map = computeViewMap(outputs.attention, view);
    if (view.excludeSinks && viewUsesAttention(view)) map = withoutSinkTokens(map, outputs.attention, view);
    return buildHeatmapFigure(input, map, view);
}

HeatmapPainter buildHeatmapFigure(const ImageInput& input, const cv::Mat& map, const ViewSettings& view) {
    const FigureOptions figure = resolvedFigure(map, view);
    HeatmapPainter painter;
    painter.setImage(toQImage(input.view));
    painter.setHeatmap(thresholdedMap(map, view, figure));
    painter.setOptions(figure);
    painter.setContourLevels(view.contours);
    return painter;
}

AtlasPainter buildAtlasFigure(const ImageInput& input, const ModelOutputs& outputs, const ViewSettings& view,
                              std::optional<AtlasCell> focus) {
    int query = view.query;
    if (query < 0) query = std::max(0, outputs.attention.tokens.firstOf(TokenKind::Cls));
    AtlasPainter atlas;
    atlas.setAttention(outputs.attention, query);
    atlas.setImage(toQImage(input.view));
    atlas.setOptions(view.figure);
    atlas.setFocus(focus);
    return atlas;
}

}  // namespace fovea
