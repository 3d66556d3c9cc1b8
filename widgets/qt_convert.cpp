#include "widgets/qt_convert.h"

#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

namespace fovea {

QImage toQImage(const cv::Mat& image) {
    cv::Mat rgb;
    if (image.type() == CV_8UC3) {
        cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
    } else if (image.type() == CV_8UC1) {
        cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
    } else {
        throw Error("image conversion", "expected an 8-bit grey or BGR image");
    }
    QImage result(rgb.cols, rgb.rows, QImage::Format_RGB888);
    for (int y = 0; y < rgb.rows; ++y) {
        std::memcpy(result.scanLine(y), rgb.ptr(y), std::size_t(rgb.cols) * 3);
    }
    return result;
}

cv::Mat toBgrMat(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    cv::Mat bgr(rgb.height(), rgb.width(), CV_8UC3);
    for (int y = 0; y < rgb.height(); ++y) {
        const uchar* source = rgb.constScanLine(y);
        auto* target = bgr.ptr<cv::Vec3b>(y);
        for (int x = 0; x < rgb.width(); ++x) target[x] = {source[3 * x + 2], source[3 * x + 1], source[3 * x]};
    }
    return bgr;
}

QColor toQColor(const cv::Vec3b& bgr, int alpha) { return QColor(bgr[2], bgr[1], bgr[0], alpha); }

}  // namespace fovea
