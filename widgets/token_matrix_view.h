// The token x token attention matrix with token labels on both axes (queries down the left,
// keys along the top), interactive at GPT-2's 1,024 tokens: the cells are drawn into an image of
// the plot's pixels, each pixel the maximum of the cells it covers (a pyramid of 2x2 max-pooled
// levels makes that a few look-ups per pixel), cached until the zoom, pan or data change; only
// the labels of visible rows and columns are drawn, thinned to what fits. Masked entries (a
// causal model's future, padding keys) are grey, not the colour of zero. Hover shows
// (query, key, value); the wheel zooms at the cursor, dragging pans.
//
//     TokenMatrixPainter matrix;
//     matrix.setMatrix(tokenMatrix(stack, 5, {}), tokenLabels(stack.tokens));
//     QImage cells = matrix.renderCells(QSize(600, 600), QRectF(0, 0, 1024, 1024));
//     auto* view = new TokenMatrixView;  view->setPainter(matrix);  view->zoomAt(point, 2.0);
#pragma once

#include "widgets/token_style.h"

#include <QImage>
#include <QPoint>
#include <QRectF>
#include <QString>
#include <QVector>
#include <QWidget>

#include <optional>
#include <string>
#include <vector>

namespace fovea {

struct MatrixCell {
    int query = -1;
    int key = -1;
};

class TokenMatrixPainter {
  public:
    void setMatrix(TokenMatrix matrix, std::vector<QString> labels);
    void setColormap(const std::string& name);
    void setTitle(const QString& title) { m_title = title; }
    int tokens() const { return m_matrix.tokens; }
    float value(int query, int key) const;
    bool masked(int query, int key) const;
    // The top of the colour scale: the largest unmasked value (1 when all are 0).
    double high() const;
    const QString& label(int token) const { return m_labels[std::size_t(token)]; }

    struct Layout {
        QRectF title, plot, colorBar;
    };
    Layout layout(const QRectF& target) const;
    QSizeF preferredSize() const { return {640, 600}; }
    // The cells of `visible` (in cell units: x keys, y queries) drawn into an image of `pixels`.
    QImage renderCells(const QSize& pixels, const QRectF& visible) const;
    // Title, cells, the visible labels and the colour bar. `visible` empty: the whole matrix;
    // `cells`: an image renderCells made for this plot and visible rectangle (else rendered here).
    void paint(QPainter& painter, const QRectF& target, QRectF visible = {},
               const QImage* cells = nullptr) const;
    std::optional<MatrixCell> cellAt(const QRectF& target, const QRectF& visible,
                                     const QPointF& point) const;
    QRectF cellRect(const QRectF& target, const QRectF& visible, int query, int key) const;

  private:
    void buildPyramid();
    void drawLabels(QPainter& painter, const QRectF& plot, const QRectF& visible) const;

    TokenMatrix m_matrix;
    std::vector<QString> m_labels;
    std::vector<std::vector<float>>
        m_levels;  // level l: 2^l x 2^l max-pooled blocks, NaN = all masked
    std::vector<int> m_levelSize;
    QVector<QRgb> m_table;
    std::string m_colormap = "viridis";
    QString m_title;
};

class TokenMatrixView : public QWidget {
    Q_OBJECT
  public:
    explicit TokenMatrixView(QWidget* parent = nullptr);
    void setPainter(const TokenMatrixPainter& painter);
    const TokenMatrixPainter& painter() const { return m_painter; }
    QRectF figureRect() const { return QRectF(rect()).adjusted(4, 4, -4, -4); }
    QRectF visibleCells() const { return m_visible; }
    void setVisibleCells(const QRectF& cells);
    void resetView();
    // Zooms by `factor` (> 1: in) keeping the cell under `point` (widget coordinates) in place.
    void zoomAt(const QPointF& point, double factor);
    void panBy(const QPointF& pixels);
    // What a mouse move to `point` does: hover a cell (none outside the plot).
    void hoverAt(const QPointF& point);
    std::optional<MatrixCell> hovered() const { return m_hover; }
    // How many times the cell image was rendered (tests: hover must not re-render).
    int renderCount() const { return m_renders; }

  Q_SIGNALS:
    void cellHovered(int query, int key, float value, bool masked);

  protected:
    void paintEvent(QPaintEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

  private:
    TokenMatrixPainter m_painter;
    QRectF m_visible;
    std::optional<MatrixCell> m_hover;
    std::optional<QPointF> m_dragFrom;
    QImage m_cells;
    QRectF m_cellsVisible;
    QSize m_cellsSize;
    int m_renders = 0;
};

}  // namespace fovea
