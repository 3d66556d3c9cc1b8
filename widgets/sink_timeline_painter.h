// The attention-sink timeline: a layer x token heat grid of the attention mass each token
// receives (mean over queries and heads), cells above the sink threshold tau outlined, and the
// sink tokens marked above their columns: primary sinks (a sink over most layers from early on)
// with a filled triangle, secondary sinks (a sink in a middle span only) with an open diamond.
// Drawn the same on screen and in exported figures.
//
//     SinkTimelinePainter timeline;
//     timeline.setTimeline(sinks);          // SinkTimeline (widgets/head_data.h)
//     timeline.paint(painter, QRectF(0, 0, 720, 300));
#pragma once

#include "widgets/head_data.h"

#include <QPainter>
#include <QRectF>
#include <QString>

#include <optional>
#include <utility>

namespace fovea {

class SinkTimelinePainter {
  public:
    void setTimeline(const SinkTimeline& timeline) { m_timeline = timeline; }
    const SinkTimeline& timeline() const { return m_timeline; }
    void setColormap(const std::string& name) { m_colormap = name; }
    void setTitle(const QString& title) { m_title = title; }

    QSizeF preferredSize() const;
    void paint(QPainter& painter, const QRectF& target) const;
    // The grid cell of (row, token), and the (row, token) under a point.
    QRectF cellRect(const QRectF& target, int row, int token) const;
    std::optional<std::pair<int, int>> cellAt(const QRectF& target, const QPointF& point) const;
    // The colour of a cell's value (shared range 0..max over the grid).
    QColor cellColour(float mass) const;

  private:
    struct Geometry {
        double left, top, cellWidth, cellHeight;
    };
    Geometry geometry(const QRectF& target) const;
    float maximum() const;

    SinkTimeline m_timeline;
    std::string m_colormap = "magma";
    QString m_title;
};

}  // namespace fovea
