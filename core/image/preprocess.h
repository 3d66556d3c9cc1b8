// Model input preprocessing that reproduces timm's and Hugging Face's evaluation transforms:
// resize (Pillow's resampling, bit for bit), centre crop, rescale, normalise, CHW RGB float32.
//
//     fovea::Preprocessing prep = fovea::Preprocessing::fromTimm(config["pretrained_cfg"]);
//     std::vector<float> input = fovea::preprocessImage(bgr, prep);   // 3 * H * W values
//     cv::Mat seen = fovea::modelViewImage(bgr, prep);                // what to draw heatmaps on
//     cv::Mat truth = fovea::modelViewMask(objectMask, prep);         // ground truth, same pixels
//     std::cout << prep.describe();  // "resize shorter side to 256 (bicubic), centre crop ..."
//
// Both libraries hand the resize to Pillow, which low-pass filters when it shrinks and uses a
// = -0.5 for bicubic, so OpenCV's cv::resize would give different pixels; resizeImage below
// re-implements Pillow's separable fixed-point resampler instead.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace fovea {

enum class Interpolation { Nearest, Bilinear, Bicubic };

// Where a centre crop starts when the margin is odd (or negative, when the crop pads).
enum class CropRounding {
    HalfToEven,  // torchvision's CenterCrop (timm): round((size - crop) / 2) the Python way
    Floor,       // Hugging Face's center_crop: (size - crop) // 2
};

struct Preprocessing {
    int height = 224, width = 224;           // model input size
    int resizeHeight = 0, resizeWidth = 0;   // exact resize; 0,0 => use resizeShorter
    bool resizeKeepAspect = false;           // with resizeHeight/Width: scale keeping the aspect
                                             // ratio until the image covers that box (timm)
    int resizeShorter = 0;                   // resize the shorter side to this, keeping aspect;
                                             // all three 0 => no resize
    bool centerCrop = true;                  // then centre-crop height x width (zero padding)
    CropRounding cropRounding = CropRounding::HalfToEven;
    Interpolation interpolation = Interpolation::Bicubic;
    double rescale = 1.0 / 255.0;
    std::array<float, 3> mean{0.485f, 0.456f, 0.406f}, std{0.229f, 0.224f, 0.225f};

    // timm's pretrained_cfg (or a config.json holding one): input_size [3,H,W], crop_pct (0.875),
    // crop_mode ('center' or 'squash'), interpolation ('bicubic'), mean, std. Follows
    // timm.data.transforms_imagenet_eval: scale = floor(size / crop_pct); a square target resizes
    // the shorter side to it, a non-square one scales keeping aspect to cover floor(h / crop_pct)
    // x floor(w / crop_pct) (timm's ResizeKeepRatio, which always uses bilinear), 'squash'
    // resizes to exactly that; then a centre crop.
    static Preprocessing fromTimm(const nlohmann::json& pretrainedCfg);

    // A Hugging Face preprocessor_config.json: ViTImageProcessor-style size {height, width}
    // (exact resize), size {shortest_edge} with crop_size / do_center_crop (CLIP style), or
    // ConvNextImageProcessor's shortest_edge + crop_pct. resample is Pillow's enum (0 nearest,
    // 2 bilinear, 3 bicubic); do_resize, do_rescale / rescale_factor, do_normalize, image_mean,
    // image_std are honoured.
    static Preprocessing fromHuggingFace(const nlohmann::json& preprocessorConfig);

    // The inverse of toJson.
    static Preprocessing fromJson(const nlohmann::json& json);

    // Throws fovea::Error for non-positive sizes, a half-given resize box, non-finite mean,
    // zero or non-finite std, a non-positive rescale.
    void validate() const;

    // Size of an image of `imageSize` after the resize step (before cropping).
    cv::Size resizedSize(cv::Size imageSize) const;

    // The crop window in the resized image's coordinates; it may reach outside the image, where
    // the model sees zeros (black). Without centerCrop it is the whole resized image.
    cv::Rect cropWindow(cv::Size resized) const;

    // One line, e.g. "resize shorter side to 256 (bicubic), centre crop 224x224, rescale 1/255,
    // mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]".
    std::string describe() const;
    nlohmann::json toJson() const;
};

std::string interpolationName(Interpolation interpolation);  // "nearest", "bilinear", "bicubic"

// Resizes an 8-bit image (any channel count) exactly as Pillow's Image.resize does.
cv::Mat resizeImage(const cv::Mat& image, cv::Size size, Interpolation interpolation);

// The image region the model sees (after resize and crop) as 8-bit BGR, height x width.
// Throws fovea::Error when `bgr` is not CV_8UC3 or the steps do not end at height x width.
cv::Mat modelViewImage(const cv::Mat& bgr, const Preprocessing& preprocessing);

// A ground-truth mask of the original image (8-bit, one channel, the image's size) put through
// the same geometry as modelViewImage: resized with nearest neighbour (Pillow's pixel centres, so
// it lines up with the resized image whatever its filter), centre-cropped, zero outside the
// image. The result is height x width and keeps the mask's values.
cv::Mat modelViewMask(const cv::Mat& mask, const Preprocessing& preprocessing);

// BGR 8-bit image -> float32 RGB, rescaled and normalised, laid out (C, H, W): 3 * H * W values.
std::vector<float> preprocessImage(const cv::Mat& bgr, const Preprocessing& preprocessing);

}  // namespace fovea
