// Reading and writing image files with clear, one-line errors.
//
// readImage always returns 8-bit 3-channel BGR (grey is expanded, alpha dropped, 16-bit scaled
// down) and refuses images above a pixel limit before decoding them, so a hostile 60000x60000 PNG
// cannot exhaust memory. writeImage replaces the target atomically.
//
//     cv::Mat bgr = fovea::readImage("cat.jpg");          // throws fovea::Error on any problem
//     cv::Mat object = fovea::readMask("cat_mask.png");   // 255 where non-zero
//     fovea::writeImage("out/heatmap.png", figure);        // temp file + rename
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace fovea {

inline constexpr std::int64_t kDefaultMaxImagePixels = 100'000'000;

struct ImageDimensions {
    int width = 0;
    int height = 0;
};

// Width and height read from a PNG (IHDR), JPEG (SOF) or BMP header without decoding; nullopt
// for other formats. Throws fovea::Error naming `name` when the header of a recognised format is
// corrupt or the data is truncated (no PNG IEND chunk, no JPEG end-of-image marker).
std::optional<ImageDimensions> readImageDimensions(const std::vector<std::uint8_t>& bytes,
                                                   const std::string& name);

// Decodes an encoded image held in memory (`name` is only used in error messages).
cv::Mat decodeImage(const std::vector<std::uint8_t>& bytes, const std::string& name,
                    std::int64_t maxPixels = kDefaultMaxImagePixels);

// Reads an image file as 8-bit BGR. EXIF orientation is ignored on purpose: PIL, and therefore
// timm and Hugging Face, do not apply it either, and the model must see the same pixels.
// Throws fovea::Error for a missing or unreadable file, data that is not a decodable image, a
// corrupt or truncated file, and images with more than `maxPixels` pixels.
cv::Mat readImage(const std::string& path, std::int64_t maxPixels = kDefaultMaxImagePixels);

// Reads a mask image: 255 where any colour channel is non-zero (at any bit depth, so 16-bit label
// images keep small labels; alpha is ignored), 0 elsewhere; CV_8UC1. Errors as readImage.
cv::Mat readMask(const std::string& path, std::int64_t maxPixels = kDefaultMaxImagePixels);

// Writes `image` in the format named by the extension (.png, .jpg, .bmp, ...) via a temporary
// file in the same directory and a rename, so readers never see a half-written file.
// Throws fovea::Error for an empty image, an unknown extension or an unwritable directory.
void writeImage(const std::string& path, const cv::Mat& image);

}  // namespace fovea
