// Writes a figure drawn by a HeatmapPainter as PNG (raster at `dpi`), SVG or PDF (vector), chosen
// by the file extension. The file appears complete or not at all (QSaveFile).
//
//     exportFigure(figure, "attention.svg");                 // size: figure.preferredSize()
//     exportFigure(figure, "attention.png", {}, /*dpi*/ 300);
#pragma once

#include "widgets/heatmap_painter.h"

#include <QSizeF>
#include <QString>

#include <functional>

namespace fovea {

// Anything that draws itself into a rectangle of a QPainter (the view painters do).
using Painting = std::function<void(QPainter&, const QRectF&)>;

void exportPainting(const Painting& paint, const QString& path, QSizeF sizePoints, int dpi = 300,
                    const QString& title = {});

// Throws fovea::Error naming the path for an unknown extension or a failed write.
void exportFigure(const HeatmapPainter& figure, const QString& path, QSizeF sizePoints = {}, int dpi = 300);

}  // namespace fovea
