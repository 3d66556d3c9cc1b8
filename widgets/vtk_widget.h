// VTK inside Qt 6 without VTK's Qt 5 module: a QOpenGLWidget that owns a
// vtkGenericOpenGLRenderWindow, renders it into the widget's framebuffer in paintGL, and
// forwards mouse and wheel events to a VTK interactor (trackball camera).
//
// Check platformSupportsOpenGL() before creating one: Qt itself cannot host a QOpenGLWidget on
// platforms without OpenGL (the offscreen platform crashes in its backing store). VolumeView
// shows a message instead. VTK is never asked to open a window of its own.
#pragma once

#include <QOpenGLWidget>
#include <QString>

#include <memory>

class vtkRenderer;

class QLabel;

namespace fovea {

class VtkWidget : public QOpenGLWidget {
    Q_OBJECT
  public:
    explicit VtkWidget(QWidget* parent = nullptr);
    ~VtkWidget() override;

    // Scene contents go here; the widget re-renders on update().
    vtkRenderer* renderer() const;
    // False when 3D rendering is not possible here; unavailableReason() says why.
    bool available() const { return m_available; }
    QString unavailableReason() const { return m_reason; }
    // True once VTK has drawn at least one frame.
    bool hasRendered() const { return m_frames > 0; }
    // Whether this process can have OpenGL at all (a display, not the offscreen platform).
    static bool platformSupportsOpenGL(QString* reason = nullptr);
    // What a 3D view shows in place of the scene when the platform has no OpenGL: `text`
    // (e.g. "3D view unavailable: <reason>") centred and wrapped.
    static QLabel* unavailableLabel(const QString& text, QWidget* parent);

  Q_SIGNALS:
    void rendered();

  protected:
    void initializeGL() override;
    void resizeGL(int width, int height) override;
    void paintGL() override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;

  private:
    struct Impl;
    void forwardMouse(QMouseEvent* event, unsigned long vtkEvent);
    void paintUnavailable();

    std::unique_ptr<Impl> m_impl;
    bool m_available = false;
    QString m_reason;
    int m_frames = 0;
};

}  // namespace fovea
