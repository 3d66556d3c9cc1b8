// Tokenizers on hand-made vocabularies (tests/data/tokenizers, written by make_tiny_tokenizers.py)
// whose correct tokenisation is derived by hand in the comments: the pre-tokenisation patterns,
// WordPiece, byte-level BPE and CLIP BPE, byte spans, special tokens, pairs and truncation.
#include "core/tokenize/pre_tokenize.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/error.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace fovea {
namespace {

const std::string kData = std::string(FOVEA_TEST_DATA_DIR) + "/tokenizers/";

std::vector<std::string> piecesOf(const Encoding& encoding) {
    std::vector<std::string> pieces;
    for (const auto& token : encoding.tokens) pieces.push_back(token.piece);
    return pieces;
}

std::vector<std::pair<int, int>> spansOf(const Encoding& encoding) {
    std::vector<std::pair<int, int>> spans;
    for (const auto& token : encoding.tokens) spans.emplace_back(token.byteBegin, token.byteEnd);
    return spans;
}

std::vector<std::string> wordsOf(std::string_view text, const std::vector<WordSpan>& spans) {
    std::vector<std::string> words;
    for (const WordSpan& span : spans) {
        words.emplace_back(text.substr(std::size_t(span.begin), std::size_t(span.end - span.begin)));
    }
    return words;
}

using Strings = std::vector<std::string>;
using Spans = std::vector<std::pair<int, int>>;

// ---- pre-tokenisation ----

TEST(PreTokenize, Gpt2PatternKeepsTheSpaceWithTheNextWordAndSplitsContractions) {
    // ' ?\p{L}+' takes the space before a word; "'s" is a contraction; a run of two spaces
    // before a word leaves its last space to the word (\s+(?!\S) backtracks); "!" is ' ?[^\s\p{L}\p{N}]+'.
    const std::string text = "He's  here, 42x!";
    EXPECT_EQ(wordsOf(text, splitGpt2Words(text)), (Strings{"He", "'s", " ", " here", ",", " 42", "x", "!"}));
    // A newline before a word is not the optional space: it stays alone (\s+), and "\n\n" at the
    // end is one run (\s+(?!\S) reaches the end).
    const std::string lines = "a\nb\n\n";
    EXPECT_EQ(wordsOf(lines, splitGpt2Words(lines)), (Strings{"a", "\n", "b", "\n\n"}));
    // Two newlines before a word: \s+(?!\S) takes the first, \s+ the second.
    const std::string two = "\n\nb";
    EXPECT_EQ(wordsOf(two, splitGpt2Words(two)), (Strings{"\n", "\n", "b"}));
    // "'S" is not a contraction (case-sensitive): "'" is other, "S" a letter.
    EXPECT_EQ(wordsOf("I'S", splitGpt2Words("I'S")), (Strings{"I", "'", "S"}));
    EXPECT_TRUE(splitGpt2Words("").empty());
}

TEST(PreTokenize, Gpt2PatternUsesUnicodeClasses) {
    // é and 日本 are letters (\p{L}), ² (U+00B2) is a number (No), 😀 is other (So).
    const std::string text = "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC x\xC2\xB2 \xF0\x9F\x98\x80";
    EXPECT_EQ(wordsOf(text, splitGpt2Words(text)),
              (Strings{"caf\xC3\xA9", " \xE6\x97\xA5\xE6\x9C\xAC", " x", "\xC2\xB2", " \xF0\x9F\x98\x80"}));
}

TEST(PreTokenize, ClipPatternDropsWhitespaceAndSplitsDigits) {
    // [\p{N}] takes one digit at a time; whitespace is skipped; "'s" is a contraction.
    const std::string text = "a photo's  42!?";
    EXPECT_EQ(wordsOf(text, splitClipWords(text)), (Strings{"a", "photo", "'s", "4", "2", "!?"}));
}

TEST(PreTokenize, BertSplitsPunctuationAndCjkCharacters) {
    // Every punctuation character and every CJK ideograph is a word; ASCII "$" is punctuation
    // for BERT (33-47, 58-64, 91-96, 123-126) though Unicode calls it Sc.
    const std::string text = "Hi,$5 \xE4\xBD\xA0\xE5\xA5\xBDok";
    EXPECT_EQ(wordsOf(text, splitBertWords(text, true)),
              (Strings{"Hi", ",", "$", "5", "\xE4\xBD\xA0", "\xE5\xA5\xBD", "ok"}));
    EXPECT_EQ(wordsOf(text, splitBertWords(text, false)), (Strings{"Hi", ",", "$", "5", "\xE4\xBD\xA0\xE5\xA5\xBDok"}));
}

// ---- WordPiece (BERT), bert-tiny-vocab: lower-casing and accent stripping on ----

class WordPieceTest : public ::testing::Test {
protected:
    Tokenizer tokenizer = loadTokenizer(kData + "bert-tiny-vocab");
};

TEST_F(WordPieceTest, SplitsPunctuationAndAddsClsSep) {
    // "Hello, World!" -> lower "hello, world!" -> words hello [0,5) , [5,6) world [7,12) ! [12,13).
    const Encoding encoding = tokenizer.encode("Hello, World!");
    EXPECT_EQ(piecesOf(encoding), (Strings{"[CLS]", "hello", ",", "world", "!", "[SEP]"}));
    EXPECT_EQ(encoding.ids(), (std::vector<int64_t>{2, 9, 11, 10, 12, 3}));  // line numbers in vocab.txt
    EXPECT_EQ(spansOf(encoding), (Spans{{-1, -1}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {-1, -1}}));
    EXPECT_TRUE(encoding.tokens.front().special);
    EXPECT_FALSE(encoding.tokens[1].special);
    EXPECT_EQ(encoding.originalText(3), "World");  // as typed, not as normalised
}

TEST_F(WordPieceTest, GreedyLongestMatchWithContinuations) {
    // "unaffable": the longest vocabulary prefix is "un"; of "affable" the longest "##" entry is
    // "##aff"; then "##able". Spans tile the word: [0,2) [2,5) [5,9).
    const Encoding encoding = tokenizer.encode("unaffable");
    EXPECT_EQ(piecesOf(encoding), (Strings{"[CLS]", "un", "##aff", "##able", "[SEP]"}));
    EXPECT_EQ(spansOf(encoding), (Spans{{-1, -1}, {0, 2}, {2, 5}, {5, 9}, {-1, -1}}));
    EXPECT_EQ(encoding.tokens[2].display, "aff");
}

TEST_F(WordPieceTest, LowerCasesAndStripsAccentsButSpansCoverTheTypedBytes) {
    // "Café" (é = C3 A9) is bytes [0,5) -> "cafe"; "naïve" [6,12) -> "naive"; "ΟΔΟΣ" (2 bytes a
    // letter) [13,21) -> "οδος" with a final sigma ς, because Σ ends the word.
    const std::string text = "Caf\xC3\xA9 na\xC3\xAFve \xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3";
    const Encoding encoding = tokenizer.encode(text);
    EXPECT_EQ(piecesOf(encoding), (Strings{"[CLS]", "cafe", "naive", "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82", "[SEP]"}));
    EXPECT_EQ(spansOf(encoding), (Spans{{-1, -1}, {0, 5}, {6, 12}, {13, 21}, {-1, -1}}));
    EXPECT_EQ(encoding.originalText(1), "Caf\xC3\xA9");
}

TEST_F(WordPieceTest, DroppedCombiningAccentBelongsToTheLetterBeforeIt) {
    // "Cafe" + U+0301 (CC 81): the accent is stripped, and its bytes join the "e" before it, so
    // the token "cafe" covers all 6 bytes.
    const Encoding encoding = tokenizer.encode("Cafe\xCC\x81");
    EXPECT_EQ(piecesOf(encoding), (Strings{"[CLS]", "cafe", "[SEP]"}));
    EXPECT_EQ(encoding.tokens[1].byteBegin, 0);
    EXPECT_EQ(encoding.tokens[1].byteEnd, 6);
}

TEST_F(WordPieceTest, CjkCharactersAreWordsAndEmojiIsUnknown) {
    // 你 [0,3) 好 [3,6) are single words even without spaces; "world" [6,11).
    const Encoding cjk = tokenizer.encode("\xE4\xBD\xA0\xE5\xA5\xBDworld");
    EXPECT_EQ(piecesOf(cjk), (Strings{"[CLS]", "\xE4\xBD\xA0", "\xE5\xA5\xBD", "world", "[SEP]"}));
    EXPECT_EQ(spansOf(cjk), (Spans{{-1, -1}, {0, 3}, {3, 6}, {6, 11}, {-1, -1}}));
    // 😀 (4 bytes at 6) is a word (So is not punctuation) that no entry matches: [UNK], kept as
    // TEXT with the emoji's span (it stands for what was typed).
    const Encoding emoji = tokenizer.encode("hello \xF0\x9F\x98\x80");
    EXPECT_EQ(piecesOf(emoji), (Strings{"[CLS]", "hello", "[UNK]", "[SEP]"}));
    EXPECT_EQ(emoji.tokens[2].byteBegin, 6);
    EXPECT_EQ(emoji.tokens[2].byteEnd, 10);
    EXPECT_FALSE(emoji.tokens[2].special);
}

TEST_F(WordPieceTest, WhitespaceRunsAndControlCharacters) {
    // Bytes: 0-1 spaces, "hello" 2-6, space tab newline space 7-10, "world" 11-15, 2 spaces.
    const Encoding runs = tokenizer.encode("  hello \t\n world  ");
    EXPECT_EQ(piecesOf(runs), (Strings{"[CLS]", "hello", "world", "[SEP]"}));
    EXPECT_EQ(spansOf(runs), (Spans{{-1, -1}, {2, 7}, {11, 16}, {-1, -1}}));
    // \x01 is a control character: removed, so "hel\x01lo" is the word "hello" over all 6 bytes.
    const Encoding control = tokenizer.encode("hel\x01lo");
    EXPECT_EQ(piecesOf(control), (Strings{"[CLS]", "hello", "[SEP]"}));
    EXPECT_EQ(spansOf(control)[1], (std::pair<int, int>{0, 6}));
}

TEST_F(WordPieceTest, EmptyTextGivesOnlyTheSpecialTokens) {
    const Encoding encoding = tokenizer.encode("");
    EXPECT_EQ(piecesOf(encoding), (Strings{"[CLS]", "[SEP]"}));
    EXPECT_FALSE(encoding.truncated);
    EXPECT_EQ(tokenizer.encode("   \n\t").size(), 2);
    EXPECT_EQ(tokenizer.encode("", {0, true, false}).size(), 0);
}

TEST_F(WordPieceTest, UnknownWordsAreOneUnknownTokenWhole) {
    // "xyz": "x" is in the vocabulary but neither "##yz" nor "##y" is, so the whole word is
    // [UNK] (not "x" + [UNK]).
    const Encoding encoding = tokenizer.encode("xyz");
    EXPECT_EQ(piecesOf(encoding), (Strings{"[CLS]", "[UNK]", "[SEP]"}));
    EXPECT_EQ(spansOf(encoding)[1], (std::pair<int, int>{0, 3}));
    // max_input_chars_per_word is 100: "a" + 99 "b" is a + 99 x ##b; one more "b" is [UNK].
    const Encoding hundred = tokenizer.encode("a" + std::string(99, 'b'), {1000, true, false});
    ASSERT_EQ(hundred.size(), 100);
    EXPECT_EQ(hundred.tokens[0].piece, "a");
    EXPECT_EQ(hundred.tokens[99].piece, "##b");
    EXPECT_EQ(piecesOf(tokenizer.encode("a" + std::string(100, 'b'), {0, true, false})), (Strings{"[UNK]"}));
}

TEST_F(WordPieceTest, SpecialTokensTypedInTheTextAreKept) {
    // "[MASK]" is matched in the raw text before lower-casing: the [4,10) span, SPECIAL.
    const Encoding encoding = tokenizer.encode("the [MASK]!");
    EXPECT_EQ(piecesOf(encoding), (Strings{"[CLS]", "the", "[MASK]", "!", "[SEP]"}));
    EXPECT_EQ(encoding.ids(), (std::vector<int64_t>{2, 5, 4, 12, 3}));
    EXPECT_TRUE(encoding.tokens[2].special);
    EXPECT_EQ(spansOf(encoding)[2], (std::pair<int, int>{4, 10}));
    EXPECT_EQ(tokenizer.specialTokens().maskId, 4);
    // Apostrophes are punctuation: don ' t.
    EXPECT_EQ(piecesOf(tokenizer.encode("don't", {0, true, false})), (Strings{"don", "'", "t"}));
}

TEST_F(WordPieceTest, SentencePairsGetTypeIdsAndSegments) {
    const Encoding pair = tokenizer.encodePair("Hello", "the world");
    EXPECT_EQ(piecesOf(pair), (Strings{"[CLS]", "hello", "[SEP]", "the", "world", "[SEP]"}));
    EXPECT_EQ(pair.typeIds(), (std::vector<int64_t>{0, 0, 0, 1, 1, 1}));
    EXPECT_EQ(pair.tokens[3].segment, 1);
    EXPECT_EQ(spansOf(pair)[4], (std::pair<int, int>{4, 9}));  // "world" in the second text
    EXPECT_EQ(pair.originalText(4), "world");
    EXPECT_EQ(pair.originalText(1), "Hello");
    EXPECT_EQ(pair.attentionMask(), std::vector<int64_t>(6, 1));
}

TEST_F(WordPieceTest, DecodeJoinsContinuationsAndCleansSpaces) {
    const std::vector<int64_t> ids{2, 6, 7, 8, 12, 3};  // [CLS] un ##aff ##able ! [SEP]
    EXPECT_EQ(tokenizer.decode(ids, true), "unaffable!");
    EXPECT_EQ(tokenizer.decode(ids), "[CLS] unaffable! [SEP]");
    EXPECT_THROW(tokenizer.decode({2, 999}), Error);
}

TEST_F(WordPieceTest, SizesAndLookups) {
    EXPECT_EQ(tokenizer.family(), TokenizerFamily::WordPiece);
    EXPECT_EQ(tokenizer.vocabularySize(), 30);
    EXPECT_EQ(tokenizer.tokenToId("##able"), 8);
    EXPECT_EQ(tokenizer.idToToken(8), "##able");
    EXPECT_EQ(tokenizer.tokenToId("nope"), -1);
    EXPECT_EQ(tokenizer.maxLength(), 32);  // config.json max_position_embeddings
    EXPECT_TRUE(tokenizer.isSpecialId(2));
    EXPECT_FALSE(tokenizer.isSpecialId(5));
    EXPECT_NE(tokenizer.describe().find("WordPiece"), std::string::npos);
}

// ---- byte-level BPE (GPT-2), gpt2-tiny-vocab ----

class BytePairTest : public ::testing::Test {
protected:
    Tokenizer tokenizer = loadTokenizer(kData + "gpt2-tiny-vocab");
};

TEST_F(BytePairTest, ByteAlphabetHasGpt2sIds) {
    // The first 256 ids are GPT-2's own: printable bytes from "!" = 0 in byte order, then the
    // 68 others from 188 (byte 0); "Ġ" (space, byte 32) is 220 and "Ċ" (newline) 198 in the
    // published GPT-2 vocabulary too.
    EXPECT_EQ(tokenizer.tokenToId("!"), 0);
    EXPECT_EQ(tokenizer.tokenToId("\xC4\xA0"), 220);  // Ġ
    EXPECT_EQ(tokenizer.tokenToId("\xC4\x8A"), 198);  // Ċ
    EXPECT_EQ(tokenizer.vocabularySize(), 256 + 19 + 1);
    EXPECT_EQ(tokenizer.specialTokens().eos, "<|endoftext|>");
    EXPECT_EQ(tokenizer.maxLength(), 64);  // config.json n_positions
}

TEST_F(BytePairTest, MergesByRank) {
    // "Hello": H e l l o; the only ranked pair is (l,l) #3 -> H e ll o; (e,ll) #4 -> H ell o;
    // (H,ell) #5; (Hell,o) #6 -> "Hello". " world": Ġ w o r l d; (Ġ,w) #7 beats (o,r) #8 ->
    // Ġw o r l d; (o,r) -> Ġw or l d; (Ġw,or) #9; (Ġwor,l) #10; (Ġworl,d) #11 -> "Ġworld".
    const Encoding encoding = tokenizer.encode("Hello world");
    EXPECT_EQ(piecesOf(encoding), (Strings{"Hello", "\xC4\xA0world"}));
    EXPECT_EQ(spansOf(encoding), (Spans{{0, 5}, {5, 11}}));
    EXPECT_EQ(encoding.tokens[1].display, " world");
    // "abc": (b,c) is merge #17 and (a,b) #18, so the lower rank wins although it is on the
    // right: "a" + "bc", not "ab" + "c".
    EXPECT_EQ(piecesOf(tokenizer.encode("abc")), (Strings{"a", "bc"}));
    // " 12345": one word Ġ 1 2 3 4 5; only (1,2) #15 applies.
    EXPECT_EQ(piecesOf(tokenizer.encode(" 12345")), (Strings{"\xC4\xA0", "12", "3", "4", "5"}));
    // "it's": "it" and the contraction "'s", merged by (',s) #14.
    EXPECT_EQ(piecesOf(tokenizer.encode("it's")), (Strings{"i", "t", "'s"}));
}

TEST_F(BytePairTest, WhitespaceRuns) {
    // "Hello  world": the run of two spaces before "world" gives its last space to the word:
    // "Hello" [0,5), " " [5,6), " world" [6,12).
    const Encoding two = tokenizer.encode("Hello  world");
    EXPECT_EQ(piecesOf(two), (Strings{"Hello", "\xC4\xA0", "\xC4\xA0world"}));
    EXPECT_EQ(spansOf(two), (Spans{{0, 5}, {5, 6}, {6, 12}}));
    // Three trailing spaces are one word Ġ Ġ Ġ; (Ġ,Ġ) merges left to right: ĠĠ + Ġ.
    const Encoding trailing = tokenizer.encode("Hello world   ");
    EXPECT_EQ(piecesOf(trailing), (Strings{"Hello", "\xC4\xA0world", "\xC4\xA0\xC4\xA0", "\xC4\xA0"}));
    EXPECT_EQ(spansOf(trailing), (Spans{{0, 5}, {5, 11}, {11, 13}, {13, 14}}));
    // "\n\nHello\n\n": the leading newlines are two words (see PreTokenize), so (Ċ,Ċ) cannot
    // merge them; the trailing two are one word: Ċ Ċ Hello ĊĊ.
    const Encoding lines = tokenizer.encode("\n\nHello\n\n");
    EXPECT_EQ(piecesOf(lines), (Strings{"\xC4\x8A", "\xC4\x8A", "Hello", "\xC4\x8A\xC4\x8A"}));
    EXPECT_EQ(spansOf(lines), (Spans{{0, 1}, {1, 2}, {2, 7}, {7, 9}}));
}

TEST_F(BytePairTest, EmojiBytesSplitAcrossTokens) {
    // 😀 = F0 9F 98 80 -> characters ð Ł ĺ Ģ; (ð,Ł) is merge #13: "ðŁ" [0,2), "ĺ" [2,3),
    // "Ģ" [3,4). No token is a whole character, so displays show the bytes.
    const Encoding encoding = tokenizer.encode("\xF0\x9F\x98\x80");
    EXPECT_EQ(piecesOf(encoding), (Strings{"\xC3\xB0\xC5\x81", "\xC4\xBA", "\xC4\xA2"}));
    EXPECT_EQ(spansOf(encoding), (Spans{{0, 2}, {2, 3}, {3, 4}}));
    EXPECT_EQ(encoding.tokens[0].display, "\\xF0\\x9F");
    EXPECT_EQ(tokenizer.decode(encoding.ids()), "\xF0\x9F\x98\x80");
    // A token that is a whole character shows it: "é" alone is Ã + © (C3 A9), no merge.
    const Encoding accent = tokenizer.encode("\xC3\xA9");
    EXPECT_EQ(accent.size(), 2);
    EXPECT_EQ(accent.tokens[0].display, "\\xC3");
}

TEST_F(BytePairTest, EndOfTextInTheTextAndNoSpecialsAdded) {
    const Encoding encoding = tokenizer.encode("<|endoftext|>Hello");
    EXPECT_EQ(piecesOf(encoding), (Strings{"<|endoftext|>", "Hello"}));
    EXPECT_TRUE(encoding.tokens[0].special);
    EXPECT_EQ(spansOf(encoding), (Spans{{0, 13}, {13, 18}}));
    EXPECT_EQ(tokenizer.encode("").size(), 0);  // GPT-2 adds no special tokens
    EXPECT_EQ(tokenizer.decode(encoding.ids(), true), "Hello");
}

TEST_F(BytePairTest, InvalidUtf8IsRefused) {
    try {
        tokenizer.encode("ab\xFF");
        FAIL() << "no error";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("invalid UTF-8 at byte 2"), std::string::npos) << error.what();
    }
}

// ---- CLIP BPE, clip-tiny-vocab ----

class ClipTest : public ::testing::Test {
protected:
    Tokenizer tokenizer = loadTokenizer(kData + "clip-tiny-vocab");
};

TEST_F(ClipTest, LowerCasesMarksWordEndsAndAddsStartEnd) {
    // "Hello World!" -> "hello world!" -> hello [0,5) world [6,11) ! [11,12). "hello":
    // h e l l o</w>; (h,e) #0; (l,l) #1; (he,ll) #2; (hell,o</w>) #3. "world": (o,r) #4,
    // (w,or) #5, (wor,l) #6, (worl,d</w>) #7. "!" is the single symbol "!</w>".
    const Encoding encoding = tokenizer.encode("Hello World!");
    EXPECT_EQ(piecesOf(encoding), (Strings{"<|startoftext|>", "hello</w>", "world</w>", "!</w>", "<|endoftext|>"}));
    EXPECT_EQ(spansOf(encoding), (Spans{{-1, -1}, {0, 5}, {6, 11}, {11, 12}, {-1, -1}}));
    EXPECT_EQ(encoding.tokens[1].display, "hello");
    EXPECT_EQ(encoding.ids().front(), 512 + 15);      // after 2 x 256 byte tokens and 15 merges
    EXPECT_EQ(encoding.ids().back(), 512 + 15 + 1);
    EXPECT_EQ(tokenizer.decode(encoding.ids(), true), "hello world !");
}

TEST_F(ClipTest, DigitsOneAtATimeAndContractions) {
    // a [0,1) photo [2,7) 's [7,9) 4 [10,11) 2 [11,12). "photo": (p,h) #8, (o,t) #9, (ph,ot)
    // #10, (phot,o</w>) #11; "'s" = ' s</w> merged by #12.
    const Encoding encoding = tokenizer.encode("a photo's 42", {0, true, false});
    EXPECT_EQ(piecesOf(encoding), (Strings{"a</w>", "photo</w>", "'s</w>", "4</w>", "2</w>"}));
    EXPECT_EQ(spansOf(encoding), (Spans{{0, 1}, {2, 7}, {7, 9}, {10, 11}, {11, 12}}));
}

TEST_F(ClipTest, AccentsKeepExactByteSpansUnlessComposed) {
    // "café": c a f Ã ©</w> (é = C3 A9); (c,a) #13, (ca,f) #14 -> caf [0,3), Ã [3,4), ©</w> [4,5).
    const Encoding composed = tokenizer.encode("caf\xC3\xA9", {0, true, false});
    EXPECT_EQ(piecesOf(composed), (Strings{"caf", "\xC3\x83", "\xC2\xA9</w>"}));
    EXPECT_EQ(spansOf(composed), (Spans{{0, 3}, {3, 4}, {4, 5}}));
    // "cafe" + U+0301: NFC composes e + accent into é, which comes from bytes [3,6) as a whole.
    const Encoding decomposed = tokenizer.encode("cafe\xCC\x81", {0, true, false});
    EXPECT_EQ(piecesOf(decomposed), piecesOf(composed));
    EXPECT_EQ(spansOf(decomposed), (Spans{{0, 3}, {3, 6}, {3, 6}}));
    // Upper case: É (C3 89) lower-cases to é, both bytes of which come from [3,5).
    EXPECT_EQ(spansOf(tokenizer.encode("CAF\xC3\x89", {0, true, false})), (Spans{{0, 3}, {3, 5}, {3, 5}}));
}

TEST_F(ClipTest, ContextLimitFromConfig) {
    EXPECT_EQ(tokenizer.maxLength(), 16);  // config.json text_config.max_position_embeddings
    const Encoding encoding = tokenizer.encode("1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9");  // 18 digits
    EXPECT_TRUE(encoding.truncated);
    EXPECT_EQ(encoding.size(), 16);
    EXPECT_EQ(encoding.untruncatedLength, 20);
    EXPECT_EQ(encoding.tokens.back().piece, "<|endoftext|>");  // special tokens survive the cut
    EXPECT_EQ(encoding.tokens[14].piece, "5</w>");             // 14 digits kept
}

}  // namespace
}  // namespace fovea
