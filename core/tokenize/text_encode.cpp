#include "core/tokenize/text_encode.h"

#include "core/util/error.h"

#include <utility>

namespace fovea {

TextInput encodeTypedText(const Tokenizer& tokenizer, const TypedText& typed,
                          const ModelSpec& spec) {
    if (!tokenizer) throw Error("text input", "no tokenizer is loaded");
    if (typed.text.empty() && typed.textPair.empty())
        throw Error("text input", "the text is empty");
    EncodeOptions options;
    options.maxLength = spec.contextLength > 0 ? spec.contextLength : tokenizer.maxLength();
    options.truncate = typed.overflow == ContextOverflow::Truncate;
    const Encoding encoding = typed.textPair.empty()
                                  ? tokenizer.encode(typed.text, options)
                                  : tokenizer.encodePair(typed.text, typed.textPair, options);
    if (encoding.size() == 0) throw Error("text input", "the text gives no tokens");

    TextInput input;
    input.ids = encoding.ids();
    input.tokenTypes = encoding.typeIds();
    bool anyType = false;
    for (const std::int64_t type : input.tokenTypes) anyType = anyType || type != 0;
    if (!anyType) input.tokenTypes.clear();  // models without segments (GPT-2, CLIP) get none
    input.tokens = tokenLayoutFor(encoding);
    input.text = encoding.text;
    input.source = "typed text";
    if (encoding.truncated) input.notices.push_back(encoding.truncationNotice());
    // Checks the ids against the model's vocabulary (a tokenizer of another model gives ids the
    // model does not have) and the context once more.
    std::vector<std::string> notices = std::move(input.notices);
    input.notices.clear();
    fitTextInput(input, spec, typed.overflow);
    notices.insert(notices.end(), input.notices.begin(), input.notices.end());
    input.notices = std::move(notices);
    return input;
}

}  // namespace fovea
