// What the token views (head view, token matrix, text saliency, token atlas) share: how a token
// reads as a label, one colour per head, colour tables, the grey of masked entries, a colour bar,
// and one layer's attention as float matrices (the mean of chosen heads, the mask).
//
//     QString label = tokenLabel(stack.tokens[5]);           // " cat" -> "·cat", "\n" -> "↵"
//     QColor c = headColor(3);
//     TokenMatrix m = tokenMatrix(stack, /*layer*/ 1, {0, 2});  // mean of heads 0 and 2
#pragma once

#include "core/model/attention_stack.h"

#include <QColor>
#include <QFont>
#include <QPainter>
#include <QRectF>
#include <QString>
#include <QVector>

#include <cstdint>
#include <vector>

namespace fovea {

// The token as a short label: its text with spaces at the ends shown as "·" and line breaks as
// "↵"; special tokens as spelled ([CLS], <|endoftext|>).
QString tokenLabel(const TokenInfo& token);
std::vector<QString> tokenLabels(const TokenLayout& tokens);

// A font sized in the painter's logical units (pixels on screen, points in a figure), so the
// same layout holds on every device.
QFont figureFont(double size, bool bold = false);

// A qualitative colour per head (repeats after 12).
QColor headColor(int head);
// 256 opaque colours of a colormap (core/image/colormap.h).
QVector<QRgb> colormapTable(const std::string& name);
// Masked pairs (causal future, padding keys): grey, distinct from the colour of zero.
constexpr QRgb kMaskedRgb = 0xFFB4B4B4;

// A vertical colour bar with its low and high values written beside it.
void drawColorBar(QPainter& painter, const QRectF& bar, const QVector<QRgb>& table, double low,
                  double high, const QString& caption = {});

struct TokenMatrix {
    int tokens = 0;
    std::vector<float> values;       // [query, key] row-major
    std::vector<std::uint8_t> mask;  // 1 where the model never let the query see the key
    float maximum = 0.0f;            // over the unmasked entries
};

// Attention of `layer` (model index) averaged over `heads` (model indices that were captured;
// empty: every captured head). Throws fovea::Error for a layer or head that was not captured.
TokenMatrix tokenMatrix(const AttentionStack& stack, int layer, const std::vector<int>& heads);
// The captured heads of `layer` that `heads` selects (empty: all), in slot order.
std::vector<int> selectedSlots(const AttentionLayer& layer, const std::vector<int>& heads);

}  // namespace fovea
