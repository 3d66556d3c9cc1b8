// Draws a segmentation over the image the model saw: one translucent fill and a crisp contour
// per segment in its own colour (core's segmentColor, as `fovea segment` overlays use), for object
// discovery (a single segment) the box of its largest component, the ground truth as a dashed
// outline, a title and a legend
// with each segment's share of the image and the IoU against the ground truth. The view and the
// figure exports use this same painter. Fills and contours are vector paths traced by OpenCV's
// findContours, so SVG and PDF keep them as vectors; the paths are built once per segmentation
// (setSegmentation, in a worker), style changes only repaint.
//
//     SegmentPainter figure;
//     figure.setImage(toQImage(input.view));
//     figure.setSegmentation(result.labels, result.count, result.boxes);   // any resolution
//     figure.setGroundTruth(truthLabels);                                   // input.view's size
//     figure.setStyle(style);                                               // opacity, toggles
//     figure.paint(painter, QRectF(0, 0, 520, 400));
#pragma once

#include <QColor>
#include <QImage>
#include <QPainter>
#include <QPainterPath>
#include <QRectF>
#include <QString>

#include <opencv2/core/mat.hpp>

#include <optional>
#include <vector>

namespace fovea {

struct SegmentStyle {
    double opacity = 0.45;  // of the fills; contours and boxes are opaque
    bool contours = true;
    bool boxes = true;  // drawn for object discovery only (one segment: the object)
    bool groundTruth = true;
    std::vector<int> hidden;  // labels not drawn (nor listed in the legend)
    QString title;
};

// The outline of the non-zero pixels of `mask` as one path (outer boundaries and holes, to be
// filled odd-even) in the mask's cell units: (0, 0) is the top-left corner of cell (0, 0) and
// (cols, rows) the bottom-right of the last. `contours` receives the number of closed curves.
QPainterPath maskOutline(const cv::Mat1b& mask, int* contours = nullptr);

class SegmentPainter {
  public:
    void setImage(const QImage& image) { m_image = image; }
    // Labels 0 (background), 1..count over the whole image at any resolution; boxes in label
    // cells, one per segment (empty rectangles are skipped).
    void setSegmentation(const cv::Mat1i& labels, int count, const std::vector<cv::Rect>& boxes);
    // Ground-truth labels (0 background, 255 void) at any resolution over the image; one dashed
    // outline per object. Empty: none.
    void setGroundTruth(const cv::Mat1i& truth);
    void setIoU(std::optional<double> iou) { m_iou = iou; }
    void setStyle(const SegmentStyle& style) { m_style = style; }

    const QImage& image() const { return m_image; }
    const cv::Mat1i& labels() const { return m_labels; }
    const SegmentStyle& style() const { return m_style; }
    std::optional<double> iou() const { return m_iou; }
    bool hasGroundTruth() const { return m_truthContours > 0; }
    int segmentCount() const { return int(m_segments.size()); }
    static QColor segmentColor(int label);
    // "object" when there is one segment, "segment k" otherwise.
    QString segmentName(int label) const;
    double segmentArea(int label) const;  // share of the image, 0..1
    int contourCount(int label) const;    // closed curves of the segment (outer + holes)
    int groundTruthContourCount() const { return m_truthContours; }
    bool isVisible(int label) const;

    QSizeF preferredSize(double imageSide = 360.0) const;
    void paint(QPainter& painter, const QRectF& target) const;
    // Where the image lands inside `target` (aspect kept), left of the legend, below the title.
    QRectF imageRect(const QRectF& target) const;
    // The segment label under a point of `target`'s space (0: background, -1: off the image).
    int labelAt(const QRectF& target, const QPointF& point) const;

  private:
    struct Segment {
        QPainterPath outline;  // label cells
        int contours = 0;
        double area = 0.0;
        QRectF box;  // label cells; empty: none
    };
    double titleHeight(const QRectF& target) const;
    double legendWidth(const QRectF& target) const;
    void paintLegend(QPainter& painter, const QRectF& target, const QRectF& image) const;

    QImage m_image;
    cv::Mat1i m_labels;
    std::vector<Segment> m_segments;  // label - 1
    QPainterPath m_truth;             // ground-truth cells
    QSizeF m_truthCells;
    int m_truthContours = 0;
    std::optional<double> m_iou;
    SegmentStyle m_style;
};

}  // namespace fovea
