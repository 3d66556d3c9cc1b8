// Draws scanpaths over their stimulus onto any QPainter: the gaze view on screen and its PNG /
// SVG / PDF export use this same painter. The geometry (circle sizes by duration, colours by time
// or subject, arrows) comes from core's layoutScanpaths, so the CLI's figures agree with it.
//
// Three displays: the scanpaths over the model's heatmap; human fixation density and the model's
// heatmap side by side (scanpaths on the people's panel); and the two blended in one picture
// (people magenta, model green, both white).
//
//     ScanpathPainter figure;
//     figure.setImage(stimulus);
//     figure.setModelMap(mapAtImageSize);
//     figure.setDensity(fixationDensityMap(size, fixations, 20.0));
//     figure.setScanpaths(paths);
//     figure.setDisplay(GazeDisplay::SideBySide);
//     figure.paint(painter, QRectF(0, 0, 800, 400));
#pragma once

#include "core/gaze/scanpath_figure.h"

#include <QImage>
#include <QPainter>
#include <QRectF>
#include <QString>

#include <opencv2/core/mat.hpp>

#include <vector>

namespace fovea {

enum class GazeDisplay { Scanpaths, SideBySide, Blended };

class ScanpathPainter {
public:
    void setImage(const QImage& image) { m_image = image; }
    // Maps over the image (any resolution, stretched over it); empty to leave one out.
    void setModelMap(const cv::Mat& map);
    void setDensity(const cv::Mat& density);
    void setScanpaths(std::vector<Scanpath> paths) { m_paths = std::move(paths); }
    void setStyle(const ScanpathStyle& style) { m_style = style; }
    void setDisplay(GazeDisplay display) { m_display = display; }
    void setTitle(const QString& title) { m_title = title; }

    const QImage& image() const { return m_image; }
    const std::vector<Scanpath>& scanpaths() const { return m_paths; }
    const ScanpathStyle& style() const { return m_style; }
    GazeDisplay display() const { return m_display; }

    // A natural size in points: the image at `imageSide` on its longer side (two of them side by side).
    QSizeF preferredSize(double imageSide = 420.0) const;
    void paint(QPainter& painter, const QRectF& target) const;
    // Where the image (the people's panel when side by side) lands inside `target`.
    QRectF imageRect(const QRectF& target) const;

private:
    double titleBand(const QRectF& target) const;
    double captionBand(const QRectF& target) const;
    QRectF panelRect(const QRectF& target, int panel) const;
    void paintPanel(QPainter& painter, const QRectF& area, double band, const QImage& picture, const QString& caption,
                    bool withPaths) const;
    QImage composite(const cv::Mat& first, const std::string& colormap, const cv::Mat& second) const;

    QImage m_image;
    cv::Mat m_model, m_density;
    std::vector<Scanpath> m_paths;
    ScanpathStyle m_style;
    GazeDisplay m_display = GazeDisplay::Scanpaths;
    QString m_title;
};

}  // namespace fovea
