#include "core/io/image_io.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace fovea {
namespace {

namespace fs = std::filesystem;

std::uint32_t readBigEndian32(const std::vector<std::uint8_t>& bytes, std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}

std::uint32_t readBigEndian16(const std::vector<std::uint8_t>& bytes, std::size_t at) {
    return (std::uint32_t{bytes[at]} << 8) | std::uint32_t{bytes[at + 1]};
}

std::uint32_t readLittleEndian32(const std::vector<std::uint8_t>& bytes, std::size_t at) {
    return std::uint32_t{bytes[at]} | (std::uint32_t{bytes[at + 1]} << 8) |
           (std::uint32_t{bytes[at + 2]} << 16) | (std::uint32_t{bytes[at + 3]} << 24);
}

bool startsWith(const std::vector<std::uint8_t>& bytes, const char* magic, std::size_t length) {
    return bytes.size() >= length && std::memcmp(bytes.data(), magic, length) == 0;
}

ImageDimensions checkedDimensions(std::int64_t width, std::int64_t height, const std::string& name,
                                  const char* format) {
    if (width <= 0 || height <= 0 || width > INT32_MAX || height > INT32_MAX) {
        throw Error(name, std::string("corrupt ") + format + " header: image size " +
                              std::to_string(width) + "x" + std::to_string(height));
    }
    return {static_cast<int>(width), static_cast<int>(height)};
}

ImageDimensions pngDimensions(const std::vector<std::uint8_t>& bytes, const std::string& name) {
    // Signature (8), then the IHDR chunk: length (4) = 13, "IHDR", width (4), height (4), ...
    if (bytes.size() < 33 || readBigEndian32(bytes, 8) != 13 ||
        std::memcmp(bytes.data() + 12, "IHDR", 4) != 0) {
        throw Error(name, "corrupt PNG: the file does not start with an IHDR chunk");
    }
    const ImageDimensions size =
        checkedDimensions(readBigEndian32(bytes, 16), readBigEndian32(bytes, 20), name, "PNG");
    // Walk the chunks: libpng may return a partial image for a file cut short, so a missing IEND
    // is the reliable sign of truncation.
    std::size_t at = 8;
    while (at + 12 <= bytes.size()) {
        const std::size_t length = readBigEndian32(bytes, at);
        if (length > bytes.size() - at - 12) break;
        if (std::memcmp(bytes.data() + at + 4, "IEND", 4) == 0) return size;
        at += 12 + length;
    }
    throw Error(name, "truncated PNG: the data ends before the IEND chunk");
}

bool isJpegFrameMarker(std::uint8_t marker) {
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but not.
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

std::optional<ImageDimensions> jpegDimensions(const std::vector<std::uint8_t>& bytes,
                                              const std::string& name) {
    std::size_t at = 2;
    while (true) {
        if (at >= bytes.size()) throw Error(name, "truncated JPEG: no frame header");
        if (bytes[at] != 0xFF) {
            throw Error(name, "corrupt JPEG: expected a marker at byte " + std::to_string(at));
        }
        while (at < bytes.size() && bytes[at] == 0xFF) ++at;  // fill bytes
        if (at >= bytes.size()) throw Error(name, "truncated JPEG: no frame header");
        const std::uint8_t marker = bytes[at++];
        if (marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) continue;
        if (marker == 0xD9 || marker == 0xDA) {
            throw Error(name, "corrupt JPEG: image data before the frame header");
        }
        if (at + 2 > bytes.size()) throw Error(name, "truncated JPEG: no frame header");
        const std::size_t length = readBigEndian16(bytes, at);
        if (length < 2 || at + length > bytes.size()) {
            throw Error(name, "truncated JPEG: segment at byte " + std::to_string(at) +
                                  " runs past the end of the file");
        }
        if (isJpegFrameMarker(marker)) {
            if (length < 7) throw Error(name, "corrupt JPEG: frame header too short");
            const std::uint32_t height = readBigEndian16(bytes, at + 3);
            const std::uint32_t width = readBigEndian16(bytes, at + 5);
            // The entropy-coded data stuffs every 0xFF with 0x00, so FF D9 after the frame header
            // can only be the end-of-image marker; without it the file was cut short.
            const std::uint8_t endMarker[2] = {0xFF, 0xD9};
            const auto dataStart = bytes.begin() + static_cast<std::ptrdiff_t>(at + length);
            if (std::search(dataStart, bytes.end(), endMarker, endMarker + 2) == bytes.end()) {
                throw Error(name, "truncated JPEG: no end-of-image marker");
            }
            // Height 0 means "given later by a DNL marker": leave the check to the decoder.
            if (height == 0) return std::nullopt;
            return checkedDimensions(width, height, name, "JPEG");
        }
        at += length;
    }
}

ImageDimensions bmpDimensions(const std::vector<std::uint8_t>& bytes, const std::string& name) {
    if (bytes.size() < 26) throw Error(name, "truncated BMP header");
    const std::uint32_t headerSize = readLittleEndian32(bytes, 14);
    if (headerSize == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit unsigned sizes
        return checkedDimensions(bytes[18] | (bytes[19] << 8), bytes[20] | (bytes[21] << 8), name,
                                 "BMP");
    }
    if (bytes.size() < 34) throw Error(name, "truncated BMP header");
    const auto width = static_cast<std::int32_t>(readLittleEndian32(bytes, 18));
    const auto height = static_cast<std::int32_t>(readLittleEndian32(bytes, 22));
    // A negative height marks a top-down bitmap.
    const ImageDimensions size =
        checkedDimensions(width, std::abs(static_cast<std::int64_t>(height)), name, "BMP");
    // Uncompressed rows (BI_RGB, BI_BITFIELDS) have a known length; OpenCV would otherwise
    // return a partly filled image for a cut-off file.
    const std::uint32_t bitsPerPixel = bytes[28] | (bytes[29] << 8);
    const std::uint32_t compression = readLittleEndian32(bytes, 30);
    if (compression == 0 || compression == 3) {
        const std::uint64_t rowBytes = (std::uint64_t{bitsPerPixel} * size.width + 31) / 32 * 4;
        const std::uint64_t end = readLittleEndian32(bytes, 10) + rowBytes * size.height;
        if (end > bytes.size()) {
            throw Error(name, "truncated BMP: " + std::to_string(bytes.size()) +
                                  " bytes, the pixel data needs " + std::to_string(end));
        }
    }
    return size;
}

std::vector<std::uint8_t> readFileBytes(const std::string& path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (!fs::exists(status)) throw Error(path, "no such file");
    if (fs::is_directory(status)) throw Error(path, "is a directory, not an image file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path, "cannot open the file for reading");
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (in.bad()) throw Error(path, "read error");
    return bytes;
}

cv::Mat toBgr8(const cv::Mat& decoded, const std::string& name) {
    cv::Mat eightBit;
    switch (decoded.depth()) {
        case CV_8U: eightBit = decoded; break;
        case CV_16U: decoded.convertTo(eightBit, CV_8U, 1.0 / 257.0); break;
        case CV_32F: decoded.convertTo(eightBit, CV_8U, 255.0); break;  // HDR/EXR: 0..1 assumed
        default:
            throw Error(name, "unsupported pixel type " + cv::typeToString(decoded.type()));
    }
    cv::Mat bgr;
    switch (eightBit.channels()) {
        case 1: cv::cvtColor(eightBit, bgr, cv::COLOR_GRAY2BGR); break;
        case 2: {  // grey + alpha
            cv::Mat grey;
            cv::extractChannel(eightBit, grey, 0);
            cv::cvtColor(grey, bgr, cv::COLOR_GRAY2BGR);
            break;
        }
        case 3: bgr = eightBit; break;
        case 4: cv::cvtColor(eightBit, bgr, cv::COLOR_BGRA2BGR); break;
        default:
            throw Error(name, "unsupported channel count " + std::to_string(eightBit.channels()));
    }
    return bgr;
}

void checkPixelLimit(const ImageDimensions& size, std::int64_t maxPixels, const std::string& name) {
    const std::int64_t pixels = std::int64_t{size.width} * size.height;
    if (pixels > maxPixels) {
        throw Error(name, "image is " + std::to_string(size.width) + "x" +
                              std::to_string(size.height) + " (" + std::to_string(pixels) +
                              " pixels), above the limit of " + std::to_string(maxPixels));
    }
}

std::string lowerCaseExtension(const std::string& path) {
    std::string extension = fs::path(path).extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension;
}

}  // namespace

std::optional<ImageDimensions> readImageDimensions(const std::vector<std::uint8_t>& bytes,
                                                   const std::string& name) {
    if (startsWith(bytes, "\x89PNG\r\n\x1a\n", 8)) return pngDimensions(bytes, name);
    if (startsWith(bytes, "\xFF\xD8\xFF", 3)) return jpegDimensions(bytes, name);
    if (startsWith(bytes, "BM", 2)) return bmpDimensions(bytes, name);
    return std::nullopt;
}

namespace {

// The decoded pixels as stored (any depth, alpha kept), with the pixel limit checked.
cv::Mat decodeUnchanged(const std::vector<std::uint8_t>& bytes, const std::string& name, std::int64_t maxPixels) {
    if (bytes.empty()) throw Error(name, "empty file, not an image");
    const std::optional<ImageDimensions> headerSize = readImageDimensions(bytes, name);
    if (headerSize) checkPixelLimit(*headerSize, maxPixels, name);

    cv::Mat decoded;
    try {
        // IMREAD_UNCHANGED keeps 16-bit data and alpha for toBgr8 and skips EXIF rotation.
        const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8U,
                              const_cast<std::uint8_t*>(bytes.data()));
        decoded = cv::imdecode(encoded, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& exception) {
        throw Error(name, "cannot decode the image: " + exception.msg);
    }
    if (decoded.empty()) {
        throw Error(name, headerSize ? "corrupt image data (the decoder failed)"
                                     : "not an image (unknown format or corrupt data)");
    }
    if (!headerSize) checkPixelLimit({decoded.cols, decoded.rows}, maxPixels, name);
    return decoded;
}

}  // namespace

cv::Mat decodeImage(const std::vector<std::uint8_t>& bytes, const std::string& name,
                    std::int64_t maxPixels) {
    return toBgr8(decodeUnchanged(bytes, name, maxPixels), name);
}

cv::Mat readImage(const std::string& path, std::int64_t maxPixels) {
    return decodeImage(readFileBytes(path), path, maxPixels);
}

cv::Mat readMask(const std::string& path, std::int64_t maxPixels) {
    const cv::Mat decoded = decodeUnchanged(readFileBytes(path), path, maxPixels);
    // Colour channels only: grey + alpha has grey first, BGRA has alpha last.
    const int colours = decoded.channels() == 2 ? 1 : std::min(decoded.channels(), 3);
    cv::Mat mask = cv::Mat::zeros(decoded.size(), CV_8UC1);
    for (int c = 0; c < colours; ++c) {
        cv::Mat channel;
        cv::extractChannel(decoded, channel, c);
        mask.setTo(255, channel != 0);
    }
    return mask;
}

void writeImage(const std::string& path, const cv::Mat& image) {
    if (image.empty()) throw Error(path, "cannot write an empty image");
    const std::string extension = lowerCaseExtension(path);
    if (extension.empty()) throw Error(path, "no file extension to choose the image format by");
    if (!cv::haveImageWriter("image" + extension)) {
        throw Error(path, "cannot write images of type '" + extension + "'");
    }
    std::vector<std::uint8_t> encoded;
    try {
        if (!cv::imencode(extension, image, encoded)) {
            throw Error(path, "could not encode the image as " + extension);
        }
    } catch (const cv::Exception& exception) {
        throw Error(path, "could not encode the image: " + exception.msg);
    }

    const fs::path target(path);
    const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code error;
    if (!fs::is_directory(directory, error)) {
        throw Error(path, "directory '" + directory.string() + "' does not exist");
    }
    // A unique name per call, so concurrent writers of the same target never share a temp file.
    static std::atomic<unsigned> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    const fs::path temporary =
        directory / ("." + target.filename().string() + ".tmp-" + std::to_string(stamp) + "-" +
                     std::to_string(counter.fetch_add(1)));
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) throw Error(path, "cannot create a file in '" + directory.string() + "'");
        out.write(reinterpret_cast<const char*>(encoded.data()),
                  static_cast<std::streamsize>(encoded.size()));
        out.close();
        if (!out) {
            fs::remove(temporary, error);
            throw Error(path, "write failed (disk full?)");
        }
    }
    fs::rename(temporary, target, error);
    if (error) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw Error(path, "cannot replace the file: " + error.message());
    }
}

}  // namespace fovea
