#include "core/model/token_info.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

namespace fovea {

const char* tokenKindName(TokenKind kind) {
    switch (kind) {
        case TokenKind::Cls: return "CLS";
        case TokenKind::Distillation: return "DIST";
        case TokenKind::Register: return "REGISTER";
        case TokenKind::Patch: return "PATCH";
        case TokenKind::Text: return "TEXT";
        case TokenKind::Special: return "SPECIAL";
    }
    return "?";
}

std::string TokenInfo::label() const {
    switch (kind) {
        case TokenKind::Cls: return "CLS";
        case TokenKind::Distillation: return "DIST";
        case TokenKind::Register: return "REG" + std::to_string(ordinal);
        case TokenKind::Patch: return "P(" + std::to_string(row) + "," + std::to_string(col) + ")";
        case TokenKind::Text:
        case TokenKind::Special: return text;
    }
    return "?";
}

TokenLayout TokenLayout::forVisionTransformer(bool cls, bool distillation, int registers,
                                              int gridRows, int gridCols) {
    TokenLayout layout;
    auto add = [&](TokenKind kind, int ordinal) {
        TokenInfo token;
        token.kind = kind;
        token.ordinal = ordinal;
        layout.m_tokens.push_back(token);
    };
    if (cls) add(TokenKind::Cls, 0);
    if (distillation) add(TokenKind::Distillation, 0);
    for (int r = 0; r < registers; ++r) add(TokenKind::Register, r);
    layout.m_gridRows = gridRows;
    layout.m_gridCols = gridCols;
    for (int row = 0; row < gridRows; ++row) {
        for (int col = 0; col < gridCols; ++col) {
            TokenInfo token;
            token.kind = TokenKind::Patch;
            token.row = row;
            token.col = col;
            token.ordinal = row * gridCols + col;
            layout.m_patchPositions.push_back(int(layout.m_tokens.size()));
            layout.m_tokens.push_back(token);
        }
    }
    return layout;
}

TokenLayout TokenLayout::forText(std::vector<TokenInfo> tokens) {
    TokenLayout layout;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        TokenInfo& token = tokens[i];
        if (token.kind != TokenKind::Text && token.kind != TokenKind::Special) {
            throw Error("text token layout", "position " + std::to_string(i) + " is a " +
                                                 tokenKindName(token.kind) + " token, not TEXT or SPECIAL");
        }
        token.modality = Modality::Text;
    }
    layout.m_tokens = std::move(tokens);
    return layout;
}

int TokenLayout::count(TokenKind kind) const {
    int n = 0;
    for (const auto& token : m_tokens) n += token.kind == kind ? 1 : 0;
    return n;
}

int TokenLayout::firstOf(TokenKind kind) const {
    for (std::size_t i = 0; i < m_tokens.size(); ++i) {
        if (m_tokens[i].kind == kind) return int(i);
    }
    return -1;
}

int TokenLayout::patchIndex(int row, int col) const {
    if (row < 0 || row >= m_gridRows || col < 0 || col >= m_gridCols) {
        throw Error("patch (" + std::to_string(row) + ", " + std::to_string(col) +
                    ") is outside the " + std::to_string(m_gridRows) + "x" +
                    std::to_string(m_gridCols) + " patch grid");
    }
    return m_patchPositions[std::size_t(row * m_gridCols + col)];
}

std::vector<int> TokenLayout::patchIndices() const { return m_patchPositions; }

nlohmann::json TokenLayout::toJson() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& token : m_tokens) {
        nlohmann::json entry = {{"kind", tokenKindName(token.kind)},
                                {"modality", token.modality == Modality::Image ? "image" : "text"}};
        if (token.kind == TokenKind::Patch) {
            entry["row"] = token.row;
            entry["col"] = token.col;
        } else if (token.kind == TokenKind::Register) {
            entry["ordinal"] = token.ordinal;
        } else if (token.kind == TokenKind::Text || token.kind == TokenKind::Special) {
            entry["text"] = token.text;
            entry["byte_begin"] = token.byteBegin;
            entry["byte_end"] = token.byteEnd;
            entry["token_id"] = token.tokenId;
            if (token.segment != 0) entry["segment"] = token.segment;
        }
        list.push_back(entry);
    }
    return {{"grid_rows", m_gridRows}, {"grid_cols", m_gridCols}, {"tokens", list}};
}

}  // namespace fovea
