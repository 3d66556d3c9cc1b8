// The .npz half of npy.h: a ZIP archive of .npy members, stored or deflated (zlib).
#include "core/io/npy.h"

#include "core/io/npy_detail.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>

#define ZLIB_CONST  // makes z_stream::next_in a pointer to const
#include <zlib.h>

#include "core/io/json_file.h"
#include "core/util/error.h"

namespace fovea {

using npy_detail::appendLittleEndian;
using npy_detail::checkConsistent;
using npy_detail::readLittleEndian;

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
