#include "core/io/npy.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <ostream>
#include <set>
#include <string_view>

#define ZLIB_CONST  // makes z_stream::next_in a pointer to const
#include <zlib.h>

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

std::uint64_t readLittleEndian(const std::uint8_t* bytes, int count) {
    std::uint64_t value = 0;
    for (int i = count - 1; i >= 0; --i) value = (value << 8) | bytes[i];
    return value;
}

void appendLittleEndian(std::string& out, std::uint64_t value, int count) {
    for (int i = 0; i < count; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFFu);
}

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

void checkConsistent(const std::string& subject, const NpyArray& array) {
    const ElementType type = requireElementType(subject, array.dtype);
    const std::optional<std::uint64_t> expected = checkedByteCount(array.shape, type.size);
    if (!expected || *expected != array.bytes.size()) {
        throw Error(subject, std::to_string(array.bytes.size()) + " bytes do not match shape " +
                                 formatShape(array.shape) + " x '" + printableText(array.dtype) +
                                 "'");
    }
}

}  // namespace

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

// ---- .npz: a ZIP archive of .npy members -----------------------------------------------------

namespace {

constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr std::uint32_t kEndRecordSignature = 0x06054b50;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kEndRecordSize = 22;
constexpr std::uint64_t kZip32Limit = 0xFFFFFFFFu;
constexpr std::uint16_t kMethodStored = 0;
constexpr std::uint16_t kMethodDeflate = 8;

std::uint32_t crc32Of(const std::uint8_t* data, std::size_t size) {
    uLong crc = crc32(0L, Z_NULL, 0);
    // zlib takes uInt lengths, so feed members past 4 GiB in pieces.
    for (std::size_t done = 0; done < size;) {
        const std::size_t piece = std::min<std::size_t>(size - done, 1u << 30);
        crc = crc32(crc, data + done, static_cast<uInt>(piece));
        done += piece;
    }
    return static_cast<std::uint32_t>(crc);
}

std::string hex(std::uint32_t value) {
    char text[11];
    std::snprintf(text, sizeof text, "0x%08x", value);
    return text;
}

std::vector<std::uint8_t> inflateRaw(const std::string& subject, const std::uint8_t* input,
                                     std::size_t inputSize, std::uint64_t declaredSize) {
    // DEFLATE expands at most about 1032:1; a larger declared size is a lie that would otherwise
    // make us allocate whatever a hostile archive asks for.
    if (declaredSize / 1032 > inputSize + 1) {
        throw Error(subject, "declares " + std::to_string(declaredSize) +
                                 " uncompressed bytes, more than " + std::to_string(inputSize) +
                                 " compressed bytes can hold");
    }
    std::vector<std::uint8_t> output(static_cast<std::size_t>(declaredSize));
    z_stream stream{};
    if (inflateInit2(&stream, -15) != Z_OK) throw Error(subject, "cannot initialize zlib");
    struct Cleanup {
        z_stream& stream;
        ~Cleanup() { inflateEnd(&stream); }
    } cleanup{stream};

    std::size_t inputFed = 0;
    std::size_t outputGiven = 0;
    std::uint8_t probe = 0;  // one byte past the declared size, to notice a stream that is longer
    bool probing = false;
    for (;;) {
        if (stream.avail_in == 0 && inputFed < inputSize) {
            const std::size_t piece = std::min<std::size_t>(inputSize - inputFed, 1u << 30);
            stream.next_in = input + inputFed;
            stream.avail_in = static_cast<uInt>(piece);
            inputFed += piece;
        }
        if (stream.avail_out == 0) {
            if (outputGiven < output.size()) {
                const std::size_t piece =
                    std::min<std::size_t>(output.size() - outputGiven, 1u << 30);
                stream.next_out = output.data() + outputGiven;
                stream.avail_out = static_cast<uInt>(piece);
                outputGiven += piece;
            } else {
                stream.next_out = &probe;
                stream.avail_out = 1;
                probing = true;
            }
        }
        const int status = inflate(&stream, Z_NO_FLUSH);
        if (probing && stream.avail_out == 0) {
            throw Error(subject, "inflates to more than the declared " +
                                     std::to_string(declaredSize) + " bytes");
        }
        if (status == Z_STREAM_END) break;
        if (status == Z_BUF_ERROR && stream.avail_in == 0 && inputFed == inputSize) {
            throw Error(subject, "compressed data is truncated");
        }
        if (status != Z_OK && status != Z_BUF_ERROR) {
            throw Error(subject, std::string("corrupt compressed data: ") +
                                     (stream.msg != nullptr ? stream.msg : "zlib error"));
        }
    }
    if (stream.total_out != declaredSize) {
        throw Error(subject, "inflates to " + std::to_string(stream.total_out) +
                                 " bytes, not the declared " + std::to_string(declaredSize));
    }
    return output;
}

struct CentralEntry {
    std::string name;
    std::uint16_t flags = 0;
    std::uint16_t method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressedSize = 0;
    std::uint64_t uncompressedSize = 0;
    std::uint64_t localHeaderOffset = 0;
};

// Python's zipfile, which np.savez uses, may store sizes in a ZIP64 extra field even for small
// members; the 32-bit field then reads 0xFFFFFFFF.
void applyZip64Extra(const std::string& subject, const std::uint8_t* extra, std::size_t size,
                     CentralEntry& entry) {
    for (std::size_t at = 0; at + 4 <= size;) {
        const auto id = readLittleEndian(extra + at, 2);
        const auto length = static_cast<std::size_t>(readLittleEndian(extra + at + 2, 2));
        if (at + 4 + length > size) break;
        if (id == 0x0001) {
            std::size_t field = at + 4;
            for (std::uint64_t* value :
                 {&entry.uncompressedSize, &entry.compressedSize, &entry.localHeaderOffset}) {
                if (*value != kZip32Limit) continue;
                if (field + 8 > at + 4 + length) throw Error(subject, "corrupt ZIP64 extra field");
                *value = readLittleEndian(extra + field, 8);
                field += 8;
            }
        }
        at += 4 + length;
    }
}

std::vector<CentralEntry> readCentralDirectory(const std::string& path, const std::uint8_t* data,
                                               std::size_t size) {
    if (size < kEndRecordSize) throw Error(path, "not a zip archive (too short)");
    std::size_t endRecord = size - kEndRecordSize;
    const std::size_t searchLimit = endRecord > 0xFFFF ? endRecord - 0xFFFF : 0;
    while (readLittleEndian(data + endRecord, 4) != kEndRecordSignature) {
        if (endRecord == searchLimit) throw Error(path, "not a zip archive (no end record)");
        --endRecord;
    }
    const std::uint8_t* record = data + endRecord;
    const auto entryCount = readLittleEndian(record + 10, 2);
    const auto directorySize = readLittleEndian(record + 12, 4);
    const auto directoryOffset = readLittleEndian(record + 16, 4);
    if (readLittleEndian(record + 4, 4) != 0 || readLittleEndian(record + 8, 2) != entryCount) {
        throw Error(path, "multi-disk zip archives are not supported");
    }
    if (entryCount == 0xFFFF || directorySize == kZip32Limit || directoryOffset == kZip32Limit) {
        throw Error(path, "ZIP64 archives (4 GiB or 65535 members and more) are not supported");
    }
    if (directoryOffset + directorySize > endRecord) {
        throw Error(path, "corrupt zip archive: central directory runs past its end record");
    }
    std::vector<CentralEntry> entries;
    std::size_t at = static_cast<std::size_t>(directoryOffset);
    const std::size_t directoryEnd = at + static_cast<std::size_t>(directorySize);
    for (std::uint64_t index = 0; index < entryCount; ++index) {
        if (at + kCentralHeaderSize > directoryEnd ||
            readLittleEndian(data + at, 4) != kCentralHeaderSignature) {
            throw Error(
                path, "corrupt zip archive: bad central directory entry " + std::to_string(index));
        }
        const std::uint8_t* header = data + at;
        const auto nameLength = static_cast<std::size_t>(readLittleEndian(header + 28, 2));
        const auto extraLength = static_cast<std::size_t>(readLittleEndian(header + 30, 2));
        const auto commentLength = static_cast<std::size_t>(readLittleEndian(header + 32, 2));
        const std::size_t next = at + kCentralHeaderSize + nameLength + extraLength + commentLength;
        if (next > directoryEnd) {
            throw Error(path, "corrupt zip archive: central directory entry " +
                                  std::to_string(index) + " runs past the directory");
        }
        CentralEntry entry;
        entry.name.assign(reinterpret_cast<const char*>(header + kCentralHeaderSize), nameLength);
        entry.flags = static_cast<std::uint16_t>(readLittleEndian(header + 8, 2));
        entry.method = static_cast<std::uint16_t>(readLittleEndian(header + 10, 2));
        entry.crc = static_cast<std::uint32_t>(readLittleEndian(header + 16, 4));
        entry.compressedSize = readLittleEndian(header + 20, 4);
        entry.uncompressedSize = readLittleEndian(header + 24, 4);
        entry.localHeaderOffset = readLittleEndian(header + 42, 4);
        applyZip64Extra(path + ": member '" + printableText(entry.name) + "'",
                        header + kCentralHeaderSize + nameLength, extraLength, entry);
        entries.push_back(std::move(entry));
        at = next;
    }
    return entries;
}

std::vector<std::uint8_t> extractMember(const std::string& subject, const CentralEntry& entry,
                                        const std::uint8_t* data, std::size_t size) {
    if (entry.flags & 0x1u) throw Error(subject, "encrypted members are not supported");
    const std::uint64_t local = entry.localHeaderOffset;
    if (local + kLocalHeaderSize > size ||
        readLittleEndian(data + local, 4) != kLocalHeaderSignature) {
        throw Error(subject, "corrupt zip archive: bad local header");
    }
    const std::uint64_t begin = local + kLocalHeaderSize + readLittleEndian(data + local + 26, 2) +
                                readLittleEndian(data + local + 28, 2);
    if (begin > size || entry.compressedSize > size - begin) {
        throw Error(subject, "truncated: member data runs past the end of the archive");
    }
    const std::uint8_t* compressed = data + begin;
    const auto compressedSize = static_cast<std::size_t>(entry.compressedSize);
    std::vector<std::uint8_t> contents;
    if (entry.method == kMethodStored) {
        if (entry.compressedSize != entry.uncompressedSize) {
            throw Error(subject, "corrupt zip archive: stored member sizes differ");
        }
        contents.assign(compressed, compressed + compressedSize);
    } else if (entry.method == kMethodDeflate) {
        contents = inflateRaw(subject, compressed, compressedSize, entry.uncompressedSize);
    } else {
        throw Error(subject, "unsupported compression method " + std::to_string(entry.method) +
                                 " (only STORED and DEFLATE)");
    }
    const std::uint32_t crc = crc32Of(contents.data(), contents.size());
    if (crc != entry.crc) {
        throw Error(subject, "CRC-32 mismatch (archive says " + hex(entry.crc) + ", data has " +
                                 hex(crc) + ")");
    }
    return contents;
}

}  // namespace

std::vector<std::pair<std::string, NpyArray>> readNpz(const std::string& path) {
    const std::string contents = readFileContents(path);
    const auto* data = reinterpret_cast<const std::uint8_t*>(contents.data());
    std::vector<std::pair<std::string, NpyArray>> arrays;
    std::set<std::string> names;
    for (const CentralEntry& entry : readCentralDirectory(path, data, contents.size())) {
        if (!entry.name.empty() && entry.name.back() == '/') continue;  // a directory
        const std::string subject = path + ": member '" + printableText(entry.name) + "'";
        std::string name = entry.name;
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0)
            name.resize(name.size() - 4);
        if (!names.insert(name).second) throw Error(subject, "appears twice in the archive");
        const std::vector<std::uint8_t> member =
            extractMember(subject, entry, data, contents.size());
        arrays.emplace_back(std::move(name), parseNpy(subject, member.data(), member.size()));
    }
    return arrays;
}

void writeNpz(const std::string& path,
              const std::vector<std::pair<std::string, NpyArray>>& arrays) {
    std::set<std::string> names;
    for (const auto& [name, array] : arrays) {
        const std::string subject = path + ": member '" + printableText(name) + ".npy'";
        if (name.empty() || name.size() > 0xFFFF - 4) throw Error(subject, "invalid member name");
        if (!names.insert(name).second) throw Error(subject, "name appears twice");
        checkConsistent(subject, array);
    }
    if (arrays.size() >= 0xFFFF)
        throw Error(path, "too many arrays for a zip archive without ZIP64");

    writeFileAtomically(path, [&](std::ostream& out) {
        std::string directory;
        std::uint64_t offset = 0;
        const auto tooLarge = [&]() {
            return Error(path, "archive would reach 4 GiB, which needs ZIP64 (not supported)");
        };
        for (const auto& [name, array] : arrays) {
            const std::string memberName = name + ".npy";
            const std::string image =
                serializeNpy(path + ": member '" + printableText(memberName) + "'", array);
            if (offset > kZip32Limit || image.size() >= kZip32Limit) throw tooLarge();
            const std::uint32_t crc =
                crc32Of(reinterpret_cast<const std::uint8_t*>(image.data()), image.size());
            const bool isAscii = std::all_of(memberName.begin(), memberName.end(), [](char c) {
                return static_cast<unsigned char>(c) < 0x80;
            });
            // Fields shared by the local header and the central directory entry: version needed
            // 2.0, flags (bit 11: UTF-8 name), STORED, time 00:00, date 1980-01-01 (fixed so that
            // equal arrays give byte-identical archives), CRC, sizes, name length, no extra.
            std::string common;
            appendLittleEndian(common, 20, 2);
            appendLittleEndian(common, isAscii ? 0 : 0x800, 2);
            appendLittleEndian(common, kMethodStored, 2);
            appendLittleEndian(common, 0, 2);
            appendLittleEndian(common, (1 << 5) | 1, 2);
            appendLittleEndian(common, crc, 4);
            appendLittleEndian(common, image.size(), 4);
            appendLittleEndian(common, image.size(), 4);
            appendLittleEndian(common, memberName.size(), 2);
            appendLittleEndian(common, 0, 2);

            std::string local;
            appendLittleEndian(local, kLocalHeaderSignature, 4);
            local += common + memberName;
            out.write(local.data(), static_cast<std::streamsize>(local.size()));
            out.write(image.data(), static_cast<std::streamsize>(image.size()));

            appendLittleEndian(directory, kCentralHeaderSignature, 4);
            appendLittleEndian(directory, (3 << 8) | 20, 2);  // made by Unix, ZIP 2.0
            directory += common;
            appendLittleEndian(directory, 0, 2);               // comment length
            appendLittleEndian(directory, 0, 2);               // disk number
            appendLittleEndian(directory, 0, 2);               // internal attributes
            appendLittleEndian(directory, 0100644u << 16, 4);  // regular file, rw-r--r--
            appendLittleEndian(directory, offset, 4);
            directory += memberName;
            offset += local.size() + image.size();
        }
        if (offset + directory.size() > kZip32Limit) throw tooLarge();
        std::string end;
        appendLittleEndian(end, kEndRecordSignature, 4);
        appendLittleEndian(end, 0, 4);  // this disk, disk with the directory
        appendLittleEndian(end, arrays.size(), 2);
        appendLittleEndian(end, arrays.size(), 2);
        appendLittleEndian(end, directory.size(), 4);
        appendLittleEndian(end, offset, 4);
        appendLittleEndian(end, 0, 2);  // comment length
        out.write(directory.data(), static_cast<std::streamsize>(directory.size()));
        out.write(end.data(), static_cast<std::streamsize>(end.size()));
    });
}

}  // namespace fovea
