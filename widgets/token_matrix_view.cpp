#include "widgets/token_matrix_view.h"

#include <QFontMetricsF>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fovea {
namespace {

constexpr double kLabelSpace = 78.0;  // room for the labels left of and above the plot
constexpr double kTitleHeight = 20.0;
constexpr double kBarSpace = 56.0;

float maxIgnoringNan(float a, float b) {
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    return std::max(a, b);
}

}  // namespace

void TokenMatrixPainter::setMatrix(TokenMatrix matrix, std::vector<QString> labels) {
    m_matrix = std::move(matrix);
    m_labels = std::move(labels);
    m_labels.resize(std::size_t(m_matrix.tokens));
    if (m_table.isEmpty()) m_table = colormapTable(m_colormap);
    buildPyramid();
}

void TokenMatrixPainter::setColormap(const std::string& name) {
    m_colormap = name;
    m_table = colormapTable(name);
}

float TokenMatrixPainter::value(int query, int key) const {
    return m_matrix.values[std::size_t(query) * std::size_t(m_matrix.tokens) + std::size_t(key)];
}

bool TokenMatrixPainter::masked(int query, int key) const {
    return m_matrix.mask[std::size_t(query) * std::size_t(m_matrix.tokens) + std::size_t(key)] != 0;
}

double TokenMatrixPainter::high() const {
    return m_matrix.maximum > 0.0f ? double(m_matrix.maximum) : 1.0;
}

void TokenMatrixPainter::buildPyramid() {
    m_levels.clear();
    m_levelSize.clear();
    const int n = m_matrix.tokens;
    if (n == 0) return;
    std::vector<float> base(m_matrix.values.size());
    for (std::size_t i = 0; i < base.size(); ++i) {
        base[i] = m_matrix.mask[i] ? std::numeric_limits<float>::quiet_NaN() : m_matrix.values[i];
    }
    m_levels.push_back(std::move(base));
    m_levelSize.push_back(n);
    while (m_levelSize.back() > 1) {
        const int from = m_levelSize.back();
        const int size = (from + 1) / 2;
        const std::vector<float>& prev = m_levels.back();
        std::vector<float> next(std::size_t(size) * std::size_t(size),
                                std::numeric_limits<float>::quiet_NaN());
        for (int y = 0; y < from; ++y) {
            for (int x = 0; x < from; ++x) {
                float& out = next[std::size_t(y / 2) * std::size_t(size) + std::size_t(x / 2)];
                out =
                    maxIgnoringNan(out, prev[std::size_t(y) * std::size_t(from) + std::size_t(x)]);
            }
        }
        m_levels.push_back(std::move(next));
        m_levelSize.push_back(size);
    }
}

QImage TokenMatrixPainter::renderCells(const QSize& pixels, const QRectF& visible) const {
    QImage image(pixels, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    const int n = m_matrix.tokens;
    if (n == 0 || pixels.isEmpty() || visible.isEmpty()) return image;
    const double perX = visible.width() / pixels.width();
    const double perY = visible.height() / pixels.height();
    // The coarsest level whose blocks are no larger than what one pixel covers.
    const double cover = std::max(perX, perY);
    int level = 0;
    while (level + 1 < int(m_levels.size()) && double(1 << (level + 1)) <= cover) ++level;
    const int block = 1 << level;
    const int size = m_levelSize[std::size_t(level)];
    const float* data = m_levels[std::size_t(level)].data();
    // Per pixel column / row: the blocks it covers (first, last), or -1 outside the matrix.
    auto spans = [n, block](int count, double start, double per) {
        std::vector<std::pair<int, int>> result(std::size_t(count), {-1, -1});
        for (int p = 0; p < count; ++p) {
            const double a = start + p * per;
            const double b = a + per;
            int first = int(std::floor(a));
            int last = int(std::ceil(b)) - 1;
            if (last < first) last = first;
            if (last < 0 || first >= n) continue;
            first = std::max(first, 0);
            last = std::min(last, n - 1);
            result[std::size_t(p)] = {first / block, last / block};
        }
        return result;
    };
    const auto columns = spans(pixels.width(), visible.left(), perX);
    const auto rows = spans(pixels.height(), visible.top(), perY);
    const float scale = float(256.0 / high());
    const QRgb* table = m_table.constData();
    for (int py = 0; py < pixels.height(); ++py) {
        const auto [y0, y1] = rows[std::size_t(py)];
        if (y0 < 0) continue;
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(py));
        for (int px = 0; px < pixels.width(); ++px) {
            const auto [x0, x1] = columns[std::size_t(px)];
            if (x0 < 0) continue;
            float v = std::numeric_limits<float>::quiet_NaN();
            for (int y = y0; y <= y1; ++y) {
                const float* row = data + std::size_t(y) * std::size_t(size);
                for (int x = x0; x <= x1; ++x) v = maxIgnoringNan(v, row[x]);
            }
            line[px] = std::isnan(v) ? kMaskedRgb : table[std::clamp(int(v * scale), 0, 255)];
        }
    }
    return image;
}

TokenMatrixPainter::Layout TokenMatrixPainter::layout(const QRectF& target) const {
    Layout l;
    l.title = QRectF(target.left(), target.top(), target.width(), kTitleHeight);
    const double side = std::max(10.0, std::min(target.width() - kLabelSpace - kBarSpace,
                                                target.height() - kTitleHeight - kLabelSpace - 4));
    l.plot =
        QRectF(target.left() + kLabelSpace, target.top() + kTitleHeight + kLabelSpace, side, side);
    l.colorBar = QRectF(l.plot.right() + 12, l.plot.top(), 12, side);
    return l;
}

QRectF TokenMatrixPainter::cellRect(const QRectF& target, const QRectF& visible, int query,
                                    int key) const {
    const QRectF plot = layout(target).plot;
    const double sx = plot.width() / visible.width(), sy = plot.height() / visible.height();
    return {plot.left() + (key - visible.left()) * sx, plot.top() + (query - visible.top()) * sy,
            sx, sy};
}

std::optional<MatrixCell> TokenMatrixPainter::cellAt(const QRectF& target, const QRectF& visible,
                                                     const QPointF& point) const {
    const QRectF plot = layout(target).plot;
    if (tokens() == 0 || !plot.contains(point) || visible.isEmpty()) return std::nullopt;
    const int key = int(
        std::floor(visible.left() + (point.x() - plot.left()) / plot.width() * visible.width()));
    const int query = int(
        std::floor(visible.top() + (point.y() - plot.top()) / plot.height() * visible.height()));
    if (key < 0 || query < 0 || key >= tokens() || query >= tokens()) return std::nullopt;
    return MatrixCell{query, key};
}

void TokenMatrixPainter::drawLabels(QPainter& painter, const QRectF& plot,
                                    const QRectF& visible) const {
    const double scale = plot.height() / visible.height();  // points per cell
    const QFont font = figureFont(std::clamp(scale * 0.9, 8.0, 11.0));
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    const int stride = std::max(1, int(std::ceil(metrics.height() / scale)));
    const int first = std::max(0, int(std::floor(visible.top())));
    const int last = std::min(tokens() - 1, int(std::ceil(visible.bottom())) - 1);
    const int firstKey = std::max(0, int(std::floor(visible.left())));
    const int lastKey = std::min(tokens() - 1, int(std::ceil(visible.right())) - 1);
    painter.setPen(Qt::black);
    for (int q = first - first % stride; q <= last; q += stride) {
        if (q < first) continue;
        const double y = plot.top() + (q + 0.5 - visible.top()) * scale;
        const QString text =
            metrics.elidedText(m_labels[std::size_t(q)], Qt::ElideRight, kLabelSpace - 8);
        painter.drawText(QRectF(plot.left() - kLabelSpace, y - metrics.height() / 2,
                                kLabelSpace - 4, metrics.height()),
                         Qt::AlignRight | Qt::AlignVCenter, text);
    }
    for (int k = firstKey - firstKey % stride; k <= lastKey; k += stride) {
        if (k < firstKey) continue;
        const double x = plot.left() + (k + 0.5 - visible.left()) * scale;
        const QString text =
            metrics.elidedText(m_labels[std::size_t(k)], Qt::ElideRight, kLabelSpace - 8);
        painter.save();
        painter.translate(x, plot.top() - 4);
        painter.rotate(-90);
        painter.drawText(QRectF(0, -metrics.height() / 2, kLabelSpace - 4, metrics.height()),
                         Qt::AlignLeft | Qt::AlignVCenter, text);
        painter.restore();
    }
}

void TokenMatrixPainter::paint(QPainter& painter, const QRectF& target, QRectF visible,
                               const QImage* cells) const {
    painter.save();
    const Layout l = layout(target);
    painter.setFont(figureFont(12, true));
    painter.setPen(Qt::black);
    painter.drawText(l.title, Qt::AlignLeft | Qt::AlignVCenter, m_title);
    painter.setFont(figureFont(12));
    if (tokens() == 0) {
        painter.restore();
        return;
    }
    if (visible.isEmpty()) visible = QRectF(0, 0, tokens(), tokens());
    if (cells) {
        painter.drawImage(l.plot, *cells);
    } else {
        // A figure: enough pixels that every cell is at least one (and small matrices stay crisp).
        const int n = tokens();
        const int pixels = n >= 512 ? std::min(n, 2048) : n * int(std::ceil(512.0 / n));
        painter.drawImage(l.plot, renderCells(QSize(pixels, pixels), visible));
    }
    painter.setPen(QPen(QColor(90, 90, 90), 0.6));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(l.plot);
    painter.save();
    painter.setClipRect(QRectF(target.left(), l.plot.top() - kLabelSpace,
                               l.plot.right() - target.left(), l.plot.height() + kLabelSpace));
    drawLabels(painter, l.plot, visible);
    painter.restore();
    drawColorBar(painter, l.colorBar, m_table, 0.0, high(), QStringLiteral("attention"));
    painter.restore();
}

TokenMatrixView::TokenMatrixView(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(240, 200);
}

void TokenMatrixView::setPainter(const TokenMatrixPainter& painter) {
    const bool sameSize = painter.tokens() == m_painter.tokens();
    m_painter = painter;
    m_cells = QImage();
    if (!sameSize || m_visible.isEmpty()) resetView();
    if (m_hover && (m_hover->query >= m_painter.tokens() || m_hover->key >= m_painter.tokens()))
        m_hover.reset();
    update();
}

void TokenMatrixView::resetView() {
    setVisibleCells(QRectF(0, 0, m_painter.tokens(), m_painter.tokens()));
}

void TokenMatrixView::setVisibleCells(const QRectF& cells) {
    const double n = std::max(1, m_painter.tokens());
    // Square (the plot is), at least 4 cells (or the whole matrix when it is smaller), inside it.
    double side = std::clamp(std::max(cells.width(), cells.height()), std::min(4.0, n), n);
    double x = std::clamp(cells.center().x() - side / 2, 0.0, n - side);
    double y = std::clamp(cells.center().y() - side / 2, 0.0, n - side);
    m_visible = QRectF(x, y, side, side);
    update();
}

void TokenMatrixView::zoomAt(const QPointF& point, double factor) {
    if (m_painter.tokens() == 0 || factor <= 0) return;
    const QRectF plot = m_painter.layout(figureRect()).plot;
    const double fx = std::clamp((point.x() - plot.left()) / plot.width(), 0.0, 1.0);
    const double fy = std::clamp((point.y() - plot.top()) / plot.height(), 0.0, 1.0);
    const QPointF anchor(m_visible.left() + fx * m_visible.width(),
                         m_visible.top() + fy * m_visible.height());
    const double n = m_painter.tokens();
    const double side = std::clamp(m_visible.width() / factor, std::min(4.0, n), n);
    const QRectF next(anchor.x() - fx * side, anchor.y() - fy * side, side, side);
    setVisibleCells(next);
}

void TokenMatrixView::panBy(const QPointF& pixels) {
    const QRectF plot = m_painter.layout(figureRect()).plot;
    if (plot.isEmpty()) return;
    const double perPixel = m_visible.width() / plot.width();
    setVisibleCells(m_visible.translated(-pixels.x() * perPixel, -pixels.y() * perPixel));
}

void TokenMatrixView::hoverAt(const QPointF& point) {
    const std::optional<MatrixCell> cell = m_painter.cellAt(figureRect(), m_visible, point);
    const bool same = (!cell && !m_hover) || (cell && m_hover && cell->query == m_hover->query &&
                                              cell->key == m_hover->key);
    if (same) return;
    m_hover = cell;
    update();
    if (cell) {
        Q_EMIT cellHovered(cell->query, cell->key, m_painter.value(cell->query, cell->key),
                           m_painter.masked(cell->query, cell->key));
    } else {
        Q_EMIT cellHovered(-1, -1, 0.0f, false);
    }
}

void TokenMatrixView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    const QRectF target = figureRect();
    const QRectF plot = m_painter.layout(target).plot;
    const qreal ratio = devicePixelRatioF();
    const QSize pixels = (plot.size() * ratio).toSize();
    if (m_cells.isNull() || m_cellsVisible != m_visible || m_cellsSize != pixels) {
        m_cells = m_painter.renderCells(pixels, m_visible);
        m_cells.setDevicePixelRatio(ratio);
        m_cellsVisible = m_visible;
        m_cellsSize = pixels;
        ++m_renders;
    }
    m_painter.paint(painter, target, m_visible, &m_cells);
    if (!m_hover || m_painter.tokens() == 0) return;
    // The hovered cell, its row and column, and what it holds.
    const QRectF cell = m_painter.cellRect(target, m_visible, m_hover->query, m_hover->key);
    painter.setClipRect(plot);
    painter.setPen(QPen(QColor(255, 255, 255, 150), 1.0));
    painter.drawLine(QPointF(plot.left(), cell.center().y()),
                     QPointF(plot.right(), cell.center().y()));
    painter.drawLine(QPointF(cell.center().x(), plot.top()),
                     QPointF(cell.center().x(), plot.bottom()));
    painter.setPen(QPen(Qt::red, 1.5));
    painter.drawRect(cell.adjusted(-1, -1, 1, 1));
    painter.setClipping(false);
    const bool isMasked = m_painter.masked(m_hover->query, m_hover->key);
    const QString text =
        QStringLiteral("query %1 %2  \u2192  key %3 %4:  %5")
            .arg(m_hover->query)
            .arg(m_painter.label(m_hover->query))
            .arg(m_hover->key)
            .arg(m_painter.label(m_hover->key))
            .arg(isMasked ? tr("masked")
                          : QString::number(double(m_painter.value(m_hover->query, m_hover->key)),
                                            'g', 4));
    const QFont font = figureFont(12);
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    QRectF box(0, 0, metrics.horizontalAdvance(text) + 12, metrics.height() + 6);
    box.moveTopLeft(cell.bottomRight() + QPointF(10, 10));
    if (box.right() > width() - 2) box.moveRight(cell.left() - 10);
    if (box.bottom() > height() - 2) box.moveBottom(cell.top() - 10);
    painter.setPen(QColor(60, 60, 60));
    painter.setBrush(QColor(255, 255, 225, 235));
    painter.drawRoundedRect(box, 3, 3);
    painter.drawText(box, Qt::AlignCenter, text);
}

void TokenMatrixView::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps != 0.0) zoomAt(event->position(), std::pow(1.25, steps));
    event->accept();
}

void TokenMatrixView::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) m_dragFrom = event->position();
}

void TokenMatrixView::mouseMoveEvent(QMouseEvent* event) {
    if (m_dragFrom && (event->buttons() & Qt::LeftButton)) {
        panBy(event->position() - *m_dragFrom);
        m_dragFrom = event->position();
    }
    hoverAt(event->position());
}

void TokenMatrixView::mouseReleaseEvent(QMouseEvent*) {
    m_dragFrom.reset();
}

void TokenMatrixView::leaveEvent(QEvent*) {
    hoverAt(QPointF(-1, -1));
}

void TokenMatrixView::keyPressEvent(QKeyEvent* event) {
    const double step = std::max(1.0, m_visible.width() / 8);
    switch (event->key()) {
        case Qt::Key_Plus:
        case Qt::Key_Equal:
            zoomAt(m_painter.layout(figureRect()).plot.center(), 1.5);
            break;
        case Qt::Key_Minus:
            zoomAt(m_painter.layout(figureRect()).plot.center(), 1 / 1.5);
            break;
        case Qt::Key_Left:
            setVisibleCells(m_visible.translated(-step, 0));
            break;
        case Qt::Key_Right:
            setVisibleCells(m_visible.translated(step, 0));
            break;
        case Qt::Key_Up:
            setVisibleCells(m_visible.translated(0, -step));
            break;
        case Qt::Key_Down:
            setVisibleCells(m_visible.translated(0, step));
            break;
        case Qt::Key_Home:
            resetView();
            break;
        default:
            QWidget::keyPressEvent(event);
    }
}

}  // namespace fovea
