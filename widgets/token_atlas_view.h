// The layer x head atlas of token patterns: every head's token x token attention matrix as a
// small thumbnail (max-pooled to at most `side` x `side` pixels, masked entries grey), rows =
// layers, columns = heads, so previous-token, first-token and broad heads stand out at a glance.
// Clicking a thumbnail chooses that layer and head for the other token views.
//
//     TokenAtlasPainter atlas = buildTokenAtlas(stack, /*side*/ 64, "viridis");  // in a job
//     atlas.setFocus(TokenAtlasCell{2, 5});
//     auto cell = atlas.cellAt(target, point);
#pragma once

#include "core/model/attention_stack.h"

#include <QImage>
#include <QRectF>
#include <QString>
#include <QWidget>

#include <optional>
#include <string>
#include <vector>

namespace fovea {

struct TokenAtlasCell {
    int layer = 0;  // model indices
    int head = 0;
};

class TokenAtlasPainter {
  public:
    int layers() const { return int(m_layers.size()); }
    int heads() const { return int(m_heads.size()); }
    const QImage& thumbnail(int row, int column) const {
        return m_thumbnails[std::size_t(row)][std::size_t(column)];
    }
    void setFocus(std::optional<TokenAtlasCell> focus) { m_focus = focus; }
    std::optional<TokenAtlasCell> focus() const { return m_focus; }
    void setTitle(const QString& title) { m_title = title; }

    QSizeF preferredSize() const;
    void paint(QPainter& painter, const QRectF& target) const;
    QRectF cellRect(const QRectF& target, int row, int column) const;
    std::optional<TokenAtlasCell> cellAt(const QRectF& target, const QPointF& point) const;

  private:
    friend TokenAtlasPainter buildTokenAtlas(const AttentionStack&, int, const std::string&);
    struct Geometry {
        double left = 0, top = 0, cell = 0, gap = 0;
    };
    Geometry geometry(const QRectF& target) const;

    std::vector<int> m_layers;  // model layer of each row
    std::vector<int> m_heads;   // model head of each column (the heads of the first layer)
    std::vector<std::vector<QImage>> m_thumbnails;
    std::optional<TokenAtlasCell> m_focus;
    QString m_title;
};

// Every captured layer and head, each thumbnail coloured over its own range 0..max.
TokenAtlasPainter buildTokenAtlas(const AttentionStack& stack, int side,
                                  const std::string& colormap);

class TokenAtlasView : public QWidget {
    Q_OBJECT
  public:
    explicit TokenAtlasView(QWidget* parent = nullptr);
    void setPainter(const TokenAtlasPainter& painter);
    const TokenAtlasPainter& painter() const { return m_painter; }
    void setFocusCell(int layer, int head);
    QRectF figureRect() const { return QRectF(rect()).adjusted(6, 6, -6, -6); }

  Q_SIGNALS:
    void cellClicked(int layer, int head);

  protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

  private:
    TokenAtlasPainter m_painter;
};

}  // namespace fovea
