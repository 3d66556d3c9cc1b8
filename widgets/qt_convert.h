// Conversions between OpenCV matrices and Qt images. The QImage owns its pixels (deep copy).
#pragma once

#include <QColor>
#include <QImage>

#include <opencv2/core/mat.hpp>

namespace fovea {

// CV_8UC3 BGR or CV_8UC1 grey -> QImage::Format_RGB888.
QImage toQImage(const cv::Mat& image);
// Any QImage -> CV_8UC3 BGR.
cv::Mat toBgrMat(const QImage& image);
QColor toQColor(const cv::Vec3b& bgr, int alpha = 255);

}  // namespace fovea
