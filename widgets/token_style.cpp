#include "widgets/token_style.h"

#include "core/image/colormap.h"
#include "core/util/error.h"

#include <QLinearGradient>

#include <algorithm>
#include <cmath>

namespace fovea {

QString tokenLabel(const TokenInfo& token) {
    QString text = QString::fromStdString(token.text.empty() ? token.label() : token.text);
    text.replace('\n', QChar(0x21B5)).replace('\t', QChar(0x21E5)).replace('\r', QString());
    int lead = 0;
    while (lead < text.size() && text[lead] == ' ') ++lead;
    int trail = 0;
    while (trail < text.size() - lead && text[text.size() - 1 - trail] == ' ') ++trail;
    if (lead > 0) text.replace(0, lead, QString(lead, QChar(0x00B7)));
    if (trail > 0) text.replace(text.size() - trail, trail, QString(trail, QChar(0x00B7)));
    return text.isEmpty() ? QStringLiteral("\u2205") : text;
}

std::vector<QString> tokenLabels(const TokenLayout& tokens) {
    std::vector<QString> labels;
    labels.reserve(std::size_t(tokens.size()));
    for (const TokenInfo& token : tokens.tokens()) labels.push_back(tokenLabel(token));
    return labels;
}

QFont figureFont(double size, bool bold) {
    QFont font;
    font.setPixelSize(std::max(1, int(std::lround(size))));
    font.setBold(bold);
    return font;
}

QColor headColor(int head) {
    // Well-separated hues that stay readable as thin lines on white.
    static const QRgb palette[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b,
                                   0xe377c2, 0x17becf, 0xbcbd22, 0x393b79, 0xad494a, 0x637939};
    constexpr int count = int(sizeof palette / sizeof palette[0]);
    return QColor::fromRgb(palette[((head % count) + count) % count]);
}

QVector<QRgb> colormapTable(const std::string& name) {
    QVector<QRgb> table(256);
    for (int i = 0; i < 256; ++i) {
        const cv::Vec3b rgb = colormapColor(name, i);
        table[i] = qRgb(rgb[0], rgb[1], rgb[2]);
    }
    return table;
}

void drawColorBar(QPainter& painter, const QRectF& bar, const QVector<QRgb>& table, double low,
                  double high, const QString& caption) {
    painter.save();
    QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
    for (int i = 0; i < table.size(); i += 15)
        gradient.setColorAt(double(i) / double(table.size() - 1), QColor(table[i]));
    gradient.setColorAt(1.0, QColor(table.back()));
    painter.fillRect(bar, gradient);
    painter.setPen(QPen(Qt::black, 0.6));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(bar);
    const QFont font = figureFont(10);
    painter.setFont(font);
    const QFontMetricsF metrics(font);
    painter.drawText(QPointF(bar.right() + 3, bar.top() + metrics.ascent()),
                     QString::number(high, 'g', 3));
    painter.drawText(QPointF(bar.right() + 3, bar.bottom()), QString::number(low, 'g', 3));
    if (!caption.isEmpty()) {
        painter.translate(bar.right() + 3 + metrics.ascent(), bar.center().y());
        painter.rotate(-90);
        painter.drawText(QRectF(-bar.height() / 2, 0, bar.height(), metrics.height()),
                         Qt::AlignCenter, caption);
    }
    painter.restore();
}

std::vector<int> selectedSlots(const AttentionLayer& layer, const std::vector<int>& heads) {
    std::vector<int> slots;
    for (int slot = 0; slot < int(layer.heads.size()); ++slot) {
        if (heads.empty() ||
            std::find(heads.begin(), heads.end(), layer.heads[std::size_t(slot)]) != heads.end()) {
            slots.push_back(slot);
        }
    }
    return slots;
}

TokenMatrix tokenMatrix(const AttentionStack& stack, int layer, const std::vector<int>& heads) {
    const AttentionLayer& captured = stack.layer(layer);
    const std::vector<int> slots = selectedSlots(captured, heads);
    if (slots.empty())
        throw Error("token matrix",
                    "none of the chosen heads was captured in layer " + std::to_string(layer));
    TokenMatrix m;
    m.tokens = captured.tokens;
    const std::size_t n = std::size_t(m.tokens) * std::size_t(m.tokens);
    m.values.assign(n, 0.0f);
    for (const int slot : slots) {
        const std::vector<float> one = captured.matrix(slot);
        for (std::size_t i = 0; i < n; ++i) m.values[i] += one[i];
    }
    const float scale = 1.0f / float(slots.size());
    m.mask.assign(n, 0);
    for (int q = 0; q < m.tokens; ++q) {
        for (int k = 0; k < m.tokens; ++k) {
            const std::size_t i = std::size_t(q) * std::size_t(m.tokens) + std::size_t(k);
            m.values[i] *= scale;
            if (stack.isMasked(q, k)) {
                m.mask[i] = 1;
            } else {
                m.maximum = std::max(m.maximum, m.values[i]);
            }
        }
    }
    return m;
}

}  // namespace fovea
