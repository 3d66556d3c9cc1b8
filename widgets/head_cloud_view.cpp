#include "widgets/head_cloud_view.h"

#include "core/util/error.h"
#include "widgets/vtk_widget.h"

#include <QHBoxLayout>
#include <QLabel>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkOutlineFilter.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkSphereSource.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>

namespace fovea {

HeadCloudView::HeadCloudView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    if (!VtkWidget::platformSupportsOpenGL(&m_reason)) {
        layout->addWidget(VtkWidget::unavailableLabel(tr("3D head view unavailable: %1").arg(m_reason), this));
        return;
    }
    m_vtk = new VtkWidget(this);
    layout->addWidget(m_vtk, 1);
    m_legend = new QLabel(this);
    m_legend->setTextFormat(Qt::RichText);
    m_legend->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_legend->setMinimumWidth(170);
    m_legend->setMargin(8);
    m_legend->setStyleSheet("background: white;");
    layout->addWidget(m_legend);
    m_vtk->renderer()->SetBackground(1.0, 1.0, 1.0);
}

bool HeadCloudView::available() const {
    return m_vtk != nullptr && m_vtk->available();
}

QString HeadCloudView::unavailableReason() const {
    return m_vtk ? m_vtk->unavailableReason() : m_reason;
}

void HeadCloudView::setData(const HeadData& data, const HeadSet& selection) {
    m_spheres = 0;
    if (!m_vtk) return;
    vtkRenderer* renderer = m_vtk->renderer();
    renderer->RemoveAllViewProps();
    if (data.empty()) {
        m_legend->setText(tr("No head analysis yet"));
        m_vtk->update();
        return;
    }
    // Coordinates normalised to a unit cube, so the sphere size is independent of the scale.
    std::array<double, 3> low, high;
    low.fill(std::numeric_limits<double>::infinity());
    high.fill(-std::numeric_limits<double>::infinity());
    for (const HeadPoint& p : data.points) {
        for (int axis = 0; axis < 3; ++axis) {
            low[std::size_t(axis)] = std::min(low[std::size_t(axis)], p.xyz[std::size_t(axis)]);
            high[std::size_t(axis)] = std::max(high[std::size_t(axis)], p.xyz[std::size_t(axis)]);
        }
    }
    const double span = std::max({high[0] - low[0], high[1] - low[1], high[2] - low[2], 1e-9});
    const double radius = std::clamp(0.35 / std::cbrt(double(data.points.size())), 0.012, 0.06);
    for (const HeadPoint& p : data.points) {
        const bool selected = selection.count(p.key) > 0;
        const Rgb rgb = clusterColour(p.cluster);
        vtkNew<vtkSphereSource> sphere;
        sphere->SetCenter((p.xyz[0] - low[0]) / span, (p.xyz[1] - low[1]) / span,
                          (p.xyz[2] - low[2]) / span);
        sphere->SetRadius(selected ? radius * 1.8 : radius);
        sphere->SetThetaResolution(16);
        sphere->SetPhiResolution(12);
        vtkNew<vtkPolyDataMapper> mapper;
        mapper->SetInputConnection(sphere->GetOutputPort());
        mapper->ScalarVisibilityOff();
        vtkNew<vtkActor> actor;
        actor->SetMapper(mapper);
        actor->GetProperty()->SetColor(rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
        // With a selection, the other heads fade so the selected ones stand out.
        if (!selection.empty() && !selected) actor->GetProperty()->SetOpacity(0.3);
        renderer->AddActor(actor);
        ++m_spheres;
    }
    vtkNew<vtkImageData> bounds;
    bounds->SetDimensions(2, 2, 2);
    bounds->SetSpacing((high[0] - low[0]) / span, (high[1] - low[1]) / span,
                       (high[2] - low[2]) / span);
    vtkNew<vtkOutlineFilter> outline;
    outline->SetInputData(bounds);
    vtkNew<vtkPolyDataMapper> outlineMapper;
    outlineMapper->SetInputConnection(outline->GetOutputPort());
    vtkNew<vtkActor> outlineActor;
    outlineActor->SetMapper(outlineMapper);
    outlineActor->GetProperty()->SetColor(0.45, 0.45, 0.45);
    renderer->AddActor(outlineActor);
    if (!m_cameraSet) {
        vtkCamera* camera = renderer->GetActiveCamera();
        camera->SetFocalPoint(0.5, 0.5, 0.5);
        camera->SetPosition(2.2, -1.6, 1.8);
        camera->SetViewUp(0, 0, 1);
        renderer->ResetCamera();
        m_cameraSet = true;
    }
    std::map<int, int> counts;
    for (const HeadPoint& p : data.points) ++counts[p.cluster];
    QString legend =
        tr("<b>Heads in 3D</b><br><small>first three principal components; drag to "
           "rotate</small><br><br>");
    for (const auto& [cluster, count] : counts) {
        const Rgb rgb = clusterColour(cluster);
        const QString name =
            cluster >= 0 && cluster < int(data.clusterNames.size())
                ? QString::fromStdString(data.clusterNames[std::size_t(cluster)]).toHtmlEscaped()
                : tr("not clustered");
        legend += QStringLiteral("<span style='color:rgb(%1,%2,%3)'>&#9679;</span> %4 (%5)<br>")
                      .arg(int(rgb[0]))
                      .arg(int(rgb[1]))
                      .arg(int(rgb[2]))
                      .arg(name)
                      .arg(count);
    }
    if (!selection.empty()) legend += tr("<br>%1 selected (larger)").arg(selection.size());
    m_legend->setText(legend);
    m_vtk->update();
}

QImage HeadCloudView::grabImage() {
    if (!available()) throw Error("3D head view", unavailableReason().toStdString());
    // The scene and its legend, as on screen.
    return grab().toImage();
}

}  // namespace fovea
