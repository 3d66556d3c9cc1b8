// The text as typed, each token's bytes on a background coloured by an explanation score
// (core/explain/text_explain.h: rollout, input x gradient, integrated gradients, ...): red for
// positive, blue for negative (white at zero, the scale symmetric), or white to red when every
// score is >= 0; a colour bar below. Token spans come from TokenInfo's byte spans, so the text
// keeps its own spaces and line breaks; special tokens the tokenizer added ([CLS], [SEP],
// <|endoftext|>) appear as small framed chips where they sit in the sequence.
//
//     TextSaliencyPainter saliency;
//     saliency.setContent(input.text, "", input.tokens, explanation.scores);
//     QRectF box = saliency.tokenRect(target, 3);   // where token 3's text starts
#pragma once

#include "core/model/token_info.h"

#include <QColor>
#include <QRectF>
#include <QString>
#include <QWidget>

#include <optional>
#include <string>
#include <vector>

class QPainter;
class QPaintDevice;

namespace fovea {

class TextSaliencyPainter {
  public:
    // `pair`: the second text of a BERT pair (segment-1 spans index it).
    void setContent(const std::string& text, const std::string& pair, const TokenLayout& tokens,
                    std::vector<float> scores);
    void setTitle(const QString& title) { m_title = title; }
    void setCaption(const QString& caption) { m_caption = caption; }
    int tokens() const { return int(m_scores.size()); }
    float score(int token) const { return m_scores[std::size_t(token)]; }
    // The background of a score.
    QColor colorOf(float score) const;
    bool isSigned() const { return m_signed; }
    double scaleMaximum() const { return m_maximum; }

    QSizeF preferredSize(double width = 560) const;
    void paint(QPainter& painter, const QRectF& target) const;
    // The first box of a token's text (its first line when it wraps); empty when it shows no text.
    QRectF tokenRect(const QRectF& target, int token) const;
    std::optional<int> tokenAt(const QRectF& target, const QPointF& point) const;

  private:
    struct Run {
        QString text;
        int token = -1;  // -1: text between tokens (spaces BERT's spans leave out)
        bool special = false;
        bool lineBreak = false;
    };
    struct Box {
        QRectF rect;
        QString text;
        int token = -1;
        bool special = false;
    };
    // Metrics of `device` (a figure's points differ from the screen's pixels); null: the screen's.
    std::vector<Box> layoutBoxes(const QRectF& target, double* bottom = nullptr,
                                 const QPaintDevice* device = nullptr) const;

    std::vector<Run> m_runs;
    std::vector<float> m_scores;
    std::vector<QString> m_tokenText;
    bool m_signed = false;
    double m_maximum = 1.0;
    QString m_title;
    QString m_caption;
};

class TextSaliencyView : public QWidget {
    Q_OBJECT
  public:
    explicit TextSaliencyView(QWidget* parent = nullptr);
    void setPainter(const TextSaliencyPainter& painter);
    void setPlaceholder(const QString& text);
    const TextSaliencyPainter& painter() const { return m_painter; }
    QRectF figureRect() const { return QRectF(rect()).adjusted(8, 8, -8, -8); }

  Q_SIGNALS:
    void tokenHovered(int token, float score);  // -1: none

  protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

  private:
    TextSaliencyPainter m_painter;
    QString m_placeholder;
    int m_hover = -1;
};

}  // namespace fovea
