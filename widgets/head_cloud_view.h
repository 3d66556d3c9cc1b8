// The heads in 3D: each head a sphere at its 3D embedding (the first three principal
// components of its attention descriptor), coloured by cluster; selected heads are larger and
// drawn in full colour while the others fade. VTK in a Qt 6 QOpenGLWidget (VtkWidget); a legend
// beside it names the clusters. Without OpenGL it says why instead.
#pragma once

#include "widgets/head_data.h"

#include <QImage>
#include <QString>
#include <QWidget>

class QLabel;

namespace fovea {

class VtkWidget;

class HeadCloudView : public QWidget {
    Q_OBJECT
  public:
    explicit HeadCloudView(QWidget* parent = nullptr);

    void setData(const HeadData& data, const HeadSet& selection);
    int sphereCount() const { return m_spheres; }
    bool available() const;
    QString unavailableReason() const;
    VtkWidget* vtkWidget() const { return m_vtk; }
    // The rendered scene (PNG export). Throws fovea::Error when 3D is unavailable.
    QImage grabImage();

  private:
    VtkWidget* m_vtk = nullptr;
    QLabel* m_legend = nullptr;
    QString m_reason;
    int m_spheres = 0;
    bool m_cameraSet = false;
};

}  // namespace fovea
