#include "widgets/scanpath_cube_view.h"

#include "core/gaze/scanpath_figure.h"
#include "core/util/error.h"
#include "widgets/vtk_widget.h"

#include <QLabel>
#include <QVBoxLayout>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkOutlineFilter.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>
#include <vtkSphereSource.h>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

// The stimulus on the floor, in 16 grey levels on a grid of at most 48 cells on its longer side:
// one opaque actor per level with a material colour (per-vertex colours render black through
// Mesa's llvmpipe in this embedding, as VolumeView found).
void addFloor(vtkRenderer* renderer, const QImage& image, double width, double height, int& actors) {
    if (image.isNull()) return;
    const int cells = 48;
    const int cols = image.width() >= image.height() ? cells : std::max(1, cells * image.width() / image.height());
    const int rows = image.width() >= image.height() ? std::max(1, cells * image.height() / image.width()) : cells;
    const QImage small = image.convertToFormat(QImage::Format_Grayscale8)
                             .scaled(cols, rows, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    constexpr int kLevels = 16;
    std::vector<vtkSmartPointer<vtkPoints>> points(kLevels);
    std::vector<vtkSmartPointer<vtkCellArray>> quads(kLevels);
    const double cw = width / cols, ch = height / rows;
    for (int r = 0; r < rows; ++r) {
        const uchar* line = small.constScanLine(r);
        for (int c = 0; c < cols; ++c) {
            const int level = line[c] * kLevels / 256;
            if (!points[std::size_t(level)]) {
                points[std::size_t(level)] = vtkSmartPointer<vtkPoints>::New();
                quads[std::size_t(level)] = vtkSmartPointer<vtkCellArray>::New();
            }
            // y grows upwards in VTK: the image's top row goes to the largest y.
            const double x0 = c * cw, y0 = height - (r + 1) * ch;
            vtkIdType ids[4];
            ids[0] = points[std::size_t(level)]->InsertNextPoint(x0, y0, 0.0);
            ids[1] = points[std::size_t(level)]->InsertNextPoint(x0 + cw, y0, 0.0);
            ids[2] = points[std::size_t(level)]->InsertNextPoint(x0 + cw, y0 + ch, 0.0);
            ids[3] = points[std::size_t(level)]->InsertNextPoint(x0, y0 + ch, 0.0);
            quads[std::size_t(level)]->InsertNextCell(4, ids);
        }
    }
    for (int level = 0; level < kLevels; ++level) {
        if (!points[std::size_t(level)]) continue;
        vtkNew<vtkPolyData> floor;
        floor->SetPoints(points[std::size_t(level)]);
        floor->SetPolys(quads[std::size_t(level)]);
        vtkNew<vtkPolyDataMapper> mapper;
        mapper->SetInputData(floor);
        mapper->ScalarVisibilityOff();
        vtkNew<vtkActor> actor;
        actor->SetMapper(mapper);
        // Lightened so the coloured paths stand out against it.
        const double grey = 0.55 + 0.45 * (level + 0.5) / kLevels;
        actor->GetProperty()->SetColor(grey, grey, grey);
        actor->GetProperty()->LightingOff();
        renderer->AddActor(actor);
        ++actors;
    }
}

}  // namespace

ScanpathCubeView::ScanpathCubeView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    if (!VtkWidget::platformSupportsOpenGL(&m_reason)) {
        layout->addWidget(VtkWidget::unavailableLabel(tr("Space-time cube unavailable: %1").arg(m_reason), this));
        return;
    }
    m_vtk = new VtkWidget(this);
    layout->addWidget(m_vtk);
    m_vtk->renderer()->SetBackground(1.0, 1.0, 1.0);
}

bool ScanpathCubeView::available() const {
    return m_vtk != nullptr && m_vtk->available();
}

QString ScanpathCubeView::unavailableReason() const {
    return m_vtk ? m_vtk->unavailableReason() : m_reason;
}

void ScanpathCubeView::setScanpaths(const std::vector<Scanpath>& paths, const QImage& image) {
    m_paths = int(paths.size());
    m_actors = 0;
    if (!m_vtk) return;
    vtkRenderer* renderer = m_vtk->renderer();
    renderer->RemoveAllViewProps();
    double width = image.isNull() ? 0.0 : image.width(), height = image.isNull() ? 0.0 : image.height();
    double end = 0.0;
    for (const Scanpath& path : paths) {
        for (const Fixation& f : path.fixations) {
            width = std::max(width, f.x);
            height = std::max(height, f.y);
            end = std::max(end, f.start + f.duration);
        }
    }
    if (width <= 0 || height <= 0) {
        m_vtk->update();
        return;
    }
    // Time is stretched so the cube is about as tall as the image is wide.
    const double side = std::max(width, height);
    const double timeScale = end > 0 ? side / end : 1.0;
    addFloor(renderer, image, width, height, m_actors);
    for (std::size_t p = 0; p < paths.size(); ++p) {
        const cv::Vec3b rgb = subjectColour(int(p));
        const Scanpath& path = paths[p];
        if (path.fixations.empty()) continue;
        // Dwell (vertical) and saccade (slanted) segments as one polyline.
        vtkNew<vtkPoints> points;
        for (const Fixation& f : path.fixations) {
            points->InsertNextPoint(f.x, height - f.y, f.start * timeScale);
            points->InsertNextPoint(f.x, height - f.y, (f.start + f.duration) * timeScale);
        }
        vtkNew<vtkCellArray> line;
        line->InsertNextCell(points->GetNumberOfPoints());
        for (vtkIdType i = 0; i < points->GetNumberOfPoints(); ++i) line->InsertCellPoint(i);
        vtkNew<vtkPolyData> polyline;
        polyline->SetPoints(points);
        polyline->SetLines(line);
        vtkNew<vtkPolyDataMapper> lineMapper;
        lineMapper->SetInputData(polyline);
        lineMapper->ScalarVisibilityOff();
        vtkNew<vtkActor> lineActor;
        lineActor->SetMapper(lineMapper);
        lineActor->GetProperty()->SetColor(rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
        lineActor->GetProperty()->SetLineWidth(2.5f);
        lineActor->GetProperty()->LightingOff();
        renderer->AddActor(lineActor);
        ++m_actors;
        double longest = 0.0;
        for (const Fixation& f : path.fixations) longest = std::max(longest, f.duration);
        for (const Fixation& f : path.fixations) {
            vtkNew<vtkSphereSource> sphere;
            sphere->SetCenter(f.x, height - f.y, (f.start + f.duration / 2.0) * timeScale);
            // Volume grows with duration (radius with its cube root), 0.6% to 2% of the side.
            sphere->SetRadius(side * (0.006 + 0.014 * (longest > 0 ? std::cbrt(f.duration / longest) : 0.0)));
            sphere->SetThetaResolution(16);
            sphere->SetPhiResolution(12);
            vtkNew<vtkPolyDataMapper> mapper;
            mapper->SetInputConnection(sphere->GetOutputPort());
            mapper->ScalarVisibilityOff();
            vtkNew<vtkActor> actor;
            actor->SetMapper(mapper);
            actor->GetProperty()->SetColor(rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
            renderer->AddActor(actor);
            ++m_actors;
        }
    }
    vtkNew<vtkImageData> bounds;
    bounds->SetDimensions(2, 2, 2);
    bounds->SetSpacing(width, height, std::max(1.0, end * timeScale));
    vtkNew<vtkOutlineFilter> outline;
    outline->SetInputData(bounds);
    vtkNew<vtkPolyDataMapper> outlineMapper;
    outlineMapper->SetInputConnection(outline->GetOutputPort());
    vtkNew<vtkActor> outlineActor;
    outlineActor->SetMapper(outlineMapper);
    outlineActor->GetProperty()->SetColor(0.3, 0.3, 0.3);
    renderer->AddActor(outlineActor);
    ++m_actors;
    if (!m_cameraSet) {
        vtkCamera* camera = renderer->GetActiveCamera();
        camera->SetFocalPoint(width / 2.0, height / 2.0, end * timeScale / 2.0);
        camera->SetPosition(width * 2.0, -height * 1.4, end * timeScale * 1.6);
        camera->SetViewUp(0, 0, 1);
        renderer->ResetCamera();
        m_cameraSet = true;
    }
    m_vtk->update();
}

QImage ScanpathCubeView::grabImage() {
    if (!available()) throw Error("space-time cube", unavailableReason().toStdString());
    return m_vtk->grabFramebuffer();
}

}  // namespace fovea
