// Preprocessing against the timm / Hugging Face fixtures and Pillow, plus image file IO.
//
// tests/data/images/pil_*.png were made with Pillow 9.4.0 (Debian bookworm) from
// resample_source_37x23.png: Image.open(source).resize((width, height), Image.<MODE>).
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/image/preprocess.h"
#include "core/io/image_io.h"
#include "core/util/error.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kData = FOVEA_TEST_DATA_DIR;

json readJson(const std::string& path) {
    std::ifstream in(path);
    return json::parse(in);
}

// Just enough of the .npy format for the fixtures: little-endian float32, C order.
std::vector<float> readFloatNpy(const std::string& path, std::vector<int>& shape) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_GE(bytes.size(), 10u);
    EXPECT_EQ(std::memcmp(bytes.data(), "\x93NUMPY", 6), 0);
    const bool version1 = bytes[6] == 1;
    const std::size_t headerLength =
        version1 ? static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8)
                 : *reinterpret_cast<const std::uint32_t*>(bytes.data() + 8);
    const std::size_t dataStart = (version1 ? 10 : 12) + headerLength;
    const std::string header(bytes.data() + (version1 ? 10 : 12), headerLength);
    EXPECT_NE(header.find("'<f4'"), std::string::npos) << header;
    EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
    shape.clear();
    const std::size_t open = header.find('(', header.find("'shape'"));
    const std::size_t close = header.find(')', open);
    std::string dims = header.substr(open + 1, close - open - 1);
    std::size_t at = 0;
    while (at < dims.size()) {
        const std::size_t comma = dims.find(',', at);
        const std::string part = dims.substr(at, comma == std::string::npos ? std::string::npos
                                                                            : comma - at);
        if (part.find_first_of("0123456789") != std::string::npos) shape.push_back(std::stoi(part));
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    std::vector<float> values((bytes.size() - dataStart) / sizeof(float));
    std::memcpy(values.data(), bytes.data() + dataStart, values.size() * sizeof(float));
    return values;
}

void expectMatchesFixture(const fovea::Preprocessing& prep, const std::string& model) {
    const cv::Mat image = fovea::readImage(kData + "/models/" + model + "/input.png");
    const std::vector<float> actual = fovea::preprocessImage(image, prep);
    std::vector<int> shape;
    const std::vector<float> expected =
        readFloatNpy(kData + "/models/" + model + "/input_tensor.npy", shape);
    ASSERT_EQ(shape, (std::vector<int>{1, 3, prep.height, prep.width}));
    ASSERT_EQ(actual.size(), expected.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < actual.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::fabs(actual[i] - expected[i])));
    }
    EXPECT_LE(worst, 1e-6) << model;
}

TEST(Preprocess, TimmFixtureMatches) {
    const json config = readJson(kData + "/models/timm-vit-tiny/config.json");
    const fovea::Preprocessing prep = fovea::Preprocessing::fromTimm(config["pretrained_cfg"]);
    EXPECT_EQ(prep.height, 32);
    EXPECT_EQ(prep.width, 32);
    EXPECT_EQ(prep.resizeShorter, 32);  // crop_pct 1.0
    expectMatchesFixture(prep, "timm-vit-tiny");
}

TEST(Preprocess, HuggingFaceFixtureMatches) {
    const json config = readJson(kData + "/models/hf-vit-tiny/preprocessor_config.json");
    const fovea::Preprocessing prep = fovea::Preprocessing::fromHuggingFace(config);
    EXPECT_EQ(prep.resizeHeight, 32);
    EXPECT_EQ(prep.resizeWidth, 32);
    EXPECT_FALSE(prep.centerCrop);
    EXPECT_EQ(prep.interpolation, fovea::Interpolation::Bilinear);
    expectMatchesFixture(prep, "hf-vit-tiny");
}

TEST(Preprocess, ResizeMatchesPillowBitForBit) {
    const cv::Mat source = fovea::readImage(kData + "/images/resample_source_37x23.png");
    struct Case {
        const char* file;
        fovea::Interpolation interpolation;
        int width, height;
    };
    const Case cases[] = {
        {"pil_bicubic_16x11.png", fovea::Interpolation::Bicubic, 16, 11},
        {"pil_bicubic_61x50.png", fovea::Interpolation::Bicubic, 61, 50},
        {"pil_bicubic_5x3.png", fovea::Interpolation::Bicubic, 5, 3},
        {"pil_bilinear_20x40.png", fovea::Interpolation::Bilinear, 20, 40},
        {"pil_bilinear_74x23.png", fovea::Interpolation::Bilinear, 74, 23},
        {"pil_nearest_50x17.png", fovea::Interpolation::Nearest, 50, 17},
        {"pil_nearest_13x9.png", fovea::Interpolation::Nearest, 13, 9},
    };
    for (const Case& c : cases) {
        const cv::Mat expected = fovea::readImage(kData + "/images/" + c.file);
        const cv::Mat actual =
            fovea::resizeImage(source, cv::Size(c.width, c.height), c.interpolation);
        ASSERT_EQ(actual.size(), expected.size()) << c.file;
        EXPECT_EQ(cv::norm(actual, expected, cv::NORM_INF), 0.0) << c.file;
    }
}

// Pixel values encode their source coordinates: blue = x % 256, green = y, red = 50 + 100 * (x /
// 256). With nearest resampling every output pixel names the source pixel it came from.
cv::Mat coordinateImage(int width, int height) {
    cv::Mat image(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            image.at<cv::Vec3b>(y, x) = cv::Vec3b(x % 256, y, 50 + 100 * (x / 256));
        }
    }
    return image;
}

TEST(Preprocess, TimmGeometryResizesShorterSideThenCropsCentre) {
    json cfg = {{"input_size", {3, 224, 224}}, {"interpolation", "bicubic"}};  // crop_pct 0.875
    fovea::Preprocessing prep = fovea::Preprocessing::fromTimm(cfg);
    EXPECT_EQ(prep.resizeShorter, 256);
    const cv::Size resized = prep.resizedSize(cv::Size(300, 200));
    EXPECT_EQ(resized, cv::Size(384, 256));
    EXPECT_EQ(prep.cropWindow(resized), cv::Rect(80, 16, 224, 224));
    EXPECT_EQ(prep.resizedSize(cv::Size(200, 300)), cv::Size(256, 384));

    prep.interpolation = fovea::Interpolation::Nearest;
    const cv::Mat view = fovea::modelViewImage(coordinateImage(300, 200), prep);
    ASSERT_EQ(view.size(), cv::Size(224, 224));
    for (int row = 0; row < 224; row += 13) {
        for (int col = 0; col < 224; col += 11) {
            const int sourceX = static_cast<int>((80 + col + 0.5) * 300.0 / 384.0);
            const int sourceY = static_cast<int>((16 + row + 0.5) * 200.0 / 256.0);
            const cv::Vec3b pixel = view.at<cv::Vec3b>(row, col);
            EXPECT_EQ(pixel[0] + 256 * ((pixel[2] - 50) / 100), sourceX) << row << "," << col;
            EXPECT_EQ(pixel[1], sourceY) << row << "," << col;
        }
    }
}

TEST(Preprocess, MasksFollowTheImageGeometry) {
    // A blocky mask lands where the image's pixels land: nearest-neighbour resize, same crop.
    cv::Mat mask(200, 300, CV_8UC1);
    for (int row = 0; row < mask.rows; ++row) {
        for (int col = 0; col < mask.cols; ++col) {
            mask.at<uchar>(row, col) = uchar((row / 7 * 31 + col / 5 * 17) % 251 + 1);
        }
    }
    fovea::Preprocessing prep = fovea::Preprocessing::fromTimm(json{{"input_size", {3, 224, 224}}});
    const cv::Mat mapped = fovea::modelViewMask(mask, prep);
    ASSERT_EQ(mapped.size(), cv::Size(224, 224));
    ASSERT_EQ(mapped.type(), CV_8UC1);
    prep.interpolation = fovea::Interpolation::Nearest;
    cv::Mat bgr, channels[3];
    cv::merge(std::vector<cv::Mat>{mask, mask, mask}, bgr);
    cv::split(fovea::modelViewImage(bgr, prep), channels);
    EXPECT_EQ(cv::countNonZero(mapped != channels[0]), 0);
    // A crop beyond the image leaves the mask empty there.
    fovea::Preprocessing pad;
    pad.height = pad.width = 8;
    pad.resizeShorter = 0;
    const cv::Mat padded = fovea::modelViewMask(cv::Mat(4, 6, CV_8UC1, cv::Scalar(255)), pad);
    EXPECT_EQ(cv::countNonZero(padded), 4 * 6);
    EXPECT_EQ(padded.at<uchar>(0, 0), 0);
    EXPECT_THROW(fovea::modelViewMask(bgr, prep), fovea::Error);
}

TEST(Preprocess, TimmNonSquareAndSquash) {
    json cfg = {{"input_size", {3, 224, 320}}, {"crop_pct", 0.9}};
    fovea::Preprocessing keep = fovea::Preprocessing::fromTimm(cfg);
    EXPECT_EQ(keep.resizeHeight, 248);  // floor(224 / 0.9)
    EXPECT_EQ(keep.resizeWidth, 355);   // floor(320 / 0.9)
    EXPECT_TRUE(keep.resizeKeepAspect);
    EXPECT_EQ(keep.interpolation, fovea::Interpolation::Bilinear);  // timm's ResizeKeepRatio
    // 640x480: ratios 480/248 and 640/355; the smaller one wins so the image covers the box.
    EXPECT_EQ(keep.resizedSize(cv::Size(640, 480)), cv::Size(355, 266));

    cfg["crop_mode"] = "squash";
    const fovea::Preprocessing squash = fovea::Preprocessing::fromTimm(cfg);
    EXPECT_FALSE(squash.resizeKeepAspect);
    EXPECT_EQ(squash.resizedSize(cv::Size(640, 480)), cv::Size(355, 248));
    EXPECT_EQ(squash.cropWindow(cv::Size(355, 248)), cv::Rect(18, 12, 320, 224));  // round(17.5)
}

TEST(Preprocess, CropRoundingDiffersBetweenTimmAndHuggingFace) {
    fovea::Preprocessing prep;
    prep.height = prep.width = 10;
    prep.cropRounding = fovea::CropRounding::HalfToEven;
    EXPECT_EQ(prep.cropWindow(cv::Size(17, 15)), cv::Rect(4, 2, 10, 10));  // round(3.5), round(2.5)
    prep.cropRounding = fovea::CropRounding::Floor;
    EXPECT_EQ(prep.cropWindow(cv::Size(17, 15)), cv::Rect(3, 2, 10, 10));
    // A crop larger than the image pads: torchvision puts the odd pixel after, HF before.
    EXPECT_EQ(prep.cropWindow(cv::Size(7, 10)), cv::Rect(-2, 0, 10, 10));
    prep.cropRounding = fovea::CropRounding::HalfToEven;
    EXPECT_EQ(prep.cropWindow(cv::Size(7, 10)), cv::Rect(-1, 0, 10, 10));
}

TEST(Preprocess, CropLargerThanImagePadsWithBlack) {
    fovea::Preprocessing prep;
    prep.height = prep.width = 8;
    prep.resizeShorter = 0;
    prep.mean = {0, 0, 0};
    prep.std = {1, 1, 1};
    const cv::Mat image(4, 6, CV_8UC3, cv::Scalar(255, 255, 255));
    const cv::Mat view = fovea::modelViewImage(image, prep);
    ASSERT_EQ(view.size(), cv::Size(8, 8));
    EXPECT_EQ(cv::countNonZero(view.reshape(1)), 4 * 6 * 3);
    EXPECT_EQ(view.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
    EXPECT_EQ(view.at<cv::Vec3b>(3, 3), cv::Vec3b(255, 255, 255));
}

TEST(Preprocess, TensorIsChwRgbNormalised) {
    fovea::Preprocessing prep;
    prep.height = 1;
    prep.width = 2;
    prep.centerCrop = false;
    prep.mean = {0.5f, 0.25f, 0.0f};
    prep.std = {0.5f, 0.25f, 2.0f};
    cv::Mat image(1, 2, CV_8UC3);
    image.at<cv::Vec3b>(0, 0) = cv::Vec3b(0, 0, 255);    // red
    image.at<cv::Vec3b>(0, 1) = cv::Vec3b(255, 255, 0);  // cyan
    const std::vector<float> tensor = fovea::preprocessImage(image, prep);
    ASSERT_EQ(tensor.size(), 6u);
    EXPECT_FLOAT_EQ(tensor[0], 1.0f);    // R of pixel 0
    EXPECT_FLOAT_EQ(tensor[1], -1.0f);   // R of pixel 1
    EXPECT_FLOAT_EQ(tensor[2], -1.0f);   // G
    EXPECT_FLOAT_EQ(tensor[3], 3.0f);
    EXPECT_FLOAT_EQ(tensor[4], 0.0f);    // B
    EXPECT_FLOAT_EQ(tensor[5], 0.5f);
}

TEST(Preprocess, HuggingFaceClipAndConvNextStyles) {
    const json clip = {{"image_processor_type", "CLIPImageProcessor"},
                       {"size", {{"shortest_edge", 224}}},
                       {"crop_size", {{"height", 224}, {"width", 224}}},
                       {"do_center_crop", true},
                       {"resample", 3}};
    const fovea::Preprocessing clipPrep = fovea::Preprocessing::fromHuggingFace(clip);
    EXPECT_EQ(clipPrep.resizeShorter, 224);
    EXPECT_TRUE(clipPrep.centerCrop);
    EXPECT_EQ(clipPrep.cropRounding, fovea::CropRounding::Floor);
    EXPECT_NEAR(clipPrep.mean[0], 0.48145466f, 1e-7);  // CLIP's default when not given
    EXPECT_EQ(clipPrep.resizedSize(cv::Size(500, 333)), cv::Size(336, 224));  // int(224*500/333)

    const json convnext = {{"image_processor_type", "ConvNextImageProcessor"},
                           {"size", {{"shortest_edge", 224}}},
                           {"crop_pct", 0.875},
                           {"resample", 3}};
    const fovea::Preprocessing convPrep = fovea::Preprocessing::fromHuggingFace(convnext);
    EXPECT_EQ(convPrep.resizeShorter, 256);
    EXPECT_EQ(convPrep.height, 224);
    EXPECT_TRUE(convPrep.centerCrop);

    json noNormalise = readJson(kData + "/models/hf-vit-tiny/preprocessor_config.json");
    noNormalise["do_normalize"] = false;
    noNormalise["do_rescale"] = false;
    const fovea::Preprocessing raw = fovea::Preprocessing::fromHuggingFace(noNormalise);
    EXPECT_EQ(raw.rescale, 1.0);
    EXPECT_EQ(raw.std[1], 1.0f);
}

TEST(Preprocess, InvalidConfigurationsThrow) {
    using fovea::Preprocessing;
    EXPECT_THROW(Preprocessing::fromTimm(json{{"input_size", {3, -224, 224}}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromTimm(json{{"input_size", {224, 224}}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromTimm(json{{"crop_pct", 0.0}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromTimm(json{{"crop_pct", -1.0}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromTimm(json{{"mean", {0.5, 0.5}}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromTimm(json{{"std", {0.5, 0.0, 0.5}}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromTimm(json{{"interpolation", "lanczos"}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromTimm(json{{"crop_mode", "border"}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromTimm(json::array()), fovea::Error);
    EXPECT_THROW(Preprocessing::fromHuggingFace(json{{"resample", 1}}), fovea::Error);
    EXPECT_THROW(Preprocessing::fromHuggingFace(json{{"size", {{"height", 0}, {"width", 4}}}}),
                 fovea::Error);
    EXPECT_THROW(Preprocessing::fromHuggingFace(json{{"image_std", {1, 1, 0}}}), fovea::Error);

    Preprocessing prep;
    prep.centerCrop = false;
    prep.resizeShorter = 224;  // a 300x200 image becomes 336x224, not 224x224
    EXPECT_THROW(fovea::preprocessImage(cv::Mat(200, 300, CV_8UC3, cv::Scalar(1, 2, 3)), prep),
                 fovea::Error);
    EXPECT_THROW(fovea::preprocessImage(cv::Mat(20, 30, CV_8UC1, cv::Scalar(1)), Preprocessing{}),
                 fovea::Error);
}

TEST(Preprocess, DescribeAndJsonRoundTrip) {
    const fovea::Preprocessing prep =
        fovea::Preprocessing::fromTimm(json{{"input_size", {3, 224, 224}}, {"crop_pct", 0.9}});
    EXPECT_EQ(prep.describe(),
              "resize shorter side to 248 (bicubic), centre crop 224x224, rescale 1/255, "
              "mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]");
    const fovea::Preprocessing copy = fovea::Preprocessing::fromJson(prep.toJson());
    EXPECT_EQ(copy.toJson(), prep.toJson());
}

// ---- Image files.

class ImageIo : public ::testing::Test {
protected:
    void SetUp() override {
        m_directory = fs::temp_directory_path() /
                      ("fovea_image_io_" + std::to_string(::testing::UnitTest::GetInstance()
                                                               ->random_seed()) +
                       "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(m_directory);
    }
    void TearDown() override { fs::remove_all(m_directory); }

    std::string path(const std::string& name) const { return (m_directory / name).string(); }

    void writeBytes(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
        std::ofstream out(path(name), std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    }

    static std::vector<std::uint8_t> readBytes(const std::string& file) {
        std::ifstream in(file, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    fs::path m_directory;
};

// Error text must name the file: that is what the user sees.
#define EXPECT_ERROR_MENTIONS(statement, text)                                   \
    try {                                                                        \
        statement;                                                               \
        ADD_FAILURE() << "no fovea::Error thrown";                               \
    } catch (const fovea::Error& error) {                                        \
        EXPECT_NE(std::string(error.what()).find(text), std::string::npos)       \
            << error.what();                                                     \
    }

TEST_F(ImageIo, RoundTripAndConversions) {
    const cv::Mat image = coordinateImage(40, 30);
    fovea::writeImage(path("coords.png"), image);
    EXPECT_EQ(cv::norm(fovea::readImage(path("coords.png")), image, cv::NORM_INF), 0.0);
    // No temporary files are left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(m_directory), fs::directory_iterator()), 1);

    cv::Mat grey(5, 6, CV_8UC1, cv::Scalar(77));
    cv::imwrite(path("grey.png"), grey);
    EXPECT_EQ(fovea::readImage(path("grey.png")).at<cv::Vec3b>(2, 2), cv::Vec3b(77, 77, 77));

    cv::Mat deep(5, 6, CV_16UC4, cv::Scalar(65535, 257 * 10, 0, 1000));
    cv::imwrite(path("deep.png"), deep);
    const cv::Mat fromDeep = fovea::readImage(path("deep.png"));
    EXPECT_EQ(fromDeep.type(), CV_8UC3);
    EXPECT_EQ(fromDeep.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 10, 0));

    fovea::writeImage(path("photo.JPG"), image);
    EXPECT_EQ(fovea::readImage(path("photo.JPG")).size(), image.size());
    fovea::writeImage(path("plain.bmp"), image);
    EXPECT_EQ(cv::norm(fovea::readImage(path("plain.bmp")), image, cv::NORM_INF), 0.0);
}

TEST_F(ImageIo, MasksAreNonZeroAtAnyDepth) {
    cv::Mat labels = cv::Mat::zeros(4, 5, CV_16UC1);
    labels.at<std::uint16_t>(1, 2) = 1;  // readImage would scale this to 0
    labels.at<std::uint16_t>(3, 4) = 600;
    cv::imwrite(path("labels.png"), labels);
    const cv::Mat mask = fovea::readMask(path("labels.png"));
    ASSERT_EQ(mask.type(), CV_8UC1);
    EXPECT_EQ(cv::countNonZero(mask), 2);
    EXPECT_EQ(mask.at<uchar>(1, 2), 255);
    // Colour: any channel counts; alpha does not.
    cv::Mat colour(3, 3, CV_8UC4, cv::Scalar(0, 0, 0, 255));
    colour.at<cv::Vec4b>(0, 0) = {0, 0, 9, 255};
    cv::imwrite(path("colour.png"), colour);
    EXPECT_EQ(cv::countNonZero(fovea::readMask(path("colour.png"))), 1);
    EXPECT_ERROR_MENTIONS(fovea::readMask(path("none.png")), "none.png: no such file");
}

TEST_F(ImageIo, ReadErrorsNameTheFile) {
    EXPECT_ERROR_MENTIONS(fovea::readImage(path("missing.png")), "missing.png: no such file");
    writeBytes("notes.png", {'h', 'e', 'l', 'l', 'o', '\n'});
    EXPECT_ERROR_MENTIONS(fovea::readImage(path("notes.png")), "notes.png: not an image");
    writeBytes("empty.jpg", {});
    EXPECT_ERROR_MENTIONS(fovea::readImage(path("empty.jpg")), "empty.jpg: empty file");
    EXPECT_ERROR_MENTIONS(fovea::readImage(m_directory.string()), "is a directory");

    const cv::Mat image = coordinateImage(64, 48);
    for (const std::string name : {"cut.png", "cut.jpg", "cut.bmp"}) {
        fovea::writeImage(path(name), image);
        std::vector<std::uint8_t> bytes = readBytes(path(name));
        bytes.resize(bytes.size() * 2 / 3);
        writeBytes(name, bytes);
        EXPECT_ERROR_MENTIONS(fovea::readImage(path(name)), name + ": ");
    }
}

TEST_F(ImageIo, HugeImagesAreRefusedFromTheHeader) {
    // Headers only, claiming 20000 x 20000 = 400 megapixels, with no pixel data behind them:
    // the refusal must come from the header, before any decoder runs.
    std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                     0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                     0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 2, 0, 0, 0,
                                     0, 0, 0, 0,  // CRC (not checked before the size)
                                     0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    writeBytes("huge.png", png);
    EXPECT_ERROR_MENTIONS(fovea::readImage(path("huge.png")), "above the limit of 100000000");

    std::vector<std::uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0x4e, 0x20, 0x4e, 0x20,
                                      1,    1,    0x11, 0,   0xFF, 0xDA, 0xFF, 0xD9};
    writeBytes("huge.jpg", jpeg);
    EXPECT_ERROR_MENTIONS(fovea::readImage(path("huge.jpg")), "20000x20000");

    std::vector<std::uint8_t> bmp(54, 0);
    bmp[0] = 'B', bmp[1] = 'M', bmp[14] = 40;
    bmp[18] = 0x20, bmp[19] = 0x4e, bmp[22] = 0x20, bmp[23] = 0x4e;
    writeBytes("huge.bmp", bmp);
    EXPECT_ERROR_MENTIONS(fovea::readImage(path("huge.bmp")), "huge.bmp: image is 20000x20000");

    // The limit is a parameter.
    fovea::writeImage(path("small.png"), coordinateImage(40, 30));
    EXPECT_ERROR_MENTIONS(fovea::readImage(path("small.png"), 1000), "above the limit of 1000");
    EXPECT_NO_THROW(fovea::readImage(path("small.png"), 1200));
}

TEST_F(ImageIo, WriteErrors) {
    const cv::Mat image = coordinateImage(8, 8);
    EXPECT_ERROR_MENTIONS(fovea::writeImage(path("figure.xyz"), image), "figure.xyz: ");
    EXPECT_ERROR_MENTIONS(fovea::writeImage(path("figure"), image), "no file extension");
    EXPECT_ERROR_MENTIONS(fovea::writeImage(path("no/such/dir/figure.png"), image),
                          "does not exist");
    EXPECT_ERROR_MENTIONS(fovea::writeImage(path("empty.png"), cv::Mat()), "empty image");
    // Replacing an existing file works and leaves only the target.
    fovea::writeImage(path("again.png"), image);
    fovea::writeImage(path("again.png"), coordinateImage(9, 9));
    EXPECT_EQ(fovea::readImage(path("again.png")).cols, 9);
    EXPECT_EQ(std::distance(fs::directory_iterator(m_directory), fs::directory_iterator()), 1);
}

}  // namespace
