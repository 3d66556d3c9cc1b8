#include "core/io/npy.h"

#include "core/io/npy_detail.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <ostream>
#include <set>
#include <string_view>

#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/util/error.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "Fovea assumes a little-endian host");

namespace fovea {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLength = 6;

// What Fovea needs to know of a numpy descr: 'f' float, 'i' signed, 'u' unsigned, 'b' bool,
// 'U' UTF-32 string.
struct ElementType {
    char kind;
    std::size_t size;
};

std::optional<ElementType> elementTypeOf(const std::string& descr) {
    static const std::pair<const char*, ElementType> kFixed[] = {
        {"<f2", {'f', 2}}, {"<f4", {'f', 4}}, {"<f8", {'f', 8}}, {"|i1", {'i', 1}},
        {"<i2", {'i', 2}}, {"<i4", {'i', 4}}, {"<i8", {'i', 8}}, {"|u1", {'u', 1}},
        {"<u2", {'u', 2}}, {"<u4", {'u', 4}}, {"<u8", {'u', 8}}, {"|b1", {'b', 1}},
    };
    for (const auto& [name, type] : kFixed) {
        if (descr == name) return type;
    }
    // "<U0" is refused: zero-byte elements would let a tiny file claim 2^62 strings.
    if (descr.size() > 2 && descr.size() <= 11 && descr.compare(0, 2, "<U") == 0 &&
        std::all_of(descr.begin() + 2, descr.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const auto width = static_cast<std::size_t>(std::stoull(descr.substr(2)));
        if (width > 0) return ElementType{'U', 4 * width};
    }
    return std::nullopt;
}

ElementType requireElementType(const std::string& subject, const std::string& descr) {
    const std::optional<ElementType> type = elementTypeOf(descr);
    if (!type) throw Error(subject, "unsupported dtype '" + printableText(descr) + "'");
    return *type;
}

std::optional<std::uint64_t> checkedByteCount(const std::vector<std::int64_t>& shape,
                                              std::size_t itemSize) {
    std::uint64_t count = 1;
    for (const std::int64_t extent : shape) {
        if (extent < 0 ||
            __builtin_mul_overflow(count, static_cast<std::uint64_t>(extent), &count) ||
            count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
    }
    if (__builtin_mul_overflow(count, itemSize, &count)) return std::nullopt;
    return count;
}

std::string formatShape(const std::vector<std::int64_t>& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
    }
    return text + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

namespace npy_detail {

std::uint64_t readLittleEndian(const std::uint8_t* bytes, int count) {
    std::uint64_t value = 0;
    for (int i = count - 1; i >= 0; --i) value = (value << 8) | bytes[i];
    return value;
}

void appendLittleEndian(std::string& out, std::uint64_t value, int count) {
    for (int i = 0; i < count; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFFu);
}

}  // namespace npy_detail

namespace {

using npy_detail::appendLittleEndian;
using npy_detail::readLittleEndian;

// The header is a Python dict literal, e.g. "{'descr': '<f4', 'fortran_order': False,
// 'shape': (1, 5), }". This parses exactly the subset numpy writes.
class HeaderParser {
  public:
    HeaderParser(std::string subject, std::string_view text)
        : m_subject(std::move(subject)), m_text(text) {}

    NpyArray parse(bool& fortranOrder) {
        NpyArray array;
        std::set<std::string> seen;
        expect('{');
        while (!consume('}')) {
            const std::string key = parseString();
            if (!seen.insert(key).second) fail("header repeats key '" + printableText(key) + "'");
            expect(':');
            if (key == "descr") {
                skipSpace();
                if (peek() != '\'' && peek() != '"') fail("structured dtypes are not supported");
                array.dtype = parseString();
            } else if (key == "fortran_order") {
                fortranOrder = parseBool();
            } else if (key == "shape") {
                array.shape = parseShape();
            } else {
                fail("header has unexpected key '" + printableText(key) + "'");
            }
            if (!consume(',')) {
                expect('}');
                break;
            }
        }
        for (const char* key : {"descr", "fortran_order", "shape"}) {
            if (seen.count(key) == 0) fail(std::string("header lacks '") + key + "'");
        }
        return array;
    }

  private:
    [[noreturn]] void fail(const std::string& problem) const { throw Error(m_subject, problem); }
    void skipSpace() {
        while (m_position < m_text.size() && std::isspace(static_cast<unsigned char>(peek()))) {
            ++m_position;
        }
    }
    char peek() const { return m_position < m_text.size() ? m_text[m_position] : '\0'; }
    bool consume(char c) {
        skipSpace();
        if (peek() != c) return false;
        ++m_position;
        return true;
    }
    void expect(char c) {
        if (!consume(c)) {
            fail(std::string("malformed header: expected '") + c + "' at character " +
                 std::to_string(m_position));
        }
    }
    std::string parseString() {
        skipSpace();
        const char quote = peek();
        if (quote != '\'' && quote != '"') expect('\'');
        const std::size_t end = m_text.find(quote, m_position + 1);
        if (end == std::string_view::npos) fail("malformed header: unterminated string");
        std::string value(m_text.substr(m_position + 1, end - m_position - 1));
        m_position = end + 1;
        return value;
    }
    bool parseBool() {
        skipSpace();
        for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
            if (m_text.substr(m_position, std::strlen(word)) == word) {
                m_position += std::strlen(word);
                return value;
            }
        }
        fail("malformed header: 'fortran_order' is not True or False");
    }
    std::vector<std::int64_t> parseShape() {
        std::vector<std::int64_t> shape;
        expect('(');
        while (!consume(')')) {
            skipSpace();
            std::int64_t extent = 0;
            const std::size_t start = m_position;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                if (__builtin_mul_overflow(extent, 10, &extent) ||
                    __builtin_add_overflow(extent, peek() - '0', &extent)) {
                    fail("shape extent is too large");
                }
                ++m_position;
            }
            if (m_position == start) {
                fail("malformed header: shape entry at character " + std::to_string(start) +
                     " is not a non-negative integer");
            }
            consume('L');  // Python 2 wrote long integers as "3L"
            shape.push_back(extent);
            if (!consume(',')) {
                expect(')');
                break;
            }
        }
        return shape;
    }

    std::string m_subject;
    std::string_view m_text;
    std::size_t m_position = 0;
};

// UTF-8 <-> code points, strict: overlong forms, surrogates and values past U+10FFFF are
// rejected, because numpy would refuse to store them.
std::vector<std::uint32_t> decodeUtf8(const std::string& text) {
    std::vector<std::uint32_t> codePoints;
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const int length = lead < 0x80         ? 1
                           : (lead >> 5) == 6  ? 2
                           : (lead >> 4) == 14 ? 3
                           : (lead >> 3) == 30 ? 4
                                               : 0;
        if (length == 0 || i + length > text.size()) throw Error("string", "invalid UTF-8");
        std::uint32_t codePoint = length == 1 ? lead : lead & (0x7Fu >> length);
        for (int k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0u) != 0x80u) throw Error("string", "invalid UTF-8");
            codePoint = (codePoint << 6) | (next & 0x3Fu);
        }
        static const std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (codePoint < kSmallest[length] || codePoint > 0x10FFFF ||
            (codePoint >= 0xD800 && codePoint <= 0xDFFF)) {
            throw Error("string", "invalid UTF-8");
        }
        codePoints.push_back(codePoint);
        i += length;
    }
    return codePoints;
}

void appendUtf8(std::string& out, std::uint32_t codePoint) {
    if (codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF)) {
        throw Error("npy array", "string holds invalid code point " + std::to_string(codePoint));
    }
    if (codePoint < 0x80) {
        out += static_cast<char>(codePoint);
        return;
    }
    const int length = codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    static const unsigned kLeadMarks[] = {0, 0, 0xC0, 0xE0, 0xF0};
    out += static_cast<char>(kLeadMarks[length] | (codePoint >> (6 * (length - 1))));
    for (int k = length - 2; k >= 0; --k)
        out += static_cast<char>(0x80 | ((codePoint >> (6 * k)) & 0x3F));
}

template <typename Element, typename Target>
void appendElements(const NpyArray& array, std::vector<Target>& out) {
    for (std::size_t offset = 0; offset + sizeof(Element) <= array.bytes.size();
         offset += sizeof(Element)) {
        Element element;
        std::memcpy(&element, array.bytes.data() + offset, sizeof(Element));
        out.push_back(static_cast<Target>(element));
    }
}

std::string describe(const NpyArray& array) {
    return "npy array '" + printableText(array.dtype) + "' " + formatShape(array.shape);
}

}  // namespace

void npy_detail::checkConsistent(const std::string& subject, const NpyArray& array) {
    const ElementType type = requireElementType(subject, array.dtype);
    const std::optional<std::uint64_t> expected = checkedByteCount(array.shape, type.size);
    if (!expected || *expected != array.bytes.size()) {
        throw Error(subject, std::to_string(array.bytes.size()) + " bytes do not match shape " +
                                 formatShape(array.shape) + " x '" + printableText(array.dtype) +
                                 "'");
    }
}

using npy_detail::checkConsistent;

std::int64_t NpyArray::elementCount() const {
    std::int64_t count = 1;
    for (const std::int64_t extent : shape) count *= extent;
    return count;
}

std::size_t NpyArray::itemSize() const {
    return requireElementType(describe(*this), dtype).size;
}

NpyArray NpyArray::fromFloats(std::vector<std::int64_t> shape, const std::vector<float>& values) {
    NpyArray array{"<f4", std::move(shape), {}};
    array.bytes.resize(values.size() * sizeof(float));
    if (!values.empty()) std::memcpy(array.bytes.data(), values.data(), array.bytes.size());
    checkConsistent(describe(array), array);
    return array;
}

NpyArray NpyArray::fromInt64s(std::vector<std::int64_t> shape,
                              const std::vector<std::int64_t>& values) {
    NpyArray array{"<i8", std::move(shape), {}};
    array.bytes.resize(values.size() * sizeof(std::int64_t));
    if (!values.empty()) std::memcpy(array.bytes.data(), values.data(), array.bytes.size());
    checkConsistent(describe(array), array);
    return array;
}

NpyArray NpyArray::fromString(const std::string& utf8) {
    return fromStrings({}, {utf8});
}

NpyArray NpyArray::fromStrings(std::vector<std::int64_t> shape,
                               const std::vector<std::string>& utf8) {
    std::vector<std::vector<std::uint32_t>> decoded;
    std::size_t width = 1;  // numpy never makes '<U0' from a string, even an empty one
    for (const std::string& text : utf8) {
        decoded.push_back(decodeUtf8(text));
        width = std::max(width, decoded.back().size());
    }
    NpyArray array{"<U" + std::to_string(width), std::move(shape), {}};
    array.bytes.assign(decoded.size() * width * 4, 0);
    for (std::size_t i = 0; i < decoded.size(); ++i) {
        std::memcpy(array.bytes.data() + i * width * 4, decoded[i].data(), decoded[i].size() * 4);
    }
    checkConsistent(describe(array), array);
    return array;
}

std::vector<float> NpyArray::toFloats() const {
    const ElementType type = requireElementType(describe(*this), dtype);
    std::vector<float> out;
    out.reserve(type.size == 0 ? 0 : bytes.size() / type.size);
    if (type.kind == 'f' && type.size == 2) {
        std::vector<std::uint16_t> halves;
        appendElements<std::uint16_t>(*this, halves);
        for (const std::uint16_t half : halves) out.push_back(halfToFloat(half));
        return out;
    }
    switch (type.kind * 16 + static_cast<int>(type.size)) {
        case 'f' * 16 + 4:
            appendElements<float>(*this, out);
            break;
        case 'f' * 16 + 8:
            appendElements<double>(*this, out);
            break;
        case 'i' * 16 + 1:
            appendElements<std::int8_t>(*this, out);
            break;
        case 'i' * 16 + 2:
            appendElements<std::int16_t>(*this, out);
            break;
        case 'i' * 16 + 4:
            appendElements<std::int32_t>(*this, out);
            break;
        case 'i' * 16 + 8:
            appendElements<std::int64_t>(*this, out);
            break;
        case 'u' * 16 + 1:
        case 'b' * 16 + 1:
            appendElements<std::uint8_t>(*this, out);
            break;
        case 'u' * 16 + 2:
            appendElements<std::uint16_t>(*this, out);
            break;
        case 'u' * 16 + 4:
            appendElements<std::uint32_t>(*this, out);
            break;
        case 'u' * 16 + 8:
            appendElements<std::uint64_t>(*this, out);
            break;
        default:
            throw Error(describe(*this), "cannot convert strings to floats");
    }
    return out;
}

std::vector<std::int64_t> NpyArray::toInt64s() const {
    const ElementType type = requireElementType(describe(*this), dtype);
    std::vector<std::int64_t> out;
    switch (type.kind * 16 + static_cast<int>(type.size)) {
        case 'i' * 16 + 1:
            appendElements<std::int8_t>(*this, out);
            break;
        case 'i' * 16 + 2:
            appendElements<std::int16_t>(*this, out);
            break;
        case 'i' * 16 + 4:
            appendElements<std::int32_t>(*this, out);
            break;
        case 'i' * 16 + 8:
            appendElements<std::int64_t>(*this, out);
            break;
        case 'u' * 16 + 1:
        case 'b' * 16 + 1:
            appendElements<std::uint8_t>(*this, out);
            break;
        case 'u' * 16 + 2:
            appendElements<std::uint16_t>(*this, out);
            break;
        case 'u' * 16 + 4:
            appendElements<std::uint32_t>(*this, out);
            break;
        case 'u' * 16 + 8: {
            std::vector<std::uint64_t> wide;
            appendElements<std::uint64_t>(*this, wide);
            for (const std::uint64_t value : wide) {
                if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                    throw Error(describe(*this),
                                "value " + std::to_string(value) + " does not fit in int64");
                }
                out.push_back(static_cast<std::int64_t>(value));
            }
            break;
        }
        default:
            throw Error(describe(*this), "cannot convert to integers");
    }
    return out;
}

std::string NpyArray::toString() const {
    const std::vector<std::string> strings = toStrings();
    if (strings.size() != 1) {
        throw Error(describe(*this),
                    "holds " + std::to_string(strings.size()) + " strings, not one");
    }
    return strings.front();
}

std::vector<std::string> NpyArray::toStrings() const {
    const ElementType type = requireElementType(describe(*this), dtype);
    if (type.kind != 'U') throw Error(describe(*this), "does not hold strings");
    checkConsistent(describe(*this), *this);
    std::vector<std::string> out;
    for (std::int64_t index = 0; index < elementCount(); ++index) {
        std::vector<std::uint32_t> codePoints(type.size / 4);
        std::memcpy(codePoints.data(), bytes.data() + index * type.size, type.size);
        while (!codePoints.empty() && codePoints.back() == 0) codePoints.pop_back();
        std::string text;
        for (const std::uint32_t codePoint : codePoints) appendUtf8(text, codePoint);
        out.push_back(std::move(text));
    }
    return out;
}

std::string serializeNpy(const std::string& subject, const NpyArray& array) {
    checkConsistent(subject, array);
    std::string header = "{'descr': '" + array.dtype +
                         "', 'fortran_order': False, 'shape': " + formatShape(array.shape) + ", }";
    // numpy aligns the data to 64 bytes and ends the padded header with a newline; version 2.0
    // is needed only when the header outgrows version 1.0's 16-bit length.
    const bool needsVersion2 = header.size() + 1 + 10 > 0xFFFF;
    const std::size_t preamble = needsVersion2 ? 12 : 10;
    header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string out(kMagic, kMagicLength);
    out += static_cast<char>(needsVersion2 ? 2 : 1);
    out += '\0';
    appendLittleEndian(out, header.size(), needsVersion2 ? 4 : 2);
    out += header;
    out.append(reinterpret_cast<const char*>(array.bytes.data()), array.bytes.size());
    return out;
}

NpyArray parseNpy(const std::string& subject, const std::uint8_t* data, std::size_t size) {
    if (size < kMagicLength || std::memcmp(data, kMagic, kMagicLength) != 0) {
        throw Error(subject, "not a .npy file (bad magic)");
    }
    if (size < 10) throw Error(subject, "truncated in the .npy preamble");
    const int major = data[6];
    if (major < 1 || major > 3) {
        throw Error(subject, "unsupported .npy format version " + std::to_string(major) + "." +
                                 std::to_string(data[7]));
    }
    const std::size_t preamble = major == 1 ? 10 : 12;
    if (size < preamble) throw Error(subject, "truncated in the .npy preamble");
    const std::uint64_t headerLength = readLittleEndian(data + 8, major == 1 ? 2 : 4);
    if (headerLength > size - preamble) {
        throw Error(subject, "truncated: header of " + std::to_string(headerLength) +
                                 " bytes runs past the end of the data (" + std::to_string(size) +
                                 " bytes)");
    }
    bool fortranOrder = false;
    const std::string_view headerText(reinterpret_cast<const char*>(data + preamble), headerLength);
    NpyArray array = HeaderParser(subject, headerText).parse(fortranOrder);
    const ElementType type = requireElementType(subject, array.dtype);
    if (fortranOrder && array.shape.size() > 1) {
        throw Error(subject, "Fortran-order arrays are not supported (save with C order)");
    }
    const std::optional<std::uint64_t> needed = checkedByteCount(array.shape, type.size);
    if (!needed) throw Error(subject, "shape " + formatShape(array.shape) + " overflows 64 bits");
    const std::uint64_t available = size - preamble - headerLength;
    if (available < *needed) {
        throw Error(subject, "truncated: data is " + std::to_string(available) +
                                 " bytes, shorter than shape " + formatShape(array.shape) + " x '" +
                                 printableText(array.dtype) + "' = " + std::to_string(*needed) +
                                 " bytes");
    }
    const std::uint8_t* begin = data + preamble + headerLength;
    array.bytes.assign(begin, begin + *needed);
    return array;
}

NpyArray readNpy(const std::string& path) {
    const std::string contents = readFileContents(path);
    return parseNpy(path, reinterpret_cast<const std::uint8_t*>(contents.data()), contents.size());
}

void writeNpy(const std::string& path, const NpyArray& array) {
    const std::string image = serializeNpy(path, array);
    writeFileAtomically(path, [&](std::ostream& out) {
        out.write(image.data(), static_cast<std::streamsize>(image.size()));
    });
}

}  // namespace fovea
