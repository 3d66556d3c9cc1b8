// The token-matrix case of `fovea bench gui`: the token x token view at GPT-2's 1,024 tokens.
#pragma once

#include <QString>

namespace fovea::cli {

// Repaints the matrix view (random causal attention over `tokens` tokens) `repaints` times with
// zoom, pan and hover changes between them, and prints p50 / p95 against the 33 ms goal and a
// bare QPainter drawImage of the same size as the reference. Needs a QApplication.
// `screenshot`: a PNG of the whole matrix as first painted ("" for none).
void runTokenMatrixBench(int tokens, int repaints, const QString& screenshot = {});

}  // namespace fovea::cli
