#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <ostream>
#include <set>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/io/json_file.h"
#include "core/util/error.h"

// Tensor bytes are little-endian in the file and are handed out without swapping.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "Fovea assumes a little-endian host");

namespace fovea {

namespace {

// The reference implementation refuses larger headers too; it stops a hostile length from
// making us parse (or allocate for) gigabytes of "JSON".
constexpr std::uint64_t kMaxHeaderLength = 100'000'000;

struct DTypeInfo {
    DType dtype;
    const char* name;
    std::size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "F32", 4}, {DType::F16, "F16", 2},   {DType::BF16, "BF16", 2},
    {DType::F64, "F64", 8}, {DType::I64, "I64", 8},   {DType::I32, "I32", 4},
    {DType::U8, "U8", 1},   {DType::Bool, "BOOL", 1},
};

const DTypeInfo& infoOf(DType dtype) {
    for (const DTypeInfo& info : kDTypes) {
        if (info.dtype == dtype) return info;
    }
    throw Error("safetensors", "invalid DType value " + std::to_string(static_cast<int>(dtype)));
}

std::string quotedName(const std::string& name) {
    return "'" + printableText(name) + "'";
}

// A JSON value for a message, cut short: a hostile header may hold megabytes in one field.
std::string briefly(const nlohmann::json& value) {
    std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return printableText(text);
}

std::string formatShape(const std::vector<std::int64_t>& shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) text += ',';
        text += std::to_string(shape[i]);
    }
    return text + "]";
}

std::string formatRange(std::uint64_t begin, std::uint64_t end) {
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

// Byte count of shape x dtype, or nullopt if it does not fit in 64 bits (or the element count
// in int64_t).
std::optional<std::uint64_t> checkedByteCount(const std::vector<std::int64_t>& shape, DType dtype) {
    std::uint64_t elements = 1;
    for (const std::int64_t extent : shape) {
        if (__builtin_mul_overflow(elements, static_cast<std::uint64_t>(extent), &elements) ||
            elements > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
    }
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(elements, dtypeSize(dtype), &bytes)) return std::nullopt;
    return bytes;
}

// Throws on malformed JSON, on a non-object and on a name that appears twice (nlohmann would
// silently keep the last one, hiding a tensor).
nlohmann::json parseHeader(const std::string& path, const char* begin, const char* end) {
    std::set<std::string> names;
    std::string duplicate;
    const auto noteDuplicateNames = [&](int depth, nlohmann::json::parse_event_t event,
                                        nlohmann::json& parsed) {
        if (depth == 1 && event == nlohmann::json::parse_event_t::key && duplicate.empty()) {
            const auto& name = parsed.get_ref<const std::string&>();
            if (!names.insert(name).second) duplicate = name;
        }
        return true;
    };
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(begin, end, noteDuplicateNames);
    } catch (const nlohmann::json::parse_error& error) {
        throw Error(path, "header is not valid JSON: " + jsonErrorText(error));
    }
    if (!header.is_object()) {
        throw Error(path, std::string("header is not a JSON object but ") + header.type_name());
    }
    if (!duplicate.empty()) throw Error(path, quotedName(duplicate) + " appears twice");
    return header;
}

std::map<std::string, std::string> parseMetadata(const std::string& path,
                                                 const nlohmann::json& entry) {
    std::map<std::string, std::string> metadata;
    if (entry.is_null()) return metadata;  // the reference writer's "no metadata"
    if (!entry.is_object()) {
        throw Error(
            path, std::string("__metadata__ is not an object of strings but ") + entry.type_name());
    }
    for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
            throw Error(path, "__metadata__ value of " + quotedName(key) + " is not a string but " +
                                  value.type_name());
        }
        metadata[key] = value.get<std::string>();
    }
    return metadata;
}

// A non-negative integer that fits in int64_t, as JSON numbers in shape and data_offsets must be.
std::optional<std::int64_t> asCount(const nlohmann::json& value) {
    if (value.is_number_unsigned()) {
        const auto count = value.get<std::uint64_t>();
        if (count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(count);
    }
    if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
        return value.get<std::int64_t>();
    }
    return std::nullopt;
}

TensorView parseEntry(const std::string& path, const std::string& name, const nlohmann::json& entry,
                      const std::uint8_t* buffer, std::uint64_t bufferSize) {
    const std::string subject = path + ": tensor " + quotedName(name);
    if (!entry.is_object()) {
        throw Error(subject, std::string("entry is not a JSON object but ") + entry.type_name());
    }
    TensorView view;
    view.name = name;

    const auto dtypeField = entry.find("dtype");
    if (dtypeField == entry.end()) throw Error(subject, "missing 'dtype'");
    if (!dtypeField->is_string()) throw Error(subject, "'dtype' is not a string");
    const std::string dtypeText = dtypeField->get<std::string>();
    const std::optional<DType> dtype = dtypeFromName(dtypeText);
    if (!dtype) {
        throw Error(subject, "unsupported dtype " + quotedName(dtypeText) +
                                 " (supported: F32, F16, BF16, F64, I64, I32, U8, BOOL)");
    }
    view.dtype = *dtype;

    const auto shapeField = entry.find("shape");
    if (shapeField == entry.end()) throw Error(subject, "missing 'shape'");
    if (!shapeField->is_array()) throw Error(subject, "'shape' is not an array");
    for (const nlohmann::json& extent : *shapeField) {
        if (!extent.is_number_integer()) {
            throw Error(subject, "shape entry " + briefly(extent) + " is not an integer");
        }
        const std::optional<std::int64_t> count = asCount(extent);
        if (!count) throw Error(subject, "shape entry " + briefly(extent) + " is negative");
        view.shape.push_back(*count);
    }
    const std::optional<std::uint64_t> expectedBytes = checkedByteCount(view.shape, view.dtype);
    if (!expectedBytes) {
        throw Error(subject,
                    "shape " + formatShape(view.shape) + " x " + dtypeText + " overflows 64 bits");
    }

    const auto offsetsField = entry.find("data_offsets");
    if (offsetsField == entry.end()) throw Error(subject, "missing 'data_offsets'");
    std::optional<std::int64_t> begin;
    std::optional<std::int64_t> end;
    if (offsetsField->is_array() && offsetsField->size() == 2) {
        begin = asCount((*offsetsField)[0]);
        end = asCount((*offsetsField)[1]);
    }
    if (!begin || !end) {
        throw Error(subject, "'data_offsets' " + briefly(*offsetsField) +
                                 " is not a pair of non-negative integers");
    }
    const auto first = static_cast<std::uint64_t>(*begin);
    const auto last = static_cast<std::uint64_t>(*end);
    if (first > last) {
        throw Error(subject, "data offsets " + formatRange(first, last) + " begin after they end");
    }
    if (last > bufferSize) {
        throw Error(subject, "data offsets " + formatRange(first, last) +
                                 " run past the end of the data buffer (" +
                                 std::to_string(bufferSize) + " bytes)");
    }
    if (last - first != *expectedBytes) {
        throw Error(subject, "data offsets " + formatRange(first, last) + " do not match shape " +
                                 formatShape(view.shape) + " x " + dtypeText + " = " +
                                 std::to_string(*expectedBytes) + " bytes");
    }
    view.data = buffer + first;
    view.byteSize = static_cast<std::size_t>(last - first);
    return view;
}

// Expects `tensors` sorted by offset. Empty tensors occupy no bytes and so overlap nothing.
void checkNoOverlap(const std::string& path, const std::vector<TensorView>& tensors,
                    const std::uint8_t* buffer) {
    const TensorView* furthest = nullptr;
    for (const TensorView& tensor : tensors) {
        if (tensor.byteSize == 0) continue;
        if (furthest != nullptr && tensor.data < furthest->data + furthest->byteSize) {
            const auto rangeOf = [&](const TensorView& view) {
                const auto begin = static_cast<std::uint64_t>(view.data - buffer);
                return formatRange(begin, begin + view.byteSize);
            };
            throw Error(path, "tensors " + quotedName(furthest->name) + " " + rangeOf(*furthest) +
                                  " and " + quotedName(tensor.name) + " " + rangeOf(tensor) +
                                  " overlap");
        }
        if (furthest == nullptr ||
            tensor.data + tensor.byteSize > furthest->data + furthest->byteSize) {
            furthest = &tensor;
        }
    }
}

std::uint64_t readLittleEndian64(const std::uint8_t* bytes) {
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
    return value;
}

template <typename Element>
void appendConverted(const TensorView& tensor, std::vector<float>& out) {
    for (std::size_t offset = 0; offset < tensor.byteSize; offset += sizeof(Element)) {
        Element element;
        std::memcpy(&element, tensor.data + offset, sizeof(Element));
        out.push_back(static_cast<float>(element));
    }
}

std::uint32_t bitsOf(float value) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

float floatFromBits(std::uint32_t bits) {
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// Shifts `value` right by `shift` bits, rounding to nearest with ties to even.
std::uint32_t shiftRightRoundingToEven(std::uint32_t value, unsigned shift) {
    const std::uint32_t kept = value >> shift;
    const std::uint32_t remainder = value & ((1u << shift) - 1u);
    const std::uint32_t half = 1u << (shift - 1u);
    return kept + ((remainder > half || (remainder == half && (kept & 1u))) ? 1u : 0u);
}

}  // namespace

std::size_t dtypeSize(DType dtype) {
    return infoOf(dtype).size;
}

const char* dtypeName(DType dtype) {
    return infoOf(dtype).name;
}

std::optional<DType> dtypeFromName(const std::string& name) {
    for (const DTypeInfo& info : kDTypes) {
        if (name == info.name) return info.dtype;
    }
    return std::nullopt;
}

std::int64_t TensorView::elementCount() const {
    std::int64_t count = 1;
    for (const std::int64_t extent : shape) count *= extent;
    return count;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
    SafetensorsFile file;  // owns the mapping from here on, so every throw below unmaps it
    file.m_path = path;
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) throw Error(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat status {};
    if (::fstat(descriptor, &status) != 0 || !S_ISREG(status.st_mode)) {
        ::close(descriptor);
        throw Error(path, "cannot open: not a regular file");
    }
    const auto fileSize = static_cast<std::uint64_t>(status.st_size);
    if (fileSize < 8) {
        ::close(descriptor);
        throw Error(path, "file is " + std::to_string(fileSize) +
                              " bytes, too short for the 8-byte header length");
    }
    void* mapping = ::mmap(nullptr, fileSize, PROT_READ, MAP_PRIVATE, descriptor, 0);
    const int mapError = errno;
    ::close(descriptor);  // the mapping keeps the file alive
    if (mapping == MAP_FAILED) {
        throw Error(path, std::string("cannot map into memory: ") + std::strerror(mapError));
    }
    file.m_mapping = mapping;
    file.m_mappingSize = fileSize;

    const auto* bytes = static_cast<const std::uint8_t*>(mapping);
    const std::uint64_t headerLength = readLittleEndian64(bytes);
    if (headerLength > kMaxHeaderLength) {
        throw Error(path, "header length " + std::to_string(headerLength) +
                              " exceeds the limit of " + std::to_string(kMaxHeaderLength) +
                              " bytes");
    }
    if (headerLength > fileSize - 8) {
        throw Error(path, "header length " + std::to_string(headerLength) +
                              " runs past the end of the file (" + std::to_string(fileSize) +
                              " bytes)");
    }
    const auto* headerText = reinterpret_cast<const char*>(bytes + 8);
    const nlohmann::json header = parseHeader(path, headerText, headerText + headerLength);

    const std::uint8_t* buffer = bytes + 8 + headerLength;
    const std::uint64_t bufferSize = fileSize - 8 - headerLength;
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            file.m_metadata = parseMetadata(path, entry);
        } else {
            file.m_tensors.push_back(parseEntry(path, name, entry, buffer, bufferSize));
        }
    }
    std::sort(
        file.m_tensors.begin(), file.m_tensors.end(), [](const TensorView& a, const TensorView& b) {
            return std::tie(a.data, a.byteSize, a.name) < std::tie(b.data, b.byteSize, b.name);
        });
    checkNoOverlap(path, file.m_tensors, buffer);
    for (std::size_t i = 0; i < file.m_tensors.size(); ++i) {
        file.m_indexByName[file.m_tensors[i].name] = i;
    }
    return file;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_mapping(std::exchange(other.m_mapping, nullptr)),
      m_mappingSize(std::exchange(other.m_mappingSize, 0)),
      m_tensors(std::move(other.m_tensors)),
      m_indexByName(std::move(other.m_indexByName)),
      m_metadata(std::move(other.m_metadata)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
    if (this != &other) {
        unmap();
        m_path = std::move(other.m_path);
        m_mapping = std::exchange(other.m_mapping, nullptr);
        m_mappingSize = std::exchange(other.m_mappingSize, 0);
        m_tensors = std::move(other.m_tensors);
        m_indexByName = std::move(other.m_indexByName);
        m_metadata = std::move(other.m_metadata);
    }
    return *this;
}

SafetensorsFile::~SafetensorsFile() {
    unmap();
}

void SafetensorsFile::unmap() noexcept {
    if (m_mapping != nullptr) ::munmap(m_mapping, m_mappingSize);
    m_mapping = nullptr;
    m_mappingSize = 0;
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
    const auto found = m_indexByName.find(name);
    return found == m_indexByName.end() ? nullptr : &m_tensors[found->second];
}

const TensorView& SafetensorsFile::at(const std::string& name) const {
    const TensorView* view = find(name);
    if (view == nullptr) throw Error(m_path, "no tensor named " + quotedName(name));
    return *view;
}

void writeSafetensors(const std::string& path, const std::vector<TensorData>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    std::set<std::string> names;
    for (const TensorData& tensor : tensors) {
        const std::string subject = path + ": tensor " + quotedName(tensor.name);
        if (tensor.name.empty() || tensor.name == "__metadata__") {
            throw Error(subject, "reserved or empty tensor name");
        }
        if (!names.insert(tensor.name).second) throw Error(subject, "name appears twice");
        for (const std::int64_t extent : tensor.shape) {
            if (extent < 0)
                throw Error(subject, "negative extent in shape " + formatShape(tensor.shape));
        }
        const std::optional<std::uint64_t> expected = checkedByteCount(tensor.shape, tensor.dtype);
        if (!expected || *expected != tensor.bytes.size()) {
            throw Error(subject, std::to_string(tensor.bytes.size()) +
                                     " bytes do not match shape " + formatShape(tensor.shape) +
                                     " x " + dtypeName(tensor.dtype));
        }
    }

    std::vector<const TensorData*> order;
    for (const TensorData& tensor : tensors) order.push_back(&tensor);
    std::sort(order.begin(), order.end(), [](const TensorData* a, const TensorData* b) {
        const std::size_t sizeA = dtypeSize(a->dtype);
        const std::size_t sizeB = dtypeSize(b->dtype);
        return sizeA != sizeB ? sizeA > sizeB : a->name < b->name;
    });

    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (const TensorData* tensor : order) {
        header[tensor->name] = {{"dtype", dtypeName(tensor->dtype)},
                                {"shape", tensor->shape},
                                {"data_offsets", {offset, offset + tensor->bytes.size()}}};
        offset += tensor->bytes.size();
    }
    std::string headerText;
    try {
        headerText = header.dump();
    } catch (const nlohmann::json::exception& error) {
        throw Error(path, "cannot write header: " + jsonErrorText(error));
    }
    headerText.append((8 - headerText.size() % 8) % 8, ' ');

    writeFileAtomically(path, [&](std::ostream& out) {
        std::uint8_t length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = static_cast<std::uint8_t>(headerText.size() >> (8 * i));
        out.write(reinterpret_cast<const char*>(length), sizeof length);
        out.write(headerText.data(), static_cast<std::streamsize>(headerText.size()));
        for (const TensorData* tensor : order) {
            out.write(reinterpret_cast<const char*>(tensor->bytes.data()),
                      static_cast<std::streamsize>(tensor->bytes.size()));
        }
    });
}

std::vector<float> toFloatVector(const TensorView& tensor) {
    std::vector<float> out;
    out.reserve(tensor.byteSize / dtypeSize(tensor.dtype));
    switch (tensor.dtype) {
        case DType::F32:
            appendConverted<float>(tensor, out);
            break;
        case DType::F64:
            appendConverted<double>(tensor, out);
            break;
        case DType::I64:
            appendConverted<std::int64_t>(tensor, out);
            break;
        case DType::I32:
            appendConverted<std::int32_t>(tensor, out);
            break;
        case DType::U8:
            appendConverted<std::uint8_t>(tensor, out);
            break;
        case DType::Bool:
            for (std::size_t i = 0; i < tensor.byteSize; ++i)
                out.push_back(tensor.data[i] ? 1.0f : 0.0f);
            break;
        case DType::F16:
        case DType::BF16:
            for (std::size_t offset = 0; offset < tensor.byteSize; offset += 2) {
                std::uint16_t bits = 0;
                std::memcpy(&bits, tensor.data + offset, 2);
                out.push_back(tensor.dtype == DType::F16 ? halfToFloat(bits)
                                                         : bfloat16ToFloat(bits));
            }
            break;
    }
    return out;
}

float halfToFloat(std::uint16_t half) {
    const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
    const std::uint32_t exponent = (half >> 10) & 0x1Fu;
    std::uint32_t mantissa = half & 0x3FFu;
    if (exponent == 0x1F) return floatFromBits(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN
    if (exponent != 0) return floatFromBits(sign | ((exponent + 112) << 23) | (mantissa << 13));
    if (mantissa == 0) return floatFromBits(sign);  // signed zero
    // Subnormal half: renormalize, since every half subnormal is a normal float.
    std::uint32_t floatExponent = 113;  // 2^-14 biased for float, before the shifts below
    while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        --floatExponent;
    }
    return floatFromBits(sign | (floatExponent << 23) | ((mantissa & 0x3FFu) << 13));
}

std::uint16_t floatToHalf(float value) {
    const std::uint32_t bits = bitsOf(value);
    const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
    const std::uint32_t magnitude = bits & 0x7FFFFFFFu;
    if (magnitude >= 0x7F800000u) {  // inf, or NaN with its payload's top bits kept and made quiet
        if (magnitude == 0x7F800000u) return sign | 0x7C00u;
        return static_cast<std::uint16_t>(sign | 0x7E00u | ((magnitude >> 13) & 0x3FFu));
    }
    if (magnitude >= 0x38800000u) {  // normal half range (>= 2^-14), rounding may overflow to inf
        const std::uint32_t rebiased = magnitude - (112u << 23);
        const std::uint32_t rounded = shiftRightRoundingToEven(rebiased, 13);
        return static_cast<std::uint16_t>(sign | std::min<std::uint32_t>(rounded, 0x7C00u));
    }
    if (magnitude <= 0x33000000u) return sign;  // at most half the smallest subnormal: ties to 0
    // Subnormal half: the result counts units of 2^-24.
    const std::uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t exponent = magnitude >> 23;  // biased, 102..112 here
    return static_cast<std::uint16_t>(sign | shiftRightRoundingToEven(significand, 126 - exponent));
}

float bfloat16ToFloat(std::uint16_t bfloat16) {
    return floatFromBits(static_cast<std::uint32_t>(bfloat16) << 16);
}

std::uint16_t floatToBfloat16(float value) {
    const std::uint32_t bits = bitsOf(value);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
        return static_cast<std::uint16_t>((bits >> 16) | 0x40u);  // NaN stays NaN, made quiet
    }
    return static_cast<std::uint16_t>(shiftRightRoundingToEven(bits, 16));  // may round to inf
}

}  // namespace fovea
