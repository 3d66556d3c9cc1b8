#include "widgets/volume_view.h"

#include "core/image/colormap.h"
#include "core/util/error.h"
#include "widgets/vtk_widget.h"

#include <QLabel>
#include <QVBoxLayout>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkImageData.h>
#include <vtkSmartPointer.h>
#include <vtkNew.h>
#include <vtkOutlineFilter.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fovea {

VolumeView::VolumeView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    if (!VtkWidget::platformSupportsOpenGL(&m_reason)) {
        layout->addWidget(VtkWidget::unavailableLabel(tr("3D view unavailable: %1").arg(m_reason), this));
        return;
    }
    m_vtk = new VtkWidget(this);
    layout->addWidget(m_vtk);
    m_vtk->renderer()->SetBackground(1.0, 1.0, 1.0);
}

bool VolumeView::available() const { return m_vtk != nullptr && m_vtk->available(); }

QString VolumeView::unavailableReason() const { return m_vtk ? m_vtk->unavailableReason() : m_reason; }

void VolumeView::setVolume(const std::vector<cv::Mat>& layers, const std::string& colormap) {
    m_slices = int(layers.size());
    if (!m_vtk) return;
    vtkRenderer* renderer = m_vtk->renderer();
    renderer->RemoveAllViewProps();
    if (layers.empty()) {
        m_vtk->update();
        return;
    }
    const int rows = layers.front().rows, cols = layers.front().cols;
    const double gap = std::max(rows, cols) / 1.5;  // slice spacing in patch units
    vtkNew<vtkImageData> bounds;
    bounds->SetDimensions(cols + 1, rows + 1, int(layers.size()));
    bounds->SetSpacing(1.0, 1.0, gap);
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const cv::Mat& map = layers[l];
        double low = 0.0, top = 0.0;
        cv::minMaxLoc(map, &low, &top);
        // Patches are grouped into 64 colour levels, one opaque actor each with its colour as a
        // material property. Per-vertex and per-cell colours, and translucent actors, came out
        // black through Mesa's llvmpipe in this embedding; opaque material colours are reliable.
        constexpr int kLevels = 64;
        std::vector<vtkSmartPointer<vtkPoints>> points(kLevels);
        std::vector<vtkSmartPointer<vtkCellArray>> quads(kLevels);
        const double z = double(l) * gap;
        for (int row = 0; row < rows; ++row) {
            for (int col = 0; col < cols; ++col) {
                const float v = map.at<float>(row, col);
                if (std::isnan(v)) continue;
                const int index = colormapIndex(v, low, top);
                const int level = index * kLevels / 256;
                if (!points[std::size_t(level)]) {
                    points[std::size_t(level)] = vtkSmartPointer<vtkPoints>::New();
                    quads[std::size_t(level)] = vtkSmartPointer<vtkCellArray>::New();
                }
                // VTK's y grows upwards: row 0 of the map (the image's top) goes to the highest y.
                const double y = double(rows - 1 - row);
                const double corners[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
                vtkIdType ids[4];
                for (int k = 0; k < 4; ++k) {
                    ids[k] = points[std::size_t(level)]->InsertNextPoint(col + corners[k][0], y + corners[k][1], z);
                }
                quads[std::size_t(level)]->InsertNextCell(4, ids);
            }
        }
        for (int level = 0; level < kLevels; ++level) {
            if (!points[std::size_t(level)]) continue;
            vtkNew<vtkPolyData> patches;
            patches->SetPoints(points[std::size_t(level)]);
            patches->SetPolys(quads[std::size_t(level)]);
            vtkNew<vtkPolyDataMapper> mapper;
            mapper->SetInputData(patches);
            mapper->ScalarVisibilityOff();
            const cv::Vec3b rgb = colormapColor(colormap, (level * 256 + 128) / kLevels);
            vtkNew<vtkActor> actor;
            actor->SetMapper(mapper);
            actor->GetProperty()->SetColor(rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
            actor->GetProperty()->LightingOff();
            renderer->AddActor(actor);
        }
    }
    vtkNew<vtkOutlineFilter> outline;
    outline->SetInputData(bounds);
    vtkNew<vtkPolyDataMapper> outlineMapper;
    outlineMapper->SetInputConnection(outline->GetOutputPort());
    vtkNew<vtkActor> outlineActor;
    outlineActor->SetMapper(outlineMapper);
    outlineActor->GetProperty()->SetColor(0.3, 0.3, 0.3);
    renderer->AddActor(outlineActor);
    if (!m_cameraSet) {
        vtkCamera* camera = renderer->GetActiveCamera();
        camera->SetFocalPoint(cols / 2.0, rows / 2.0, gap * (double(layers.size()) - 1) / 2.0);
        camera->SetPosition(cols * 2.2, -rows * 1.6, gap * double(layers.size()) * 1.4);
        camera->SetViewUp(0, 0, 1);
        renderer->ResetCamera();
        m_cameraSet = true;
    }
    m_vtk->update();
}

QImage VolumeView::grabImage() {
    if (!available()) throw Error("3D view", unavailableReason().toStdString());
    return m_vtk->grabFramebuffer();
}

}  // namespace fovea
