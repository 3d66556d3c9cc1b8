#include "widgets/text_saliency_view.h"

#include "widgets/token_style.h"

#include <QFontMetricsF>
#include <QLinearGradient>
#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace fovea {
namespace {

constexpr double kTitle = 24.0;
constexpr double kLine = 22.0;
constexpr double kBar = 46.0;  // colour bar and its labels below the text
constexpr double kTextPixelSize = 15.0;

QFont textFont() {
    return figureFont(kTextPixelSize);
}
QFont chipFont() {
    return figureFont(kTextPixelSize * 0.72);
}

// Pieces of a run that wrapping may separate: each ends after a space.
std::vector<QString> atoms(const QString& text) {
    std::vector<QString> pieces;
    QString current;
    for (const QChar c : text) {
        current += c;
        if (c == ' ') {
            pieces.push_back(current);
            current.clear();
        }
    }
    if (!current.isEmpty()) pieces.push_back(current);
    return pieces;
}

}  // namespace

void TextSaliencyPainter::setContent(const std::string& text, const std::string& pair,
                                     const TokenLayout& tokens, std::vector<float> scores) {
    m_scores = std::move(scores);
    m_scores.resize(std::size_t(tokens.size()), 0.0f);
    m_runs.clear();
    m_tokenText.assign(std::size_t(tokens.size()), QString());
    const std::string* texts[2] = {&text, &pair};
    int segment = 0;
    int cursor = 0;  // next byte of the current segment not shown yet
    auto addText = [this](const std::string& bytes, int begin, int end, int token) {
        if (end <= begin) return;
        const QString piece = QString::fromUtf8(bytes.data() + begin, end - begin);
        // Line breaks in the text are line breaks in the figure.
        const QStringList lines = piece.split('\n');
        for (int i = 0; i < lines.size(); ++i) {
            if (i > 0) m_runs.push_back(Run{QString(), -1, false, true});
            if (!lines[i].isEmpty()) m_runs.push_back(Run{lines[i], token, false, false});
        }
    };
    for (int t = 0; t < tokens.size(); ++t) {
        const TokenInfo& token = tokens[t];
        const bool spanned = token.byteBegin >= 0 && token.byteEnd > token.byteBegin &&
                             token.segment >= 0 && token.segment < 2;
        if (!spanned) {
            m_runs.push_back(
                Run{QString::fromStdString(token.text.empty() ? token.label() : token.text), t,
                    true, false});
            m_tokenText[std::size_t(t)] = m_runs.back().text;
            continue;
        }
        if (token.segment != segment) {
            addText(*texts[segment], cursor, int(texts[segment]->size()), -1);
            segment = token.segment;
            cursor = 0;
            m_runs.push_back(Run{QString(), -1, false, true});
        }
        const std::string& bytes = *texts[segment];
        const int begin = std::clamp(token.byteBegin, 0, int(bytes.size()));
        const int end = std::clamp(token.byteEnd, 0, int(bytes.size()));
        addText(bytes, cursor, begin, -1);
        const int from =
            std::max(begin, cursor);  // byte-level BPE may split one character over two tokens
        addText(bytes, from, end, t);
        m_tokenText[std::size_t(t)] =
            QString::fromUtf8(bytes.data() + begin, std::max(0, end - begin));
        cursor = std::max(cursor, end);
    }
    addText(*texts[segment], cursor, int(texts[segment]->size()), -1);

    float low = 0.0f, high = 0.0f;
    for (const float s : m_scores) {
        if (!std::isfinite(s)) continue;
        low = std::min(low, s);
        high = std::max(high, s);
    }
    m_signed = low < 0.0f;
    m_maximum = std::max(double(std::max(-low, high)), 1e-12);
}

QColor TextSaliencyPainter::colorOf(float score) const {
    if (!std::isfinite(score)) return QColor(Qt::white);
    const double v = std::clamp(double(score) / m_maximum, -1.0, 1.0);
    // White to red (positive), white to blue (negative).
    const QColor end = v >= 0 ? QColor(214, 39, 40) : QColor(31, 119, 180);
    const double a = std::abs(v);
    return QColor::fromRgbF(float(1.0 + (end.redF() - 1.0) * a),
                            float(1.0 + (end.greenF() - 1.0) * a),
                            float(1.0 + (end.blueF() - 1.0) * a));
}

std::vector<TextSaliencyPainter::Box> TextSaliencyPainter::layoutBoxes(
    const QRectF& target, double* bottom, const QPaintDevice* device) const {
    std::vector<Box> boxes;
    const QFont font = textFont();
    const QFont small = chipFont();
    const QFontMetricsF metrics = device ? QFontMetricsF(font, device) : QFontMetricsF(font);
    const QFontMetricsF smallMetrics = device ? QFontMetricsF(small, device) : QFontMetricsF(small);
    const double left = target.left() + 4, right = target.right() - 4;
    double x = left, y = target.top() + kTitle;
    auto newLine = [&] {
        x = left;
        y += kLine;
    };
    for (const Run& run : m_runs) {
        if (run.lineBreak) {
            newLine();
            continue;
        }
        if (run.special) {
            const double w = smallMetrics.horizontalAdvance(run.text) + 8;
            if (x + w > right && x > left) newLine();
            boxes.push_back(Box{QRectF(x + 1, y + 3, w - 2, kLine - 6), run.text, run.token, true});
            x += w + 2;
            continue;
        }
        for (const QString& atom : atoms(run.text)) {
            const double w = metrics.horizontalAdvance(atom);
            if (x + w > right && x > left) newLine();
            boxes.push_back(Box{QRectF(x, y, w, kLine), atom, run.token, false});
            x += w;
        }
    }
    if (bottom) *bottom = y + kLine;
    return boxes;
}

QSizeF TextSaliencyPainter::preferredSize(double width) const {
    double bottom = 0;
    layoutBoxes(QRectF(0, 0, width, 1e6), &bottom);
    return {width, bottom + 8 + kBar};
}

QRectF TextSaliencyPainter::tokenRect(const QRectF& target, int token) const {
    for (const Box& box : layoutBoxes(target)) {
        if (box.token == token) return box.rect;
    }
    return {};
}

std::optional<int> TextSaliencyPainter::tokenAt(const QRectF& target, const QPointF& point) const {
    for (const Box& box : layoutBoxes(target)) {
        if (box.token >= 0 && box.rect.contains(point)) return box.token;
    }
    return std::nullopt;
}

void TextSaliencyPainter::paint(QPainter& painter, const QRectF& target) const {
    painter.save();
    painter.setFont(figureFont(13, true));
    painter.setPen(Qt::black);
    painter.drawText(QRectF(target.left() + 4, target.top(), target.width() - 8, kTitle - 4),
                     Qt::AlignLeft | Qt::AlignVCenter, m_title);
    const QFont font = textFont();
    const QFont small = chipFont();
    double bottom = 0;
    const std::vector<Box> boxes = layoutBoxes(target, &bottom, painter.device());
    for (const Box& box : boxes) {
        const QColor fill =
            box.token >= 0 ? colorOf(m_scores[std::size_t(box.token)]) : QColor(Qt::white);
        if (box.special) {
            painter.setPen(QPen(QColor(120, 120, 120), 0.8));
            painter.setBrush(fill);
            painter.drawRoundedRect(box.rect, 3, 3);
            painter.setFont(small);
            painter.setPen(fill.lightnessF() < 0.55 ? QColor(Qt::white) : QColor(70, 70, 70));
            painter.drawText(box.rect, Qt::AlignCenter, box.text);
            continue;
        }
        if (box.token >= 0) painter.fillRect(box.rect.adjusted(0, 2, 0, -2), fill);
        painter.setFont(font);
        // Dark backgrounds (strong scores) get white text.
        painter.setPen(fill.lightnessF() < 0.55 ? QColor(Qt::white) : QColor(Qt::black));
        painter.drawText(box.rect, Qt::AlignLeft | Qt::AlignVCenter, box.text);
    }
    // Colour bar: -max..max (signed) or 0..max.
    const QRectF bar(target.left() + 4, bottom + 10, std::min(260.0, target.width() - 8), 10);
    QLinearGradient gradient(bar.topLeft(), bar.topRight());
    const double low = m_signed ? -m_maximum : 0.0;
    for (int i = 0; i <= 16; ++i) {
        const double f = i / 16.0;
        gradient.setColorAt(f, colorOf(float(low + f * (m_maximum - low))));
    }
    painter.fillRect(bar, gradient);
    painter.setPen(QPen(Qt::black, 0.6));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(bar);
    const QFont label = figureFont(10);
    painter.setFont(label);
    const QFontMetricsF labelMetrics(label);
    painter.drawText(QPointF(bar.left(), bar.bottom() + labelMetrics.ascent() + 2),
                     QString::number(low, 'g', 3));
    const QString highText = QString::number(m_maximum, 'g', 3);
    painter.drawText(QPointF(bar.right() - labelMetrics.horizontalAdvance(highText),
                             bar.bottom() + labelMetrics.ascent() + 2),
                     highText);
    if (!m_caption.isEmpty()) {
        painter.drawText(QPointF(bar.right() + 10, bar.bottom()), m_caption);
    }
    painter.restore();
}

TextSaliencyView::TextSaliencyView(QWidget* parent) : QWidget(parent) {
    setFocusPolicy(Qt::ClickFocus);
    setMouseTracking(true);
    setMinimumSize(240, 120);
}

void TextSaliencyView::setPainter(const TextSaliencyPainter& painter) {
    m_painter = painter;
    m_placeholder.clear();
    m_hover = -1;
    update();
}

void TextSaliencyView::setPlaceholder(const QString& text) {
    m_placeholder = text;
    m_painter = TextSaliencyPainter{};
    update();
}

void TextSaliencyView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), Qt::white);
    if (!m_placeholder.isEmpty() || m_painter.tokens() == 0) {
        painter.setPen(QColor(110, 110, 110));
        painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
        return;
    }
    m_painter.paint(painter, figureRect());
    if (m_hover >= 0) {
        painter.setPen(QPen(Qt::black, 1.2));
        painter.setBrush(Qt::NoBrush);
        painter.drawRect(m_painter.tokenRect(figureRect(), m_hover));
    }
}

void TextSaliencyView::mouseMoveEvent(QMouseEvent* event) {
    const int token = m_painter.tokenAt(figureRect(), event->position()).value_or(-1);
    if (token == m_hover) return;
    m_hover = token;
    update();
    Q_EMIT tokenHovered(token, token >= 0 ? m_painter.score(token) : 0.0f);
}

}  // namespace fovea
