#include "core/tokenize/text_encode.h"

#include "core/util/error.h"

#include <utility>

namespace fovea {

TextInput encodeTypedText(const Tokenizer& tokenizer, const TypedText& typed, const ModelSpec& spec) {
    if (!tokenizer) throw Error("text input", "no tokenizer is loaded");
    // The same path as `fovea run --text`: spans, the context limit, the notice or the refusal.
    TextInput input = textInputFromText(tokenizer, typed.text, typed.textPair, spec, typed.overflow, "typed text");
    if (input.ids.empty()) throw Error("typed text", "the text gives no tokens");
    // Checks the ids against the model's vocabulary (a tokenizer of another model gives ids the
    // model does not have) and the context once more; keeps the tokenizer's notice first.
    std::vector<std::string> notices = std::move(input.notices);
    input.notices.clear();
    fitTextInput(input, spec, typed.overflow);
    notices.insert(notices.end(), input.notices.begin(), input.notices.end());
    input.notices = std::move(notices);
    return input;
}

}  // namespace fovea
