// The layer x head atlas: one small attention map per head of every layer (rows = layers,
// columns = heads) plus a "mean" column, for one input and query. Drawn by the same painter on
// screen and in exported figures. Frames can be coloured per head (head-pattern labels).
//
// Colourings (setColouring) answer the head questions on the same grid: taxonomy labels as
// coloured badges and borders with a legend, importance as a colour scale with a colour bar,
// clusters as a colour per cluster with the clusters' names. Selected heads (shared with the
// heads scatter) are washed blue; switched-off heads are crossed out, scaled heads carry "x s".
#pragma once

#include "widgets/head_data.h"

#include "core/image/figure.h"
#include "core/model/attention_stack.h"

#include <QColor>
#include <QImage>
#include <QPainter>
#include <QRectF>
#include <QString>

#include <opencv2/core/mat.hpp>

#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace fovea {

struct AtlasCell {
    int layer = 0;
    int head = -1;  // -1: the mean of the layer's heads
};

enum class AtlasColouring { Attention, Labels, Importance, Cluster };

// "attention", "labels", "importance", "cluster" (the session's names) and back; unknown names
// give Attention.
AtlasColouring atlasColouringFromName(const std::string& name);
std::string atlasColouringName(AtlasColouring colouring);

class AtlasPainter {
public:
    // Raw attention of `query` for every captured layer and head of the stack (and the mean).
    void setAttention(const AttentionStack& stack, int query);
    void setImage(const QImage& image) { m_image = image; }
    void setOptions(const FigureOptions& options) { m_options = options; }
    void setShowImage(bool show) { m_showImage = show; }
    // Each map coloured over its own range (default) or all over the atlas's global range.
    void setSharedRange(bool shared) { m_sharedRange = shared; }
    void setFrameColor(int layer, int head, const QColor& color) { m_frames[{layer, head}] = color; }
    void setFocus(std::optional<AtlasCell> cell) { m_focus = cell; }
    // What colours the cells (the head data gives labels, clusters and importance).
    void setColouring(AtlasColouring colouring) { m_colouring = colouring; }
    AtlasColouring colouring() const { return m_colouring; }
    void setHeadData(const HeadData& data) { m_headData = data; }
    const HeadData& headData() const { return m_headData; }
    void setSelection(const HeadSet& selection) { m_selection = selection; }
    const HeadSet& selection() const { return m_selection; }
    void setScales(const HeadScaleMap& scales) { m_scales = scales; }
    const HeadScaleMap& scales() const { return m_scales; }
    // The colour the importance colouring gives a value (the data's range, viridis).
    QColor importanceColour(double value) const;

    int layers() const { return int(m_layers.size()); }
    int heads() const { return m_heads; }
    const cv::Mat& map(int layerRow, int headColumn) const;  // headColumn == heads(): the mean
    std::optional<AtlasCell> focus() const { return m_focus; }

    QSizeF preferredSize(double cellSide = 72.0) const;
    void paint(QPainter& painter, const QRectF& target) const;
    QRectF cellRect(const QRectF& target, int layerRow, int column) const;
    std::optional<AtlasCell> cellAt(const QRectF& target, const QPointF& point) const;

private:
    struct Geometry {
        double left, top, cell, gap;
    };
    Geometry geometry(const QRectF& target) const;
    double legendWidth(const QRectF& target) const;
    void paintColouring(QPainter& painter, const QRectF& box, const HeadKey& key, double gap) const;
    void paintLegend(QPainter& painter, const QRectF& area) const;

    std::vector<int> m_layers;                 // model layer of each row
    int m_heads = 0;
    std::vector<std::vector<cv::Mat>> m_maps;  // [row][head + mean]
    QImage m_image;
    FigureOptions m_options;
    bool m_showImage = false;
    bool m_sharedRange = false;
    std::map<std::pair<int, int>, QColor> m_frames;
    std::optional<AtlasCell> m_focus;
    AtlasColouring m_colouring = AtlasColouring::Attention;
    HeadData m_headData;
    HeadSet m_selection;
    HeadScaleMap m_scales;
};

}  // namespace fovea
