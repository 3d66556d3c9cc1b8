#include "widgets/vtk_widget.h"

#include <QGuiApplication>
#include <QLabel>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QPainter>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkNew.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>

namespace fovea {

struct VtkWidget::Impl {
    vtkNew<vtkGenericOpenGLRenderWindow> window;
    vtkNew<vtkRenderer> renderer;
    vtkNew<vtkGenericRenderWindowInteractor> interactor;
    vtkNew<vtkInteractorStyleTrackballCamera> style;
    vtkNew<vtkCallbackCommand> makeCurrent;
    vtkNew<vtkCallbackCommand> isCurrent;
    vtkNew<vtkCallbackCommand> renderRequest;
};

QLabel* VtkWidget::unavailableLabel(const QString& text, QWidget* parent) {
    auto* message = new QLabel(text, parent);
    message->setAlignment(Qt::AlignCenter);
    message->setWordWrap(true);
    return message;
}

bool VtkWidget::platformSupportsOpenGL(QString* reason) {
    const QString platform = QGuiApplication::platformName();
    if (platform == "offscreen" || platform == "minimal") {
        if (reason)
            *reason = tr("3D views need a display; the '%1' platform has no OpenGL").arg(platform);
        return false;
    }
    // A context of the version VTK needs must be possible (X servers without GLX have none).
    static const bool possible = [] {
        QOpenGLContext probe;
        QSurfaceFormat format;
        format.setVersion(3, 2);
        format.setProfile(QSurfaceFormat::CoreProfile);
        probe.setFormat(format);
        return probe.create() &&
               probe.format().majorVersion() * 10 + probe.format().minorVersion() >= 32;
    }();
    if (!possible && reason) *reason = tr("this display offers no OpenGL 3.2 context");
    return possible;
}

VtkWidget::VtkWidget(QWidget* parent) : QOpenGLWidget(parent), m_impl(std::make_unique<Impl>()) {
    QSurfaceFormat format = QSurfaceFormat::defaultFormat();
    format.setVersion(3, 2);
    format.setProfile(QSurfaceFormat::CoreProfile);
    format.setDepthBufferSize(24);
    format.setStencilBufferSize(8);
    format.setSamples(0);
    // Opaque: Qt composites the widget's framebuffer as premultiplied alpha, and VTK's
    // translucent pixels would wash out against the window behind it.
    format.setAlphaBufferSize(0);
    setFormat(format);
    setMinimumSize(160, 120);
    m_available = platformSupportsOpenGL(&m_reason);  // callers should not create one otherwise

    Impl& impl = *m_impl;
    impl.window->AddRenderer(impl.renderer);
    impl.renderer->SetBackgroundAlpha(1.0);
    impl.window->SetMultiSamples(0);
    impl.interactor->SetRenderWindow(impl.window);
    impl.interactor->SetInteractorStyle(impl.style);
    // The interactor must not render by itself: it asks the widget to repaint.
    impl.interactor->EnableRenderOff();
    impl.renderRequest->SetClientData(this);
    impl.renderRequest->SetCallback([](vtkObject*, unsigned long, void* self, void*) {
        static_cast<VtkWidget*>(self)->update();
    });
    impl.interactor->AddObserver(vtkCommand::RenderEvent, impl.renderRequest);

    impl.makeCurrent->SetClientData(this);
    impl.makeCurrent->SetCallback([](vtkObject*, unsigned long, void* self, void*) {
        static_cast<VtkWidget*>(self)->makeCurrent();
    });
    impl.window->AddObserver(vtkCommand::WindowMakeCurrentEvent, impl.makeCurrent);
    impl.isCurrent->SetClientData(this);
    impl.isCurrent->SetCallback([](vtkObject*, unsigned long, void* self, void* callData) {
        auto* widget = static_cast<VtkWidget*>(self);
        *static_cast<bool*>(callData) =
            widget->context() != nullptr && QOpenGLContext::currentContext() == widget->context();
    });
    impl.window->AddObserver(vtkCommand::WindowIsCurrentEvent, impl.isCurrent);
}

VtkWidget::~VtkWidget() {
    if (m_available && isValid()) {
        makeCurrent();
        m_impl->window->Finalize();
        doneCurrent();
    }
}

vtkRenderer* VtkWidget::renderer() const {
    return m_impl->renderer;
}

void VtkWidget::initializeGL() {
    if (!m_available) return;
    QOpenGLContext* gl = context();
    if (gl == nullptr || !gl->isValid()) {
        m_available = false;
        m_reason = tr("no OpenGL context could be created");
        return;
    }
    const QSurfaceFormat got = gl->format();
    if (got.majorVersion() * 10 + got.minorVersion() < 32) {
        m_available = false;
        m_reason = tr("3D views need OpenGL 3.2; this display offers %1.%2")
                       .arg(got.majorVersion())
                       .arg(got.minorVersion());
        return;
    }
    Impl& impl = *m_impl;
    impl.window->SetOwnContext(false);
    impl.window->SetFrameBlitModeToBlitToCurrent();
    impl.window->SetReadyForRendering(false);
    // The context is Qt's and already checked above; tell VTK so.
    impl.window->SetIsDirect(true);
    impl.window->SetSupportsOpenGL(true);
    impl.window->SetForceMaximumHardwareLineWidth(1);
    impl.window->OpenGLInitContext();
    impl.interactor->Initialize();
}

void VtkWidget::resizeGL(int width, int height) {
    if (!m_available) return;
    const double ratio = devicePixelRatioF();
    m_impl->window->SetSize(int(width * ratio), int(height * ratio));
    m_impl->interactor->SetSize(int(width * ratio), int(height * ratio));
}

void VtkWidget::paintUnavailable() {
    QPainter painter(this);
    painter.fillRect(rect(), palette().window());
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap,
                     tr("3D view unavailable: %1").arg(m_reason));
}

void VtkWidget::paintGL() {
    if (!m_available) return paintUnavailable();
    Impl& impl = *m_impl;
    const double ratio = devicePixelRatioF();
    impl.window->SetSize(int(width() * ratio), int(height() * ratio));
    impl.window->SetReadyForRendering(true);
    impl.window->Render();
    impl.window->SetReadyForRendering(false);
    ++m_frames;
    Q_EMIT rendered();
}

void VtkWidget::forwardMouse(QMouseEvent* event, unsigned long vtkEvent) {
    if (!m_available) return;
    const double ratio = devicePixelRatioF();
    const QPointF p = event->position();
    m_impl->interactor->SetEventInformationFlipY(int(p.x() * ratio), int(p.y() * ratio),
                                                 (event->modifiers() & Qt::ControlModifier) ? 1 : 0,
                                                 (event->modifiers() & Qt::ShiftModifier) ? 1 : 0);
    m_impl->interactor->InvokeEvent(vtkEvent, event);
}

void VtkWidget::mousePressEvent(QMouseEvent* event) {
    switch (event->button()) {
        case Qt::LeftButton:
            forwardMouse(event, vtkCommand::LeftButtonPressEvent);
            break;
        case Qt::RightButton:
            forwardMouse(event, vtkCommand::RightButtonPressEvent);
            break;
        case Qt::MiddleButton:
            forwardMouse(event, vtkCommand::MiddleButtonPressEvent);
            break;
        default:
            break;
    }
}

void VtkWidget::mouseReleaseEvent(QMouseEvent* event) {
    switch (event->button()) {
        case Qt::LeftButton:
            forwardMouse(event, vtkCommand::LeftButtonReleaseEvent);
            break;
        case Qt::RightButton:
            forwardMouse(event, vtkCommand::RightButtonReleaseEvent);
            break;
        case Qt::MiddleButton:
            forwardMouse(event, vtkCommand::MiddleButtonReleaseEvent);
            break;
        default:
            break;
    }
}

void VtkWidget::mouseMoveEvent(QMouseEvent* event) {
    forwardMouse(event, vtkCommand::MouseMoveEvent);
}

void VtkWidget::wheelEvent(QWheelEvent* event) {
    if (!m_available) return;
    const double ratio = devicePixelRatioF();
    const QPointF p = event->position();
    m_impl->interactor->SetEventInformationFlipY(int(p.x() * ratio), int(p.y() * ratio), 0, 0);
    m_impl->interactor->InvokeEvent(event->angleDelta().y() > 0
                                        ? vtkCommand::MouseWheelForwardEvent
                                        : vtkCommand::MouseWheelBackwardEvent,
                                    event);
}

}  // namespace fovea
