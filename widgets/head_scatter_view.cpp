#include "widgets/head_scatter_view.h"

#include "core/image/colormap.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

// A drag shorter than this is a click, not a lasso.
constexpr double kLassoMinimumLength = 6.0;

double pathLength(const QPolygonF& polygon) {
    double length = 0.0;
    for (int i = 1; i < polygon.size(); ++i) length += QLineF(polygon[i - 1], polygon[i]).length();
    return length;
}

QImage patternImage(const cv::Mat& pattern) {
    if (pattern.empty() || pattern.type() != CV_32F) return {};
    double low = 0.0, high = 0.0;
    cv::minMaxLoc(pattern, &low, &high);
    QImage image(pattern.cols, pattern.rows, QImage::Format_RGB32);
    for (int y = 0; y < pattern.rows; ++y) {
        for (int x = 0; x < pattern.cols; ++x) {
            const float v = pattern.at<float>(y, x);
            const int index = std::isnan(v) ? -1 : colormapIndex(v, low, high);
            const cv::Vec3b rgb =
                index < 0 ? cv::Vec3b(200, 200, 200) : colormapColor("viridis", index);
            image.setPixel(x, y, qRgb(rgb[0], rgb[1], rgb[2]));
        }
    }
    return image;
}

}  // namespace

HeadScatterView::HeadScatterView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setMinimumSize(240, 200);
    setFocusPolicy(Qt::ClickFocus);
}

void HeadScatterView::setData(const HeadData& data) {
    m_painter.setData(data);
    // Heads that are no longer analysed leave the selection.
    HeadSet kept;
    for (const HeadKey& key : m_painter.selection()) {
        if (data.find(key)) kept.insert(key);
    }
    m_painter.setSelection(kept);
    if (m_hovered && !data.find(*m_hovered)) m_hovered.reset();
    update();
}

void HeadScatterView::setColouring(HeadScatterPainter::Colouring colouring) {
    m_painter.setColouring(colouring);
    update();
}

void HeadScatterView::setSelection(const HeadSet& selection) {
    m_painter.setSelection(selection);
    update();
}

QRectF HeadScatterView::scatterRect() const {
    return QRectF(rect()).adjusted(6, 4, -6, -6);
}

void HeadScatterView::changeSelection(const HeadSet& selection) {
    if (selection == m_painter.selection()) return;
    m_painter.setSelection(selection);
    update();
    Q_EMIT selectionChanged(selection);
}

void HeadScatterView::applyLasso(const QPolygonF& polygon, bool add) {
    HeadSet selection = add ? m_painter.selection() : HeadSet{};
    const HeadSet inside = m_painter.headsInside(scatterRect(), polygon);
    selection.insert(inside.begin(), inside.end());
    changeSelection(selection);
}

void HeadScatterView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    m_painter.paint(painter, scatterRect());
    if (m_dragging && m_lasso.size() > 1) {
        painter.setRenderHint(QPainter::Antialiasing, true);
        painter.setPen(QPen(QColor(200, 0, 0), 1.2, Qt::DashLine));
        painter.setBrush(QColor(200, 0, 0, 30));
        painter.drawPolygon(m_lasso);
    }
    if (m_hovered && !m_dragging) {
        if (const HeadPoint* point = m_painter.data().find(*m_hovered))
            paintHoverCard(painter, *point);
    }
}

void HeadScatterView::paintHoverCard(QPainter& painter, const HeadPoint& point) const {
    const HeadData& data = m_painter.data();
    QStringList lines;
    lines << tr("Layer %1, head %2").arg(point.key.layer).arg(point.key.head);
    if (point.cluster >= 0) {
        const QString name =
            point.cluster < int(data.clusterNames.size())
                ? QString::fromStdString(data.clusterNames[std::size_t(point.cluster)])
                : QString::number(point.cluster + 1);
        lines << tr("cluster: %1").arg(name);
    }
    QStringList labels;
    for (int label : point.labels) {
        if (label >= 0 && label < int(data.labels.size()))
            labels << QString::fromStdString(data.labels[std::size_t(label)].name);
    }
    lines << tr("labels: %1").arg(labels.isEmpty() ? tr("none") : labels.join(", "));
    if (std::isfinite(point.importance)) {
        lines << tr("importance: %1").arg(point.importance, 0, 'g', 3);
    }
    for (const auto& [name, value] : point.features) {
        lines << QStringLiteral("%1: %2").arg(QString::fromStdString(name)).arg(value, 0, 'g', 3);
    }
    const QImage thumbnail = patternImage(point.pattern);
    const QFontMetricsF metrics(font());
    double textWidth = 0.0;
    for (const QString& line : lines)
        textWidth = std::max(textWidth, metrics.horizontalAdvance(line));
    const double line = metrics.height();
    const double thumb = thumbnail.isNull() ? 0.0 : 84.0;
    const double width = 12 + thumb + (thumb > 0 ? 10 : 0) + textWidth + 12;
    const double height = std::max(thumb, lines.size() * line) + 16;
    QPointF at = m_hoverAt + QPointF(14, 14);
    if (at.x() + width > rect().right()) at.setX(m_hoverAt.x() - 14 - width);
    if (at.y() + height > rect().bottom()) at.setY(std::max(0.0, rect().bottom() - height));
    const QRectF card(at, QSizeF(width, height));
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, true);
    painter.setPen(QPen(QColor(90, 90, 90), 1.0));
    painter.setBrush(QColor(255, 255, 238, 245));
    painter.drawRoundedRect(card, 4, 4);
    if (!thumbnail.isNull()) {
        painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
        painter.drawImage(QRectF(card.left() + 8, card.top() + 8, thumb, thumb), thumbnail);
    }
    painter.setPen(Qt::black);
    double y = card.top() + 8;
    for (const QString& text : lines) {
        painter.drawText(
            QRectF(card.left() + 12 + thumb + (thumb > 0 ? 10 : 0) - 4, y, textWidth + 8, line),
            Qt::AlignLeft | Qt::AlignVCenter, text);
        y += line;
    }
    painter.restore();
}

void HeadScatterView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
    m_dragging = true;
    m_addToSelection = event->modifiers() & (Qt::ShiftModifier | Qt::ControlModifier);
    m_lasso = QPolygonF{event->position()};
    update();
}

void HeadScatterView::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragging) {
        m_lasso << event->position();
        update();
        return;
    }
    const std::optional<HeadKey> hovered = m_painter.headAt(scatterRect(), event->position());
    if (hovered != m_hovered || (hovered && event->position() != m_hoverAt)) {
        m_hovered = hovered;
        m_hoverAt = event->position();
        update();
    }
}

void HeadScatterView::mouseReleaseEvent(QMouseEvent* event) {
    if (!m_dragging || event->button() != Qt::LeftButton) return QWidget::mouseReleaseEvent(event);
    m_dragging = false;
    m_lasso << event->position();
    const QPolygonF lasso = m_lasso;
    m_lasso.clear();
    if (pathLength(lasso) >= kLassoMinimumLength) {
        applyLasso(lasso, m_addToSelection);
        return;
    }
    // A click: one head, or toggle it with Ctrl; a click on empty space clears.
    const std::optional<HeadKey> hit = m_painter.headAt(scatterRect(), event->position());
    HeadSet selection;
    if (event->modifiers() & Qt::ControlModifier) {
        selection = m_painter.selection();
        if (hit && !selection.erase(*hit)) selection.insert(*hit);
    } else if (hit) {
        selection.insert(*hit);
    }
    changeSelection(selection);
    update();
}

void HeadScatterView::mouseDoubleClickEvent(QMouseEvent* event) {
    if (const std::optional<HeadKey> hit = m_painter.headAt(scatterRect(), event->position()))
        Q_EMIT headActivated(*hit);
}

void HeadScatterView::leaveEvent(QEvent*) {
    if (m_hovered) {
        m_hovered.reset();
        update();
    }
}

}  // namespace fovea
