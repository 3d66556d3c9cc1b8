// Reading and writing .safetensors files (the Hugging Face weight format), plus the float16 and
// bfloat16 conversions the rest of Fovea uses.
//
// The reader memory-maps the file and validates the whole header up front, so a hostile or
// damaged file fails in open() with one clear message instead of crashing later:
//
//     fovea::SafetensorsFile weights = fovea::SafetensorsFile::open("model.safetensors");
//     const fovea::TensorView& positions = weights.at("pos_embed");   // shape [1, 17, 48]
//     std::vector<float> values = fovea::toFloatVector(positions);
//
//     fovea::writeSafetensors("out.safetensors",
//                             {{"bias", fovea::DType::F32, {2}, bytesOfTwoFloats}},
//                             {{"format", "pt"}});
//
// Layout: 8-byte little-endian header length N, N bytes of JSON header, then the data buffer;
// each tensor's "data_offsets" are relative to the start of that buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fovea {

enum class DType { F32, F16, BF16, F64, I64, I32, U8, Bool };

// Bytes per element.
std::size_t dtypeSize(DType dtype);
// The name safetensors uses in its header: "F32", "F16", "BF16", "F64", "I64", "I32", "U8",
// "BOOL".
const char* dtypeName(DType dtype);
// The inverse of dtypeName; std::nullopt for names Fovea does not support.
std::optional<DType> dtypeFromName(const std::string& name);

// One tensor inside a mapped file. `data` points into the mapping and lives as long as the
// SafetensorsFile. It is aligned for the element type in files written by writeSafetensors and
// by the reference implementation, but a foreign file may misalign it: read elements with
// std::memcpy (toFloatVector does).
struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    const std::uint8_t* data = nullptr;
    std::size_t byteSize = 0;

    // Product of the shape; 1 for a 0-d tensor.
    std::int64_t elementCount() const;
};

// A read-only memory-mapped .safetensors file. Movable, not copyable; unmaps on destruction.
class SafetensorsFile {
  public:
    // Throws fovea::Error naming the file (and the tensor) for anything wrong with it.
    static SafetensorsFile open(const std::string& path);

    SafetensorsFile(SafetensorsFile&& other) noexcept;
    SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;
    ~SafetensorsFile();

    const std::string& path() const { return m_path; }
    // Ordered by their position in the data buffer, which is the order they were written in.
    const std::vector<TensorView>& tensors() const { return m_tensors; }
    // nullptr if there is no tensor of that name.
    const TensorView* find(const std::string& name) const;
    // Throws fovea::Error naming the file and the tensor if there is no tensor of that name.
    const TensorView& at(const std::string& name) const;
    // The "__metadata__" entry; empty if the file has none.
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }

  private:
    SafetensorsFile() = default;
    void unmap() noexcept;

    std::string m_path;
    void* m_mapping = nullptr;
    std::size_t m_mappingSize = 0;
    std::vector<TensorView> m_tensors;
    std::map<std::string, std::size_t> m_indexByName;
    std::map<std::string, std::string> m_metadata;
};

// A tensor to be written; `bytes` holds the elements in C order, little-endian.
struct TensorData {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;
};

// Writes the header with keys sorted and padded with spaces to a multiple of 8 bytes, as the
// reference implementation does, then the data with larger element types first so that every
// tensor is aligned for its type when the file is mapped. Atomic (temporary file + rename).
// Throws fovea::Error on duplicate or reserved names and on bytes that do not match the shape.
void writeSafetensors(const std::string& path, const std::vector<TensorData>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// All elements converted to float: exact for F32/F16/BF16 and integers up to 2^24, rounded for
// F64 and larger integers; BOOL gives 0 or 1.
std::vector<float> toFloatVector(const TensorView& tensor);

// IEEE 754 binary16 <-> binary32, including subnormals, infinities and NaN (the payload's top
// bits are kept). floatToHalf rounds to nearest, ties to even, and overflows to infinity.
float halfToFloat(std::uint16_t half);
std::uint16_t floatToHalf(float value);

// bfloat16 (the upper half of a binary32) <-> binary32; floatToBfloat16 rounds to nearest,
// ties to even, and keeps NaN a NaN.
float bfloat16ToFloat(std::uint16_t bfloat16);
std::uint16_t floatToBfloat16(float value);

}  // namespace fovea
