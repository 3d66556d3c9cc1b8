#include "widgets/scanpath_painter.h"

#include "core/image/figure.h"
#include "core/util/error.h"
#include "widgets/qt_convert.h"

#include <QFontMetricsF>
#include <QObject>
#include <QPainterPath>
#include <QPolygonF>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

QColor rgbColor(const cv::Vec3b& rgb, int alpha = 255) {
    return QColor(rgb[0], rgb[1], rgb[2], alpha);
}

bool isModelPath(const Scanpath& path) {
    return path.subject.rfind("model", 0) == 0;
}

cv::Mat1f normalised(const cv::Mat& map, cv::Size size) {
    cv::Mat1f values;
    map.convertTo(values, CV_32F);
    cv::patchNaNs(values, 0.0);
    cv::resize(values, values, size, 0, 0, cv::INTER_LINEAR);
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(values, &low, &high);
    if (high > low)
        values = (values - low) / (high - low);
    else
        values.setTo(0.0f);
    return values;
}

}  // namespace

void ScanpathPainter::setModelMap(const cv::Mat& map) {
    if (!map.empty() && map.channels() != 1) throw Error("gaze view", "expected a single-channel model map");
    m_model = map.empty() ? cv::Mat() : map.clone();
}

void ScanpathPainter::setDensity(const cv::Mat& density) {
    if (!density.empty() && density.channels() != 1) throw Error("gaze view", "expected a single-channel density map");
    m_density = density.empty() ? cv::Mat() : density.clone();
}

QSizeF ScanpathPainter::preferredSize(double imageSide) const {
    const double aspect = m_image.isNull() ? 4.0 / 3.0 : double(m_image.width()) / m_image.height();
    const double width = aspect >= 1.0 ? imageSide : imageSide * aspect;
    const double height = aspect >= 1.0 ? imageSide / aspect : imageSide;
    const int panels = m_display == GazeDisplay::SideBySide ? 2 : 1;
    const double title = m_title.isEmpty() ? 0.0 : 0.07 * imageSide;
    const double caption = 0.06 * imageSide;
    return {width * panels + (panels - 1) * 0.04 * imageSide, height + title + caption};
}

double ScanpathPainter::titleBand(const QRectF& target) const {
    return m_title.isEmpty() ? 0.0 : std::clamp(0.06 * target.height(), 12.0, 36.0);
}

double ScanpathPainter::captionBand(const QRectF& target) const {
    return std::clamp(0.055 * target.height(), 11.0, 30.0);
}

QRectF ScanpathPainter::panelRect(const QRectF& target, int panel) const {
    const double title = titleBand(target);
    const double caption = captionBand(target);
    const int panels = m_display == GazeDisplay::SideBySide ? 2 : 1;
    const double gap = panels > 1 ? 0.02 * target.width() : 0.0;
    const double width = (target.width() - gap * (panels - 1)) / panels;
    QRectF area(target.left() + panel * (width + gap), target.top() + title + caption, width,
                target.height() - title - caption);
    if (m_image.isNull() || area.width() <= 0 || area.height() <= 0) return area;
    const double scale = std::min(area.width() / m_image.width(), area.height() / m_image.height());
    const QSizeF size(m_image.width() * scale, m_image.height() * scale);
    return {area.left() + (area.width() - size.width()) / 2, area.top() + (area.height() - size.height()) / 2,
            size.width(), size.height()};
}

QRectF ScanpathPainter::imageRect(const QRectF& target) const {
    return panelRect(target, 0);
}

QImage ScanpathPainter::composite(const cv::Mat& first, const std::string& colormap, const cv::Mat& second) const {
    if (m_image.isNull()) return {};
    const cv::Mat bgr = toBgrMat(m_image);
    if (m_display == GazeDisplay::Blended) {
        // People in magenta, the model in green, over the image in grey: overlap turns white.
        cv::Mat grey;
        cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
        const cv::Mat1f people = first.empty() ? cv::Mat1f(bgr.size(), 0.0f) : normalised(first, bgr.size());
        const cv::Mat1f model = second.empty() ? cv::Mat1f(bgr.size(), 0.0f) : normalised(second, bgr.size());
        cv::Mat out(bgr.size(), CV_8UC3);
        for (int r = 0; r < bgr.rows; ++r) {
            for (int c = 0; c < bgr.cols; ++c) {
                const float base = 0.45f * grey.at<uchar>(r, c);
                const float p = people(r, c), m = model(r, c);
                out.at<cv::Vec3b>(r, c) =
                    cv::Vec3b(cv::saturate_cast<uchar>(base + 255.0f * p), cv::saturate_cast<uchar>(base + 255.0f * m),
                              cv::saturate_cast<uchar>(base + 255.0f * p));
            }
        }
        return toQImage(out);
    }
    if (first.empty()) return m_image;
    FigureOptions options;
    options.colormap = colormap;
    options.opacity = m_style.heatmapOpacity;
    options.smooth = true;
    cv::Mat1f values;
    first.convertTo(values, CV_32F);
    return toQImage(overlayHeatmap(bgr, values, options));
}

void ScanpathPainter::paintPanel(QPainter& painter, const QRectF& area, double band, const QImage& picture,
                                 const QString& caption, bool withPaths) const {
    const QFont base = painter.font();
    if (!caption.isEmpty()) {
        // Sized from the band as HeatmapPainter sizes its title, elided to the panel's width.
        QFont font = base;
        font.setPointSizeF(band * 0.45);
        painter.setFont(font);
        painter.setPen(QColor(40, 40, 40));
        const QRectF line(area.left(), area.top() - band, area.width(), band * 0.95);
        painter.drawText(line, Qt::AlignLeft | Qt::AlignBottom,
                         QFontMetricsF(font).elidedText(caption, Qt::ElideRight, area.width()));
        painter.setFont(base);
    }
    if (!picture.isNull()) painter.drawImage(area, picture);
    painter.setPen(QPen(QColor(110, 110, 110), 0.8));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(area);
    if (!withPaths || m_image.isNull()) return;
    std::vector<Scanpath> shown;
    ScanpathStyle style = m_style;
    style.colourIndices.clear();
    for (std::size_t i = 0; i < m_paths.size(); ++i) {
        if (m_display != GazeDisplay::SideBySide || (caption.startsWith("model") == isModelPath(m_paths[i]))) {
            shown.push_back(m_paths[i]);
            style.colourIndices.push_back(int(i));  // the same colour in both panels and the legend
        }
    }
    const ScanpathLayout layout = layoutScanpaths(shown, cv::Size(m_image.width(), m_image.height()), style);
    const double scale = area.width() / m_image.width();
    const auto at = [&](cv::Point2d p) { return QPointF(area.left() + p.x * scale, area.top() + p.y * scale); };
    painter.save();
    painter.setClipRect(area);
    painter.setRenderHint(QPainter::Antialiasing, true);
    const double stroke = std::max(0.8, area.width() / 400.0);
    if (m_style.arrows) {
        for (const SaccadeArrow& arrow : layout.arrows) {
            const QPointF from = at(arrow.from), to = at(arrow.to);
            const QLineF line(from, to);
            if (line.length() < 1e-6) continue;
            painter.setPen(QPen(rgbColor(arrow.rgb, 230), stroke, Qt::SolidLine, Qt::RoundCap));
            painter.drawLine(line);
            const double head = std::min(0.4 * line.length(), 5.0 * stroke);
            const QPointF unit = (to - from) / line.length(), normal(-unit.y(), unit.x());
            painter.setBrush(rgbColor(arrow.rgb, 230));
            painter.setPen(Qt::NoPen);
            painter.drawPolygon(
                QPolygonF({to, to - unit * head + normal * head * 0.5, to - unit * head - normal * head * 0.5}));
        }
    }
    QFont numberFont = base;
    for (const FixationMark& mark : layout.marks) {
        const double radius = mark.radius * scale;
        painter.setBrush(rgbColor(mark.rgb, 160));
        painter.setPen(QPen(QColor(40, 40, 40), stroke));
        painter.drawEllipse(at(mark.centre), radius, radius);
        if (!m_style.numbers || radius < 4.0) continue;
        numberFont.setPointSizeF(std::max(4.0, radius * 0.7));
        painter.setFont(numberFont);
        const bool light = 0.299 * mark.rgb[0] + 0.587 * mark.rgb[1] + 0.114 * mark.rgb[2] > 150;
        painter.setPen(light ? QColor(20, 20, 20) : QColor(255, 255, 255));
        const QPointF centre = at(mark.centre);
        painter.drawText(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius), Qt::AlignCenter,
                         QString::number(mark.number));
    }
    // Colour by subject: a legend of the subjects drawn, in the panel's top-left corner.
    if (m_style.colouring == ScanpathColouring::Subject && !shown.empty()) {
        QFont legendFont = base;
        legendFont.setPointSizeF(std::clamp(area.height() * 0.022, 5.0, 10.0));
        painter.setFont(legendFont);
        const QFontMetricsF metrics(legendFont);
        const int entries = std::min<int>(int(shown.size()), 12);
        double widest = 0.0;
        for (int i = 0; i < entries; ++i)
            widest = std::max(widest, metrics.horizontalAdvance(QString::fromStdString(shown[std::size_t(i)].subject)));
        const double line = metrics.height() * 1.15, box = metrics.height() * 0.7;
        const QRectF legend(area.left() + 4, area.top() + 4, widest + box + 14, line * entries + 6);
        painter.setPen(Qt::NoPen);
        painter.setBrush(QColor(255, 255, 255, 200));
        painter.drawRect(legend);
        for (int i = 0; i < entries; ++i) {
            const double y = legend.top() + 3 + i * line;
            painter.setBrush(rgbColor(subjectColour(style.colourIndices[std::size_t(i)])));
            painter.setPen(Qt::NoPen);
            painter.drawEllipse(QRectF(legend.left() + 4, y + (line - box) / 2, box, box));
            painter.setPen(QColor(30, 30, 30));
            painter.drawText(QRectF(legend.left() + 8 + box, y, widest + 4, line), Qt::AlignLeft | Qt::AlignVCenter,
                             QString::fromStdString(shown[std::size_t(i)].subject));
        }
    }
    painter.restore();
    painter.setFont(base);
}

void ScanpathPainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    painter.fillRect(target, Qt::white);
    if (!m_title.isEmpty()) {
        const QFont base = painter.font();
        QFont font = base;
        font.setPointSizeF(titleBand(target) * 0.45);
        font.setBold(true);
        painter.setFont(font);
        painter.setPen(QColor(30, 30, 30));
        painter.drawText(QRectF(target.left(), target.top(), target.width(), titleBand(target)),
                         Qt::AlignLeft | Qt::AlignVCenter,
                         QFontMetricsF(font).elidedText(m_title, Qt::ElideRight, target.width()));
        painter.setFont(base);
    }
    if (m_image.isNull()) {
        painter.setPen(QColor(90, 90, 90));
        painter.drawText(target, Qt::AlignCenter,
                         QObject::tr("Open fixations (File > Open Fixations) and an image they name"));
        painter.restore();
        return;
    }
    switch (m_display) {
        case GazeDisplay::Scanpaths:
            paintPanel(painter, panelRect(target, 0), captionBand(target), composite(m_model, "viridis", {}),
                       QObject::tr("scanpaths over the model's map"), true);
            break;
        case GazeDisplay::SideBySide:
            paintPanel(painter, panelRect(target, 0), captionBand(target), composite(m_density, "inferno", {}),
                       QObject::tr("people: fixation density"), true);
            paintPanel(painter, panelRect(target, 1), captionBand(target), composite(m_model, "viridis", {}),
                       QObject::tr("model: attention map"), true);
            break;
        case GazeDisplay::Blended:
            paintPanel(painter, panelRect(target, 0), captionBand(target), composite(m_density, "", m_model),
                       QObject::tr("people (magenta) and model (green); white where both"), true);
            break;
    }
    painter.restore();
}

}  // namespace fovea
