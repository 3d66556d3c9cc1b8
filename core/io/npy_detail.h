// Internal to core/io: the byte helpers npy.cpp and npz.cpp share.
#pragma once

#include "core/io/npy.h"

#include <cstdint>
#include <string>

namespace fovea::npy_detail {

std::uint64_t readLittleEndian(const std::uint8_t* bytes, int count);
void appendLittleEndian(std::string& out, std::uint64_t value, int count);
// Throws Error naming `subject` when the array's bytes do not match its shape and dtype.
void checkConsistent(const std::string& subject, const NpyArray& array);

}  // namespace fovea::npy_detail
