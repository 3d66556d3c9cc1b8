// Typed text -> a TextInput a language model runs on: the model folder's tokenizer splits it
// (every token keeps its byte span, so views can show the text as typed), and the sequence is
// fitted to the model's context: cut with a notice, or refused with an error, never silently.
//
//     Tokenizer tokenizer = loadTokenizer("models/gpt2");
//     TypedText typed{"The cat sat on the mat.", "", ContextOverflow::Truncate};
//     TextInput input = encodeTypedText(tokenizer, typed, model->spec());
//     for (const std::string& notice : input.notices) warn(notice);   // "text truncated to ..."
//     ModelOutputs out = model->runText(input, CaptureRequest{});
#pragma once

#include "core/model/model_spec.h"
#include "core/model/text_input.h"
#include "core/tokenize/tokenizer.h"

#include <string>

namespace fovea {

struct TypedText {
    std::string text;
    std::string textPair;  // BERT's second sentence; "" for a single text
    ContextOverflow overflow = ContextOverflow::Truncate;
};

// textInputFromText (core/tokenize/tokenizer.h) with the subject "typed text", then fitTextInput.
// The limit is the smaller of the model's context (CLIP: its text tower's) and the tokenizer's.
// Throws fovea::Error for empty text, text over the limit under ContextOverflow::Refuse ("text is
// N tokens, more than the model's context of M"), and token ids the model's vocabulary does not
// have (a tokenizer that does not belong to the model).
TextInput encodeTypedText(const Tokenizer& tokenizer, const TypedText& typed,
                          const ModelSpec& spec);

}  // namespace fovea
