// Reading and writing NumPy .npy arrays and .npz archives, the exchange format for reference
// outputs (logits, attention maps) and exported results.
//
//     fovea::NpyArray logits = fovea::readNpy("expected_logits.npy");   // dtype "<f4", [1, 5]
//     std::vector<float> values = logits.toFloats();
//
//     fovea::writeNpz("run.npz", {{"attention", fovea::NpyArray::fromFloats({3, 17, 17}, maps)},
//                                 {"label", fovea::NpyArray::fromString("cat")}});
//     for (const auto& [name, array] : fovea::readNpz("run.npz")) { ... }
//
// Supported: format versions 1.0, 2.0 and 3.0, C order (1-d Fortran order too, which is the
// same layout), little-endian dtypes <f2 <f4 <f8, |i1 <i2 <i4 <i8, |u1 <u2 <u4 <u8, |b1 and
// unicode <Un. .npz archives are read with STORED or DEFLATE members (np.savez,
// np.savez_compressed) and written STORED. Malformed input throws fovea::Error naming the file,
// the archive member and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fovea {

struct NpyArray {
    std::string dtype = "<f4";  // numpy descr
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;  // C-order element data, little-endian

    // Product of the shape; 1 for a 0-d array.
    std::int64_t elementCount() const;
    // Bytes per element of `dtype`; throws fovea::Error if the dtype is not supported.
    std::size_t itemSize() const;

    // Each throws fovea::Error if the number of values does not match the shape.
    static NpyArray fromFloats(std::vector<std::int64_t> shape, const std::vector<float>& values);
    static NpyArray fromInt64s(std::vector<std::int64_t> shape,
                               const std::vector<std::int64_t>& values);
    // A 0-d '<Un' array holding `utf8`, as np.array("...") gives.
    static NpyArray fromString(const std::string& utf8);
    // An '<Un' array with n the longest string's length in code points.
    static NpyArray fromStrings(std::vector<std::int64_t> shape,
                                const std::vector<std::string>& utf8);

    // From float, integer and bool arrays; throws fovea::Error on strings.
    std::vector<float> toFloats() const;
    // From integer and bool arrays; throws fovea::Error on floats and strings.
    std::vector<std::int64_t> toInt64s() const;
    // The one string of a '<Un' array with one element, as UTF-8 without trailing NULs.
    std::string toString() const;
    // Every string of a '<Un' array, in C order.
    std::vector<std::string> toStrings() const;
};

NpyArray readNpy(const std::string& path);
// Atomic (temporary file + rename). Throws fovea::Error if the array is inconsistent (bytes do
// not match shape x dtype, unsupported dtype).
void writeNpy(const std::string& path, const NpyArray& array);

// Arrays in archive order, named without the ".npy" suffix as np.load names them.
std::vector<std::pair<std::string, NpyArray>> readNpz(const std::string& path);
// Atomic; members are "<name>.npy", uncompressed. Throws fovea::Error on duplicate names and on
// archives of 4 GiB or more (ZIP64 is not written).
void writeNpz(const std::string& path, const std::vector<std::pair<std::string, NpyArray>>& arrays);

// The .npy file image of `array`, and the array in a .npy image; `subject` names the source in
// error messages ("run.npz: member 'attention.npy'").
std::string serializeNpy(const std::string& subject, const NpyArray& array);
NpyArray parseNpy(const std::string& subject, const std::uint8_t* data, std::size_t size);

}  // namespace fovea
