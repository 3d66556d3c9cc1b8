// The head view (after BertViz's, Vig 2019): the tokens twice, queries in the left column and
// keys in the right, joined by lines whose opacity and width follow the attention weight, one
// colour per head (all heads of a layer, or a chosen subset). Hovering a token focuses its
// lines (a query's keys, or the queries that look at a key). Masked pairs (a causal model's
// future keys, padding keys) have no line. The painter draws the same figure on screen and in
// exports (SVG / PDF / PNG through exportPainting).
//
//     TokenHeadPainter heads;
//     heads.setAttention(stack, /*layer*/ 1, /*heads*/ {});   // every captured head
//     heads.setFocus(TokenSide::Query, 4);                     // only token 4's lines
//     heads.paint(painter, QRectF(QPointF(0, 0), heads.preferredSize()));
#pragma once

#include "core/model/attention_stack.h"

#include <QRectF>
#include <QString>
#include <QWidget>

#include <memory>
#include <optional>
#include <vector>

class QPainter;

namespace fovea {

enum class TokenSide { Query, Key };

struct TokenHit {
    TokenSide side = TokenSide::Query;
    int token = -1;
};

class TokenHeadPainter {
  public:
    // Lines below this weight are not drawn (they would be invisible, and a 1,024-token layer
    // has a million pairs per head).
    static constexpr float kMinimumWeight = 0.01f;

    void setAttention(std::shared_ptr<const AttentionStack> stack, int layer,
                      std::vector<int> heads);
    void setFocus(std::optional<TokenHit> focus) { m_focus = focus; }
    void setTitle(const QString& title) { m_title = title; }
    std::optional<TokenHit> focus() const { return m_focus; }
    int layer() const { return m_layer; }
    int tokens() const { return m_stack ? m_stack->tokens.size() : 0; }
    // Model indices of the heads drawn.
    const std::vector<int>& heads() const { return m_heads; }

    QSizeF preferredSize() const;
    void paint(QPainter& painter, const QRectF& target) const;
    // Where a token's label sits, and the line from a query to a key (tests sample pixels on it).
    QRectF labelRect(const QRectF& target, TokenSide side, int token) const;
    QLineF linkLine(const QRectF& target, int query, int key) const;
    std::optional<TokenHit> tokenAt(const QRectF& target, const QPointF& point) const;

  private:
    struct Geometry {
        double top = 0, row = 0, leftText = 0, rightText = 0, leftEdge = 0, rightEdge = 0,
               labelWidth = 0;
    };
    Geometry geometry(const QRectF& target) const;

    std::shared_ptr<const AttentionStack> m_stack;
    int m_layer = 0;
    std::vector<int> m_heads;  // model heads drawn
    std::vector<int> m_slots;  // their slots in the layer
    std::vector<QString> m_labels;
    std::optional<TokenHit> m_focus;
    QString m_title;
};

class TokenHeadView : public QWidget {
    Q_OBJECT
  public:
    explicit TokenHeadView(QWidget* parent = nullptr);
    void setPainter(const TokenHeadPainter& painter);
    const TokenHeadPainter& painter() const { return m_painter; }
    QRectF figureRect() const;
    QSize sizeHint() const override;

  Q_SIGNALS:
    void tokenHovered(int side, int token);  // side 0: query, 1: key; token -1: none

  protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

  private:
    TokenHeadPainter m_painter;
};

}  // namespace fovea
