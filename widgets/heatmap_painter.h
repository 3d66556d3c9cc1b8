// Draws an image with an attention heatmap over it, a title and a colorbar, onto any QPainter:
// the widget on screen and the PNG / SVG / PDF figure exports use this same painter, so what is
// exported is what is seen. Patch cells are vector rectangles (crisp in SVG and PDF); the
// smooth mode draws a bilinearly upsampled raster instead.
//
//     HeatmapPainter figure;
//     figure.setImage(toQImage(scene));
//     figure.setHeatmap(map);                 // CV_32F rows x cols, NaN = masked cell
//     QPainter painter(&image);
//     figure.paint(painter, QRectF(0, 0, 600, 480));
#pragma once

#include "core/image/figure.h"

#include <QImage>
#include <QPainter>
#include <QRectF>
#include <QString>

#include <opencv2/core/mat.hpp>

#include <optional>

namespace fovea {

class HeatmapPainter {
public:
    void setImage(const QImage& image) { m_image = image; }
    // A single-channel float map; throws fovea::Error otherwise.
    void setHeatmap(const cv::Mat& heatmap);
    void setOptions(const FigureOptions& options) { m_options = options; }
    // Iso-lines of the (bilinearly upsampled) map at `levels` evenly spaced values inside the
    // colour range, drawn as vector paths; 0 draws none.
    void setContourLevels(int levels) { m_contourLevels = levels; }
    int contourLevels() const { return m_contourLevels; }
    const QImage& image() const { return m_image; }
    const cv::Mat& heatmap() const { return m_heatmap; }
    const FigureOptions& options() const { return m_options; }
    ValueRange range() const;

    // A natural size in points for the figure: the image at `imageSide` on its longer side.
    QSizeF preferredSize(double imageSide = 360.0) const;
    void paint(QPainter& painter, const QRectF& target) const;

    // Where the image lands inside `target` (aspect kept), and the colorbar and title bands.
    QRectF imageRect(const QRectF& target) const;
    QRectF colorbarRect(const QRectF& target) const;
    // The heatmap cell under a point of `target`'s coordinate space, if any.
    std::optional<cv::Point> cellAt(const QRectF& target, const QPointF& point) const;

private:
    double titleHeight(const QRectF& target) const;
    double colorbarBand(const QRectF& target) const;

    void paintContours(QPainter& painter, const QRectF& image, const ValueRange& values) const;

    QImage m_image;
    cv::Mat m_heatmap;
    FigureOptions m_options;
    int m_contourLevels = 0;
};

}  // namespace fovea
