#include "widgets/figure_export.h"

#include "core/util/error.h"

#include <QFileInfo>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>

#include <cmath>

namespace fovea {

void exportFigure(const HeatmapPainter& figure, const QString& path, QSizeF sizePoints, int dpi) {
    if (sizePoints.isEmpty()) sizePoints = figure.preferredSize();
    exportPainting([&figure](QPainter& painter, const QRectF& target) { figure.paint(painter, target); }, path,
                   sizePoints, dpi, QString::fromStdString(figure.options().title));
}

void exportPainting(const Painting& paint, const QString& path, QSizeF sizePoints, int dpi, const QString& title) {
    const std::string subject = path.toStdString();
    if (sizePoints.isEmpty()) throw Error(subject, "the figure has no size");
    if (dpi < 30 || dpi > 2400) throw Error(subject, "resolution " + std::to_string(dpi) + " dpi is outside 30..2400");
    const QString suffix = QFileInfo(path).suffix().toLower();
    QSaveFile file(path);
    if (suffix != "png" && suffix != "svg" && suffix != "pdf") {
        throw Error(subject, "unknown figure format '." + suffix.toStdString() + "'; use .png, .svg or .pdf");
    }
    if (!file.open(QIODevice::WriteOnly)) throw Error(subject, "cannot write: " + file.errorString().toStdString());
    const QRectF points(QPointF(0, 0), sizePoints);
    if (suffix == "png") {
        const double scale = dpi / 72.0;
        QImage image(int(std::lround(sizePoints.width() * dpi / 72.0)), int(std::lround(sizePoints.height() * dpi / 72.0)),
                     QImage::Format_RGB32);
        image.fill(Qt::white);
        image.setDotsPerMeterX(int(std::lround(dpi / 0.0254)));
        image.setDotsPerMeterY(int(std::lround(dpi / 0.0254)));
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing, true);
        painter.setRenderHint(QPainter::TextAntialiasing, true);
        painter.scale(scale, scale);
        paint(painter, points);
        painter.end();
        if (!image.save(&file, "PNG")) throw Error(subject, "PNG encoding failed");
    } else if (suffix == "svg") {
        QSvgGenerator svg;
        svg.setOutputDevice(&file);
        svg.setSize(sizePoints.toSize());
        svg.setViewBox(points);
        svg.setResolution(72);
        svg.setTitle(title);
        svg.setDescription(QStringLiteral("Fovea attention figure"));
        QPainter painter(&svg);
        paint(painter, points);
        painter.end();
    } else {
        QPdfWriter pdf(&file);
        pdf.setResolution(dpi);
        pdf.setPageSize(QPageSize(sizePoints, QPageSize::Point));
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setTitle(title);
        pdf.setCreator(QStringLiteral("Fovea"));
        QPainter painter(&pdf);
        painter.scale(dpi / 72.0, dpi / 72.0);
        paint(painter, points);
        painter.end();
    }
    if (!file.commit()) throw Error(subject, "cannot write: " + file.errorString().toStdString());
}

}  // namespace fovea
