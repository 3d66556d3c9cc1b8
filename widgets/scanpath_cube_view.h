// The space-time cube of scanpaths (Li, Çöltekin & Kraak, "Visual exploration of eye movement
// data using the space-time-cube", GIScience 2010): x and y on the stimulus, time upwards. Each
// scanpath is a polyline through its fixations (a vertical segment while the eye rests, a slanted
// one for the saccade), with a sphere per fixation sized by its duration, one colour per subject;
// the stimulus lies on the floor in grey. VTK in a Qt 6 QOpenGLWidget (VtkWidget); without
// OpenGL it shows why instead.
#pragma once

#include "core/gaze/gaze_data.h"

#include <QImage>
#include <QString>
#include <QWidget>

#include <vector>

namespace fovea {

class VtkWidget;

class ScanpathCubeView : public QWidget {
    Q_OBJECT
public:
    explicit ScanpathCubeView(QWidget* parent = nullptr);

    // `image` (may be null) is the floor; time runs from 0 to the latest fixation end.
    void setScanpaths(const std::vector<Scanpath>& paths, const QImage& image);
    int pathCount() const { return m_paths; }
    int actorCount() const { return m_actors; }
    bool available() const;
    QString unavailableReason() const;
    VtkWidget* vtkWidget() const { return m_vtk; }
    // The rendered cube (PNG export). Throws fovea::Error when 3D is unavailable.
    QImage grabImage();

private:
    VtkWidget* m_vtk = nullptr;
    QString m_reason;
    int m_paths = 0;
    int m_actors = 0;
    bool m_cameraSet = false;
};

}  // namespace fovea
