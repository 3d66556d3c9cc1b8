// Pre-tokenisation: splitting (normalised) text into the words a tokenizer model sees, as byte
// ranges. Hand-written scanners with the exact semantics of each family's regular expression, so
// no regex engine with Unicode classes is needed. Internal to core/tokenize.
//
//     splitGpt2Words("Hello  world!")  // "Hello", " ", " world", "!"
//     splitClipWords("a photo's 42")   // "a", "photo", "'s", "4", "2"
//     splitBertWords("Hi, 你好", true) // "Hi", ",", "你", "好"
#pragma once

#include <string_view>
#include <vector>

namespace fovea {

struct WordSpan {
    int begin = 0;  // byte range in the scanned text
    int end = 0;
};

// GPT-2 (Radford et al. 2019, openai/gpt-2 encoder.py), as Python's `regex` module reads
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// The words tile the text. `text` must be valid UTF-8.
std::vector<WordSpan> splitGpt2Words(std::string_view text);

// CLIP (openai/CLIP simple_tokenizer.py), on lower-cased text, findall of
//   <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// (the two special tokens are split off before, as added tokens). Whitespace is dropped.
std::vector<WordSpan> splitClipWords(std::string_view text);

// BERT's BasicTokenizer after cleaning: split on whitespace, every punctuation character a word
// of its own, and (splitCjk) every CJK ideograph too.
std::vector<WordSpan> splitBertWords(std::string_view text, bool splitCjk);

}  // namespace fovea
