// The attention volume in 3D: one translucent slice per layer (layer 0 at the bottom), each the
// map of the current query for the chosen head or head fusion, coloured with the view's
// colormap. Rotate with the left button, zoom with the wheel or right button. VTK in a Qt 6
// QOpenGLWidget (see VtkWidget); without OpenGL it shows why instead.
#pragma once

#include <QString>
#include <QWidget>

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

namespace fovea {

class VtkWidget;

class VolumeView : public QWidget {
    Q_OBJECT
public:
    explicit VolumeView(QWidget* parent = nullptr);

    // One CV_32F patch-grid map per layer, bottom to top. Each slice is coloured over its own
    // range so every layer stays readable. Slices are opaque and spaced apart.
    void setVolume(const std::vector<cv::Mat>& layers, const std::string& colormap);
    int slices() const { return m_slices; }
    bool available() const;
    QString unavailableReason() const;
    // Null when 3D is unavailable on this platform.
    VtkWidget* vtkWidget() const { return m_vtk; }
    // The rendered view as an image (PNG export). Throws fovea::Error when 3D is unavailable.
    QImage grabImage();

private:
    VtkWidget* m_vtk = nullptr;
    QString m_reason;
    int m_slices = 0;
    bool m_cameraSet = false;
};

}  // namespace fovea
