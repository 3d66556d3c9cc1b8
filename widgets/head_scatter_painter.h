// The heads scatter: every analysed head as a point in the 2D embedding of its attention
// descriptor (PCA or t-SNE), coloured by cluster or by its strongest taxonomy label, selected
// heads ringed, with a legend. The same painter draws the view and the exported figures.
//
//     HeadScatterPainter scatter;
//     scatter.setData(data);                       // HeadData (widgets/head_data.h)
//     scatter.setColouring(HeadScatterPainter::Colouring::Cluster);
//     scatter.paint(painter, QRectF(0, 0, 640, 420));
//     HeadSet inside = scatter.headsInside(target, lassoPolygon);
#pragma once

#include "widgets/head_data.h"

#include <QPainter>
#include <QPolygonF>
#include <QRectF>
#include <QString>

#include <optional>

namespace fovea {

class HeadScatterPainter {
  public:
    enum class Colouring { Cluster, Label };

    void setData(const HeadData& data) { m_data = data; }
    const HeadData& data() const { return m_data; }
    void setColouring(Colouring colouring) { m_colouring = colouring; }
    Colouring colouring() const { return m_colouring; }
    void setSelection(const HeadSet& selection) { m_selection = selection; }
    const HeadSet& selection() const { return m_selection; }
    void setTitle(const QString& title) { m_title = title; }

    QSizeF preferredSize() const { return {620.0, 420.0}; }
    void paint(QPainter& painter, const QRectF& target) const;

    // The square the points are drawn in, and where a head lands in it.
    QRectF plotRect(const QRectF& target) const;
    QPointF position(const QRectF& target, const HeadPoint& point) const;
    // The head whose point is nearest to `at` within `radius` (target coordinates), if any.
    std::optional<HeadKey> headAt(const QRectF& target, const QPointF& at,
                                  double radius = 8.0) const;
    // Every head whose point lies inside the closed polygon (odd-even rule).
    HeadSet headsInside(const QRectF& target, const QPolygonF& polygon) const;
    // The colour a point is filled with under the current colouring.
    Rgb fillColour(const HeadPoint& point) const;

  private:
    double pointRadius(const QRectF& plot) const;
    void paintLegend(QPainter& painter, const QRectF& area) const;

    HeadData m_data;
    Colouring m_colouring = Colouring::Cluster;
    HeadSet m_selection;
    QString m_title;
};

}  // namespace fovea
