// TokenInfo: what each position of a transformer's sequence means. Views and analyses read
// token meaning from here, never from hard-coded offsets such as "token 0 is CLS".
//
//     TokenLayout layout = TokenLayout::forVisionTransformer(/*cls*/ true, /*dist*/ false,
//                                                           /*registers*/ 4, 14, 14);
//     int cls = layout.firstOf(TokenKind::Cls);          // 0
//     int patch = layout.patchIndex(3, 5);               // position of patch (row 3, col 5)
//     std::string json = layout.toJson().dump();
//
//     TokenLayout text = tokenLayoutFor(tokenizer.encode("Hello"));  // core/tokenize/tokenizer.h
//     text[1].text;  // "Hello", with byteBegin 0, byteEnd 5 (text[0] is SPECIAL "[CLS]")
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace fovea {

enum class TokenKind { Cls, Distillation, Register, Patch, Text, Special };
enum class Modality { Image, Text };

const char* tokenKindName(TokenKind kind);  // "CLS", "DIST", "REGISTER", "PATCH", "TEXT", "SPECIAL"

struct TokenInfo {
    TokenKind kind = TokenKind::Patch;
    Modality modality = Modality::Image;
    int row = -1;       // PATCH: grid row
    int col = -1;       // PATCH: grid column
    int ordinal = 0;    // n-th token of its kind (register 0..R-1, ...)
    std::string text;   // TEXT / SPECIAL: the token string
    int byteBegin = -1; // TEXT: byte span [byteBegin, byteEnd) in the original text
    int byteEnd = -1;   //       (-1 for special tokens the tokenizer added)
    int tokenId = -1;   // TEXT / SPECIAL: the vocabulary id
    int segment = 0;    // TEXT / SPECIAL: 0 first text, 1 second text of a pair (whose bytes the span indexes)

    std::string label() const;  // "CLS", "REG2", "P(3,5)", or the text
};

class TokenLayout {
public:
    TokenLayout() = default;
    // Prefix tokens in timm order (CLS, DIST, registers), then patches row-major.
    static TokenLayout forVisionTransformer(bool cls, bool distillation, int registers,
                                            int gridRows, int gridCols);
    // A text sequence: `tokens` are TEXT / SPECIAL entries (tokenLayoutFor(Encoding) makes
    // them); kinds other than those throw fovea::Error. Modality is set to Text.
    static TokenLayout forText(std::vector<TokenInfo> tokens);

    const std::vector<TokenInfo>& tokens() const { return m_tokens; }
    int size() const { return int(m_tokens.size()); }
    const TokenInfo& operator[](int index) const { return m_tokens.at(std::size_t(index)); }
    int gridRows() const { return m_gridRows; }
    int gridCols() const { return m_gridCols; }
    int count(TokenKind kind) const;
    int firstOf(TokenKind kind) const;  // -1 when absent
    int patchIndex(int row, int col) const;
    // Positions of all patches in row-major grid order.
    std::vector<int> patchIndices() const;

    nlohmann::json toJson() const;

private:
    std::vector<TokenInfo> m_tokens;
    int m_gridRows = 0;
    int m_gridCols = 0;
    std::vector<int> m_patchPositions;  // row-major grid -> sequence position
};

}  // namespace fovea
