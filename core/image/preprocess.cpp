#include "core/image/preprocess.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "core/util/error.h"

namespace fovea {
namespace {

// ---- Pillow's resampler (libImaging/Resample.c): separable, horizontal pass first, 8-bit
// intermediate, weights normalised in double and then quantised to 22-bit fixed point.

constexpr int kWeightBits = 22;  // 32 - 8 - 2: an 8-bit pixel times a weight stays in 32 bits

double triangleKernel(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

// Keys' cubic convolution kernel with a = -0.5 (Pillow's choice; OpenCV uses -0.75).
double cubicKernel(double x) {
    constexpr double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

struct AxisWeights {
    int taps = 0;                  // weights per output sample
    std::vector<int> first;        // first input index per output sample
    std::vector<int> count;        // used inputs per output sample
    std::vector<std::int64_t> weights;  // taps per output sample, fixed point
};

AxisWeights axisWeights(int inSize, int outSize, Interpolation interpolation) {
    const bool cubic = interpolation == Interpolation::Bicubic;
    const double scale = static_cast<double>(inSize) / outSize;
    // Shrinking widens the kernel by the scale factor: that is the anti-aliasing.
    const double kernelScale = std::max(scale, 1.0);
    const double support = (cubic ? 2.0 : 1.0) * kernelScale;
    AxisWeights axis;
    axis.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
    axis.first.resize(outSize);
    axis.count.resize(outSize);
    axis.weights.assign(static_cast<std::size_t>(outSize) * axis.taps, 0);
    std::vector<double> raw(axis.taps);
    for (int out = 0; out < outSize; ++out) {
        const double center = (out + 0.5) * scale;
        const int first = std::max(static_cast<int>(center - support + 0.5), 0);
        const int last = std::min(static_cast<int>(center + support + 0.5), inSize);
        const int count = last - first;
        const double inverseKernelScale = 1.0 / kernelScale;
        double sum = 0.0;
        for (int i = 0; i < count; ++i) {
            const double t = (i + first - center + 0.5) * inverseKernelScale;
            raw[i] = cubic ? cubicKernel(t) : triangleKernel(t);
            sum += raw[i];
        }
        std::int64_t* weights = &axis.weights[static_cast<std::size_t>(out) * axis.taps];
        for (int i = 0; i < count; ++i) {
            const double w = (sum != 0.0 ? raw[i] / sum : raw[i]) * (1 << kWeightBits);
            weights[i] = static_cast<std::int64_t>(w < 0 ? w - 0.5 : w + 0.5);  // to nearest
        }
        axis.first[out] = first;
        axis.count[out] = count;
    }
    return axis;
}

std::uint8_t clampShift(std::int64_t sum) {
    if (sum <= 0) return 0;
    if (sum >= (std::int64_t{255} << kWeightBits)) return 255;
    return static_cast<std::uint8_t>(sum >> kWeightBits);
}

// One pass along x (horizontal) or y; `image` is 8-bit with any channel count.
cv::Mat resamplePass(const cv::Mat& image, int outSize, bool horizontal,
                     Interpolation interpolation) {
    const int channels = image.channels();
    const int inSize = horizontal ? image.cols : image.rows;
    const AxisWeights axis = axisWeights(inSize, outSize, interpolation);
    cv::Mat out = horizontal ? cv::Mat(image.rows, outSize, image.type())
                             : cv::Mat(outSize, image.cols, image.type());
    for (int row = 0; row < out.rows; ++row) {
        std::uint8_t* target = out.ptr<std::uint8_t>(row);
        for (int col = 0; col < out.cols; ++col) {
            const int sample = horizontal ? col : row;
            const std::int64_t* weights =
                &axis.weights[static_cast<std::size_t>(sample) * axis.taps];
            for (int c = 0; c < channels; ++c) {
                std::int64_t sum = std::int64_t{1} << (kWeightBits - 1);  // rounds the shift
                for (int i = 0; i < axis.count[sample]; ++i) {
                    const int at = axis.first[sample] + i;
                    const std::uint8_t value = horizontal
                                                   ? image.ptr<std::uint8_t>(row)[at * channels + c]
                                                   : image.ptr<std::uint8_t>(at)[col * channels + c];
                    sum += value * weights[i];
                }
                target[col * channels + c] = clampShift(sum);
            }
        }
    }
    return out;
}

// Pillow's nearest neighbour walks the source positions by repeated addition of the scale,
// starting half a step in; the same accumulation gives the same picks at ties.
std::vector<int> nearestIndices(int inSize, int outSize) {
    const double step = static_cast<double>(inSize) / outSize;
    std::vector<int> indices(outSize);
    double position = step * 0.5;
    for (int out = 0; out < outSize; ++out) {
        indices[out] = std::clamp(static_cast<int>(position), 0, inSize - 1);
        position += step;
    }
    return indices;
}

cv::Mat resizeNearest(const cv::Mat& image, cv::Size size) {
    const std::vector<int> columns = nearestIndices(image.cols, size.width);
    const std::vector<int> rows = nearestIndices(image.rows, size.height);
    const std::size_t pixelBytes = image.elemSize();
    cv::Mat out(size, image.type());
    for (int row = 0; row < size.height; ++row) {
        const std::uint8_t* source = image.ptr<std::uint8_t>(rows[row]);
        std::uint8_t* target = out.ptr<std::uint8_t>(row);
        for (int col = 0; col < size.width; ++col) {
            std::copy_n(source + columns[col] * pixelBytes, pixelBytes, target + col * pixelBytes);
        }
    }
    return out;
}

// Python's round(): halves go to the even neighbour.
int roundHalfToEven(double value) {
    const double floor = std::floor(value);
    const double fraction = value - floor;
    if (fraction > 0.5) return static_cast<int>(floor) + 1;
    if (fraction < 0.5) return static_cast<int>(floor);
    const int low = static_cast<int>(floor);
    return (low % 2 == 0) ? low : low + 1;
}

int floorDivideByTwo(int value) {
    return value >= 0 ? value / 2 : -((-value + 1) / 2);
}

// Offset of the crop window inside an axis of `size` pixels.
int cropStart(int size, int crop, CropRounding rounding) {
    const int margin = size - crop;
    if (rounding == CropRounding::Floor) return floorDivideByTwo(margin);
    // torchvision pads a too-small axis by (crop - size) // 2 on the leading side, then crops at 0.
    if (margin < 0) return -((-margin) / 2);
    return roundHalfToEven(margin / 2.0);
}

// ---- Reading configuration files.

using nlohmann::json;

const json* findField(const json& config, const char* key) {
    const auto it = config.find(key);
    return (it == config.end() || it->is_null()) ? nullptr : &*it;
}

double numberField(const json& config, const char* key, double fallback, const char* subject) {
    const json* field = findField(config, key);
    if (field == nullptr) return fallback;
    if (!field->is_number()) throw Error(subject, std::string(key) + " must be a number");
    return field->get<double>();
}

bool boolField(const json& config, const char* key, bool fallback, const char* subject) {
    const json* field = findField(config, key);
    if (field == nullptr) return fallback;
    if (!field->is_boolean()) throw Error(subject, std::string(key) + " must be true or false");
    return field->get<bool>();
}

std::string stringField(const json& config, const char* key, const std::string& fallback,
                        const char* subject) {
    const json* field = findField(config, key);
    if (field == nullptr) return fallback;
    if (!field->is_string()) throw Error(subject, std::string(key) + " must be a string");
    const std::string value = field->get<std::string>();
    return value.empty() ? fallback : value;
}

int positiveInt(const json& value, const std::string& what, const char* subject) {
    if (!value.is_number_integer() || value.get<std::int64_t>() <= 0 ||
        value.get<std::int64_t>() > 1'000'000) {
        throw Error(subject, what + " must be a positive integer, got " + value.dump());
    }
    return value.get<int>();
}

std::array<float, 3> tripleField(const json& config, const char* key,
                                 const std::array<float, 3>& fallback, const char* subject) {
    const json* field = findField(config, key);
    if (field == nullptr) return fallback;
    if (!field->is_array() || field->size() != 3) {
        throw Error(subject, std::string(key) + " must be a list of 3 numbers, got " + field->dump());
    }
    std::array<float, 3> values{};
    for (int c = 0; c < 3; ++c) {
        if (!(*field)[c].is_number()) {
            throw Error(subject, std::string(key) + " must be a list of 3 numbers, got " +
                                     field->dump());
        }
        values[c] = (*field)[c].get<float>();
    }
    return values;
}

// A {height, width} object, a {shortest_edge} object or a plain number (Hugging Face sizes).
struct HfSize {
    int height = 0, width = 0, shortestEdge = 0;
};

HfSize hfSizeField(const json& config, const char* key, bool numberIsShortestEdge,
                   const char* subject) {
    HfSize size;
    const json* field = findField(config, key);
    if (field == nullptr) return size;
    if (field->is_number()) {
        const int value = positiveInt(*field, key, subject);
        if (numberIsShortestEdge) {
            size.shortestEdge = value;
        } else {
            size.height = size.width = value;
        }
        return size;
    }
    if (!field->is_object()) throw Error(subject, std::string(key) + " must be an object");
    if (field->contains("longest_edge")) {
        throw Error(subject, std::string(key) + ".longest_edge is not supported");
    }
    if (field->contains("shortest_edge")) {
        size.shortestEdge = positiveInt(field->at("shortest_edge"), "shortest_edge", subject);
    } else if (field->contains("height") && field->contains("width")) {
        size.height = positiveInt(field->at("height"), std::string(key) + ".height", subject);
        size.width = positiveInt(field->at("width"), std::string(key) + ".width", subject);
    } else {
        throw Error(subject, std::string(key) + " needs height and width or shortest_edge, got " +
                                 field->dump());
    }
    return size;
}

Interpolation parseInterpolationName(const std::string& name, const char* subject) {
    if (name == "nearest") return Interpolation::Nearest;
    if (name == "bilinear") return Interpolation::Bilinear;
    if (name == "bicubic") return Interpolation::Bicubic;
    throw Error(subject, "interpolation '" + name + "' is not supported (nearest, bilinear, bicubic)");
}

std::string formatNumber(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

std::string formatTriple(const std::array<float, 3>& values) {
    return "[" + formatNumber(values[0]) + ", " + formatNumber(values[1]) + ", " +
           formatNumber(values[2]) + "]";
}

}  // namespace

std::string interpolationName(Interpolation interpolation) {
    switch (interpolation) {
        case Interpolation::Nearest: return "nearest";
        case Interpolation::Bilinear: return "bilinear";
        case Interpolation::Bicubic: return "bicubic";
    }
    return "unknown";
}

cv::Mat resizeImage(const cv::Mat& image, cv::Size size, Interpolation interpolation) {
    if (image.empty() || image.depth() != CV_8U) {
        throw Error("resizeImage", "expected a non-empty 8-bit image, got " +
                                       cv::typeToString(image.type()));
    }
    if (size.width <= 0 || size.height <= 0) {
        throw Error("resizeImage", "invalid target size " + std::to_string(size.width) + "x" +
                                       std::to_string(size.height));
    }
    if (size == image.size()) return image.clone();
    if (interpolation == Interpolation::Nearest) return resizeNearest(image, size);
    cv::Mat result = image;
    if (size.width != image.cols) result = resamplePass(result, size.width, true, interpolation);
    if (size.height != image.rows) result = resamplePass(result, size.height, false, interpolation);
    return result;
}

cv::Size Preprocessing::resizedSize(cv::Size imageSize) const {
    const int imageWidth = imageSize.width, imageHeight = imageSize.height;
    if (resizeHeight > 0 && resizeWidth > 0) {
        if (!resizeKeepAspect) return {resizeWidth, resizeHeight};
        // timm's ResizeKeepRatio: divide by the smaller of the two ratios, round like Python.
        const double ratio = std::min(static_cast<double>(imageHeight) / resizeHeight,
                                      static_cast<double>(imageWidth) / resizeWidth);
        return {roundHalfToEven(imageWidth / ratio), roundHalfToEven(imageHeight / ratio)};
    }
    if (resizeShorter > 0) {
        // torchvision and Hugging Face both truncate the longer side: int(size * long / short).
        const bool wide = imageWidth >= imageHeight;
        const int shorter = wide ? imageHeight : imageWidth;
        const int longer = wide ? imageWidth : imageHeight;
        const int newLonger =
            static_cast<int>(static_cast<double>(resizeShorter) * longer / shorter);
        return wide ? cv::Size(newLonger, resizeShorter) : cv::Size(resizeShorter, newLonger);
    }
    return imageSize;
}

cv::Rect Preprocessing::cropWindow(cv::Size resized) const {
    if (!centerCrop) return {0, 0, resized.width, resized.height};
    return {cropStart(resized.width, width, cropRounding),
            cropStart(resized.height, height, cropRounding), width, height};
}

void Preprocessing::validate() const {
    const char* subject = "preprocessing";
    if (height <= 0 || width <= 0) {
        throw Error(subject, "model input size " + std::to_string(height) + "x" +
                                 std::to_string(width) + " must be positive");
    }
    if (resizeHeight < 0 || resizeWidth < 0 || resizeShorter < 0) {
        throw Error(subject, "resize sizes must not be negative");
    }
    if ((resizeHeight > 0) != (resizeWidth > 0)) {
        throw Error(subject, "resize height and width must be given together");
    }
    if (!(rescale > 0.0) || !std::isfinite(rescale)) {
        throw Error(subject, "rescale factor " + std::to_string(rescale) + " must be positive");
    }
    for (int c = 0; c < 3; ++c) {
        if (!std::isfinite(mean[c])) throw Error(subject, "mean must be finite");
        if (!std::isfinite(std[c]) || std[c] == 0.0f) {
            throw Error(subject, "std must be finite and non-zero, got " + std::to_string(std[c]));
        }
    }
}

namespace {

// The resize and the crop, for an image or a mask.
cv::Mat resizeAndCrop(const cv::Mat& image, const Preprocessing& preprocessing, Interpolation interpolation) {
    const cv::Size resizedSize = preprocessing.resizedSize(image.size());
    const cv::Mat resized = resizeImage(image, resizedSize, interpolation);
    const cv::Rect window = preprocessing.cropWindow(resized.size());
    if (window.width != preprocessing.width || window.height != preprocessing.height) {
        throw Error("preprocessImage",
                    "resizing a " + std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                        " image gives " + std::to_string(window.width) + "x" +
                        std::to_string(window.height) + ", not the model input size " +
                        std::to_string(preprocessing.width) + "x" +
                        std::to_string(preprocessing.height) + " (and no centre crop)");
    }
    // Zero (black) outside the resized image, as both libraries pad a crop larger than the image.
    cv::Mat view = cv::Mat::zeros(window.size(), image.type());
    const cv::Rect inside = window & cv::Rect(cv::Point(0, 0), resized.size());
    if (!inside.empty()) resized(inside).copyTo(view(inside - window.tl()));
    return view;
}

}  // namespace

cv::Mat modelViewImage(const cv::Mat& bgr, const Preprocessing& preprocessing) {
    preprocessing.validate();
    if (bgr.empty() || bgr.type() != CV_8UC3) {
        throw Error("preprocessImage",
                    "expected an 8-bit 3-channel BGR image, got " + cv::typeToString(bgr.type()));
    }
    return resizeAndCrop(bgr, preprocessing, preprocessing.interpolation);
}

cv::Mat modelViewMask(const cv::Mat& mask, const Preprocessing& preprocessing) {
    preprocessing.validate();
    if (mask.empty() || mask.type() != CV_8UC1) {
        throw Error("modelViewMask", "expected an 8-bit single-channel mask, got " + cv::typeToString(mask.type()));
    }
    return resizeAndCrop(mask, preprocessing, Interpolation::Nearest);
}

std::vector<float> preprocessImage(const cv::Mat& bgr, const Preprocessing& preprocessing) {
    const cv::Mat view = modelViewImage(bgr, preprocessing);
    const int height = view.rows, width = view.cols;
    const std::size_t plane = static_cast<std::size_t>(height) * width;
    std::vector<float> tensor(3 * plane);
    for (int row = 0; row < height; ++row) {
        const cv::Vec3b* pixel = view.ptr<cv::Vec3b>(row);
        for (int col = 0; col < width; ++col) {
            for (int rgb = 0; rgb < 3; ++rgb) {
                // Hugging Face rescales in double and stores float32; timm divides in float32.
                // Both then normalise in float32. The two differ by at most one ulp.
                const auto value = static_cast<float>(pixel[col][2 - rgb] * preprocessing.rescale);
                tensor[rgb * plane + static_cast<std::size_t>(row) * width + col] =
                    (value - preprocessing.mean[rgb]) / preprocessing.std[rgb];
            }
        }
    }
    return tensor;
}

Preprocessing Preprocessing::fromTimm(const nlohmann::json& pretrainedCfg) {
    const char* subject = "timm pretrained_cfg";
    if (!pretrainedCfg.is_object()) throw Error(subject, "expected a JSON object");
    const json* nested = findField(pretrainedCfg, "pretrained_cfg");
    const json& config = (nested != nullptr && nested->is_object()) ? *nested : pretrainedCfg;

    Preprocessing result;
    result.height = result.width = 224;
    if (const json* inputSize = findField(config, "input_size")) {
        if (!inputSize->is_array() || inputSize->size() != 3) {
            throw Error(subject, "input_size must be [channels, height, width], got " +
                                     inputSize->dump());
        }
        if (positiveInt((*inputSize)[0], "input_size channels", subject) != 3) {
            throw Error(subject, "only 3-channel models are supported, input_size is " +
                                     inputSize->dump());
        }
        result.height = positiveInt((*inputSize)[1], "input_size height", subject);
        result.width = positiveInt((*inputSize)[2], "input_size width", subject);
    }
    const double cropPct = numberField(config, "crop_pct", 0.875, subject);
    if (!(cropPct > 0.0) || !std::isfinite(cropPct)) {
        throw Error(subject, "crop_pct must be positive, got " + formatNumber(cropPct));
    }
    result.interpolation =
        parseInterpolationName(stringField(config, "interpolation", "bicubic", subject), subject);
    result.mean = tripleField(config, "mean", {0.485f, 0.456f, 0.406f}, subject);
    result.std = tripleField(config, "std", {0.229f, 0.224f, 0.225f}, subject);
    result.rescale = 1.0 / 255.0;
    result.centerCrop = true;
    result.cropRounding = CropRounding::HalfToEven;

    const int scaleHeight = static_cast<int>(std::floor(result.height / cropPct));
    const int scaleWidth = static_cast<int>(std::floor(result.width / cropPct));
    const std::string cropMode = stringField(config, "crop_mode", "center", subject);
    if (cropMode == "squash") {
        result.resizeHeight = scaleHeight;
        result.resizeWidth = scaleWidth;
    } else if (cropMode == "center") {
        if (scaleHeight == scaleWidth) {
            result.resizeShorter = scaleHeight;
        } else {
            result.resizeHeight = scaleHeight;
            result.resizeWidth = scaleWidth;
            result.resizeKeepAspect = true;
            // timm builds ResizeKeepRatio here without passing the interpolation on.
            result.interpolation = Interpolation::Bilinear;
        }
    } else {
        throw Error(subject, "crop_mode '" + cropMode + "' is not supported (center, squash)");
    }
    result.validate();
    return result;
}

Preprocessing Preprocessing::fromHuggingFace(const nlohmann::json& preprocessorConfig) {
    const char* subject = "preprocessor_config";
    const json& config = preprocessorConfig;
    if (!config.is_object()) throw Error(subject, "expected a JSON object");
    const std::string type = stringField(
        config, "image_processor_type", stringField(config, "feature_extractor_type", "", subject),
        subject);
    const bool isClip = type.find("CLIP") != std::string::npos;
    const bool isConvNext = type.find("ConvNext") != std::string::npos;
    const bool isViT = type.rfind("ViT", 0) == 0;

    Preprocessing result;
    result.cropRounding = CropRounding::Floor;
    const int defaultResample = (isClip || type.find("DeiT") != std::string::npos) ? 3 : 2;
    const double resample = numberField(config, "resample", defaultResample, subject);
    if (resample == 0) {
        result.interpolation = Interpolation::Nearest;
    } else if (resample == 2) {
        result.interpolation = Interpolation::Bilinear;
    } else if (resample == 3) {
        result.interpolation = Interpolation::Bicubic;
    } else {
        throw Error(subject, "resample " + formatNumber(resample) +
                                 " is not supported (0 nearest, 2 bilinear, 3 bicubic)");
    }

    const bool doResize = boolField(config, "do_resize", true, subject);
    HfSize size = hfSizeField(config, "size", isClip || isConvNext, subject);
    if (size.height == 0 && size.shortestEdge == 0) size.height = size.width = 224;
    const bool doCrop = boolField(config, "do_center_crop", config.contains("crop_size"), subject);
    HfSize crop = hfSizeField(config, "crop_size", false, subject);
    if (crop.shortestEdge > 0) crop.height = crop.width = crop.shortestEdge;
    if (crop.height == 0) crop.height = crop.width = 224;

    if (isConvNext && doResize && size.shortestEdge > 0) {
        // ConvNextImageProcessor: below 384 resize to shortest_edge / crop_pct and crop back to
        // shortest_edge; at 384 and above warp to a square without cropping.
        const double cropPct = numberField(config, "crop_pct", 224.0 / 256.0, subject);
        if (!(cropPct > 0.0)) throw Error(subject, "crop_pct must be positive");
        result.height = result.width = size.shortestEdge;
        if (size.shortestEdge < 384) {
            result.resizeShorter = static_cast<int>(size.shortestEdge / cropPct);
            result.centerCrop = true;
        } else {
            result.resizeHeight = result.resizeWidth = size.shortestEdge;
            result.centerCrop = false;
        }
    } else {
        if (doResize && size.shortestEdge > 0) {
            result.resizeShorter = size.shortestEdge;
        } else if (doResize) {
            result.resizeHeight = size.height;
            result.resizeWidth = size.width;
        }
        result.centerCrop = doCrop;
        if (doCrop) {
            result.height = crop.height;
            result.width = crop.width;
        } else if (doResize && size.shortestEdge == 0) {
            result.height = size.height;
            result.width = size.width;
        } else {
            throw Error(subject, "no fixed model input size: neither a centre crop nor a resize to "
                                 "{height, width}");
        }
    }

    result.rescale = boolField(config, "do_rescale", true, subject)
                         ? numberField(config, "rescale_factor", 1.0 / 255.0, subject)
                         : 1.0;
    if (boolField(config, "do_normalize", true, subject)) {
        std::array<float, 3> defaultMean{0.485f, 0.456f, 0.406f}, defaultStd{0.229f, 0.224f, 0.225f};
        if (isViT) defaultMean = defaultStd = {0.5f, 0.5f, 0.5f};
        if (isClip) {
            defaultMean = {0.48145466f, 0.4578275f, 0.40821073f};
            defaultStd = {0.26862954f, 0.26130258f, 0.27577711f};
        }
        result.mean = tripleField(config, "image_mean", defaultMean, subject);
        result.std = tripleField(config, "image_std", defaultStd, subject);
    } else {
        result.mean = {0.0f, 0.0f, 0.0f};
        result.std = {1.0f, 1.0f, 1.0f};
    }
    result.validate();
    return result;
}

Preprocessing Preprocessing::fromJson(const nlohmann::json& json) {
    const char* subject = "preprocessing";
    if (!json.is_object()) throw Error(subject, "expected a JSON object");
    Preprocessing result;
    const auto intField = [&](const char* key, int fallback) {
        const double value = numberField(json, key, fallback, subject);
        if (value != std::floor(value)) throw Error(subject, std::string(key) + " must be an integer");
        return static_cast<int>(value);
    };
    result.height = intField("height", result.height);
    result.width = intField("width", result.width);
    result.resizeHeight = intField("resize_height", 0);
    result.resizeWidth = intField("resize_width", 0);
    result.resizeKeepAspect = boolField(json, "resize_keep_aspect", false, subject);
    result.resizeShorter = intField("resize_shorter", 0);
    result.centerCrop = boolField(json, "center_crop", result.centerCrop, subject);
    const std::string rounding = stringField(json, "crop_rounding", "half_to_even", subject);
    if (rounding != "half_to_even" && rounding != "floor") {
        throw Error(subject, "crop_rounding must be half_to_even or floor, got '" + rounding + "'");
    }
    result.cropRounding = rounding == "floor" ? CropRounding::Floor : CropRounding::HalfToEven;
    result.interpolation =
        parseInterpolationName(stringField(json, "interpolation", "bicubic", subject), subject);
    result.rescale = numberField(json, "rescale", result.rescale, subject);
    result.mean = tripleField(json, "mean", result.mean, subject);
    result.std = tripleField(json, "std", result.std, subject);
    result.validate();
    return result;
}

nlohmann::json Preprocessing::toJson() const {
    return {{"height", height},
            {"width", width},
            {"resize_height", resizeHeight},
            {"resize_width", resizeWidth},
            {"resize_keep_aspect", resizeKeepAspect},
            {"resize_shorter", resizeShorter},
            {"center_crop", centerCrop},
            {"crop_rounding", cropRounding == CropRounding::Floor ? "floor" : "half_to_even"},
            {"interpolation", interpolationName(interpolation)},
            {"rescale", rescale},
            {"mean", mean},
            {"std", std}};
}

std::string Preprocessing::describe() const {
    const auto sizeText = [](int h, int w) { return std::to_string(h) + "x" + std::to_string(w); };
    const std::string how = " (" + interpolationName(interpolation) + ")";
    std::string text;
    if (resizeHeight > 0 && resizeWidth > 0) {
        text = (resizeKeepAspect ? "resize keeping aspect to cover " : "resize to ") +
               sizeText(resizeHeight, resizeWidth) + how;
    } else if (resizeShorter > 0) {
        text = "resize shorter side to " + std::to_string(resizeShorter) + how;
    } else {
        text = "no resize";
    }
    text += centerCrop ? ", centre crop " + sizeText(height, width) : ", no crop";
    if (std::fabs(rescale - 1.0 / 255.0) < 1e-12) {
        text += ", rescale 1/255";
    } else if (rescale != 1.0) {
        text += ", rescale x" + formatNumber(rescale);
    }
    return text + ", mean " + formatTriple(mean) + ", std " + formatTriple(std);
}

}  // namespace fovea
