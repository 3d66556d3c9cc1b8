#include "core/data/shapes_scene.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace fovea {
namespace {

// SplitMix64 (Steele, Lea and Flood 2014): tiny, fast, and defined bit for bit, unlike the
// standard library's distributions, which differ between implementations.
class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : m_state(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    // Uniform in [low, high], without modulo bias (rejects the incomplete top block).
    int uniformInt(int low, int high) {
        const std::uint64_t span = static_cast<std::uint64_t>(high - low) + 1;
        const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
        std::uint64_t value = next();
        while (value >= limit) value = next();
        return low + static_cast<int>(value % span);
    }

    bool chance(int percent) { return uniformInt(0, 99) < percent; }

private:
    std::uint64_t m_state;
};

// Geometry is integer-only so every platform rasterises the same pixels: coordinates are in
// 1/16 pixel, shape templates in 1/1000 of the nominal size, rotations in Q14 fixed point.
constexpr int kSubpixel = 16;
constexpr int kTemplateUnit = 1000;
constexpr int kMaxRotation = 20;  // degrees either way: mild, a square never becomes a diamond
// round(16384 * sin/cos(d degrees)) for d = 0..20.
constexpr std::array<int, 21> kSinQ14{0,    286,  572,  857,  1143, 1428, 1713,
                                      1997, 2280, 2563, 2845, 3126, 3406, 3686,
                                      3964, 4240, 4516, 4790, 5063, 5334, 5604};
constexpr std::array<int, 21> kCosQ14{16384, 16382, 16374, 16362, 16344, 16322, 16294,
                                      16262, 16225, 16182, 16135, 16083, 16026, 15964,
                                      15897, 15826, 15749, 15668, 15582, 15491, 15396};

enum ShapeClass { kCircle, kSquare, kTriangle, kCross, kStar, kClassCount };

using Polygon = std::vector<cv::Point>;  // in 1/16 pixel, relative to the shape centre

// Outlines centred on their bounding box, all of about 0.63 nominal size squared in area (as a
// circle of diameter 0.9), so size alone separates the target from the distractors whatever the
// classes.
constexpr int kCircleRadius = 450;
Polygon shapeTemplate(int shapeClass) {
    switch (shapeClass) {
        case kSquare: return {{-400, -400}, {400, -400}, {400, 400}, {-400, 400}};
        case kTriangle: return {{0, -520}, {600, 520}, {-600, 520}};
        case kCross:
            return {{-180, -530}, {180, -530}, {180, -180}, {530, -180}, {530, 180}, {180, 180},
                    {180, 530},   {-180, 530}, {-180, 180}, {-530, 180}, {-530, -180}, {-180, -180}};
        case kStar:  // five points, inner radius half the outer
            return {{0, -588},   {191, -201}, {618, -139}, {309, 162},  {382, 588},
                    {0, 387},    {-382, 588}, {-309, 162}, {-618, -139}, {-191, -201}};
        default: return {};
    }
}

std::int64_t divideRounded(std::int64_t numerator, std::int64_t denominator) {
    const std::int64_t half = denominator / 2;
    return numerator >= 0 ? (numerator + half) / denominator : -((-numerator + half) / denominator);
}

struct Shape {
    int shapeClass = 0;
    cv::Point center;  // 1/16 pixel
    int radius = 0;    // circles only, 1/16 pixel
    Polygon outline;   // other shapes, relative to center, 1/16 pixel
    cv::Rect extent;   // relative to center, 1/16 pixel
};

Shape makeShape(int shapeClass, int size, int degrees) {
    Shape shape;
    shape.shapeClass = shapeClass;
    if (shapeClass == kCircle) {
        shape.radius = size * kSubpixel * kCircleRadius / kTemplateUnit;
        shape.extent = cv::Rect(-shape.radius, -shape.radius, 2 * shape.radius, 2 * shape.radius);
        return shape;
    }
    const int sine = degrees >= 0 ? kSinQ14[degrees] : -kSinQ14[-degrees];
    const int cosine = kCosQ14[std::abs(degrees)];
    const std::int64_t scale = std::int64_t{kTemplateUnit} * 16384;
    for (const cv::Point& vertex : shapeTemplate(shapeClass)) {
        const std::int64_t x = std::int64_t{vertex.x} * cosine - std::int64_t{vertex.y} * sine;
        const std::int64_t y = std::int64_t{vertex.x} * sine + std::int64_t{vertex.y} * cosine;
        shape.outline.emplace_back(static_cast<int>(divideRounded(x * size * kSubpixel, scale)),
                                   static_cast<int>(divideRounded(y * size * kSubpixel, scale)));
    }
    shape.extent = cv::boundingRect(shape.outline);
    return shape;
}

int floorDivide(int value, int divisor) {
    return value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor);
}

// The pixels the shape can touch: its extent rounded outwards to whole pixels.
cv::Rect pixelBox(const Shape& shape) {
    const int left = floorDivide(shape.center.x + shape.extent.x, kSubpixel);
    const int top = floorDivide(shape.center.y + shape.extent.y, kSubpixel);
    const int right = floorDivide(shape.center.x + shape.extent.br().x + kSubpixel - 1, kSubpixel);
    const int bottom = floorDivide(shape.center.y + shape.extent.br().y + kSubpixel - 1, kSubpixel);
    return {left, top, right - left, bottom - top};
}

// Crossing-number test at a point, exact in integers (points on an edge count consistently).
bool insidePolygon(const Polygon& polygon, std::int64_t px, std::int64_t py) {
    bool inside = false;
    for (std::size_t i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
        const std::int64_t ax = polygon[j].x, ay = polygon[j].y;
        const std::int64_t bx = polygon[i].x, by = polygon[i].y;
        if ((ay > py) == (by > py)) continue;
        const std::int64_t lhs = (px - ax) * (by - ay);
        const std::int64_t rhs = (py - ay) * (bx - ax);
        if (by > ay ? lhs < rhs : lhs > rhs) inside = !inside;
    }
    return inside;
}

// Pixels whose centres lie inside the shape, as a 0/255 mask of the image size.
cv::Mat1b rasterise(const Shape& shape, int imageSize) {
    cv::Mat1b mask(imageSize, imageSize, std::uint8_t{0});
    const cv::Rect area = pixelBox(shape) & cv::Rect(0, 0, imageSize, imageSize);
    for (int y = area.y; y < area.br().y; ++y) {
        for (int x = area.x; x < area.br().x; ++x) {
            const std::int64_t px = std::int64_t{x} * kSubpixel + kSubpixel / 2 - shape.center.x;
            const std::int64_t py = std::int64_t{y} * kSubpixel + kSubpixel / 2 - shape.center.y;
            const bool inside = shape.shapeClass == kCircle
                                    ? px * px + py * py <= std::int64_t{shape.radius} * shape.radius
                                    : insidePolygon(shape.outline, px, py);
            if (inside) mask(y, x) = 255;
        }
    }
    return mask;
}

// A centre that keeps the whole shape inside the image.
cv::Point placeInside(const Shape& shape, int imageSize, SplitMix64& random) {
    const int limit = imageSize * kSubpixel;
    return {random.uniformInt(-shape.extent.x, limit - shape.extent.br().x),
            random.uniformInt(-shape.extent.y, limit - shape.extent.br().y)};
}

// A bright colour from a hue wheel of 6 x 256 steps, paled at random. Objects are always
// brighter than the dark background in every channel's sum, so "where the objects are" is a
// linear function of a patch's pixels (a ViT's patch embedding is linear); their hue is random,
// so the class can only come from the shape.
cv::Vec3b saturatedColor(SplitMix64& random) {
    const int hue = random.uniformInt(0, 6 * 256 - 1);
    const int ramp = hue % 256;
    int red = 0, green = 0, blue = 0;
    switch (hue / 256) {
        case 0: red = 255, green = ramp; break;
        case 1: red = 255 - ramp, green = 255; break;
        case 2: green = 255, blue = ramp; break;
        case 3: green = 255 - ramp, blue = 255; break;
        case 4: red = ramp, blue = 255; break;
        default: red = 255, blue = 255 - ramp; break;
    }
    const int value = random.uniformInt(205, 255);
    const int pale = random.uniformInt(100, 170);  // 0 would keep the colour fully saturated
    const auto shade = [&](int channel) {
        const int darkened = channel * value / 255;
        return static_cast<std::uint8_t>(darkened + (value - darkened) * pale / 255);
    };
    return {shade(blue), shade(green), shade(red)};
}

int colorDistance(const cv::Vec3b& a, const cv::Vec3i& b) {
    return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
}

// Saturated colours far enough from the background's mean colour to stay visible.
cv::Vec3b contrastingColor(const cv::Vec3i& background, SplitMix64& random) {
    cv::Vec3b color = saturatedColor(random);
    for (int attempt = 0; attempt < 32 && colorDistance(color, background) < 200; ++attempt) {
        color = saturatedColor(random);
    }
    return color;
}

// Low-contrast clutter: a tinted grey, per-pixel noise, sometimes stripes, and soft blobs.
cv::Mat3b makeBackground(int size, const cv::Vec3i& base, bool textured, SplitMix64& random) {
    cv::Mat3i canvas(size, size, base);
    if (textured) {
        const int noise = random.uniformInt(3, 10);
        for (int y = 0; y < size; ++y) {
            for (int x = 0; x < size; ++x) {
                const int offset = random.uniformInt(-noise, noise);
                canvas(y, x) += cv::Vec3i(offset, offset, offset);
            }
        }
        if (random.chance(60)) {
            int dx = 0, dy = 0;
            while (dx == 0 && dy == 0) {
                dx = random.uniformInt(-3, 3);
                dy = random.uniformInt(-3, 3);
            }
            const int period = random.uniformInt(5, 12), amplitude = random.uniformInt(5, 12);
            for (int y = 0; y < size; ++y) {
                for (int x = 0; x < size; ++x) {
                    const int phase = ((x * dx + y * dy) % period + period) % period;
                    const int wave = std::abs(2 * phase - period) * 2 * amplitude / period - amplitude;
                    canvas(y, x) += cv::Vec3i(wave, wave, wave);
                }
            }
        }
        const int blobs = random.uniformInt(2, 5);
        for (int blob = 0; blob < blobs; ++blob) {
            const int cx = random.uniformInt(0, size - 1), cy = random.uniformInt(0, size - 1);
            const int radius = random.uniformInt(size / 12 + 2, size / 4 + 2);
            const cv::Vec3i tint(random.uniformInt(-18, 18), random.uniformInt(-18, 18),
                                 random.uniformInt(-18, 18));
            for (int y = std::max(0, cy - radius); y <= std::min(size - 1, cy + radius); ++y) {
                for (int x = std::max(0, cx - radius); x <= std::min(size - 1, cx + radius); ++x) {
                    const int fall = radius * radius - (x - cx) * (x - cx) - (y - cy) * (y - cy);
                    if (fall <= 0) continue;
                    for (int c = 0; c < 3; ++c) {
                        canvas(y, x)[c] += tint[c] * fall / (radius * radius);
                    }
                }
            }
        }
    }
    cv::Mat3b image;
    canvas.convertTo(image, CV_8UC3);  // saturates to 0..255
    return image;
}

int randomClass(SplitMix64& random) { return random.uniformInt(0, kClassCount - 1); }

int randomRotation(SplitMix64& random) { return random.uniformInt(-kMaxRotation, kMaxRotation); }

}  // namespace

const std::vector<std::string>& shapeClassNames() {
    static const std::vector<std::string> names{"circle", "square", "triangle", "cross", "star"};
    return names;
}

void SceneOptions::validate() const {
    const char* subject = "scene options";
    if (size < 16 || size > 4096) {
        throw Error(subject, "size " + std::to_string(size) + " is outside 16..4096");
    }
    if (minDistractors < 0 || minDistractors > maxDistractors || maxDistractors > 64) {
        throw Error(subject, "distractor counts must satisfy 0 <= min <= max <= 64");
    }
    if (targetMinSize < 4 || targetMinSize > targetMaxSize) {
        throw Error(subject, "target sizes must satisfy 4 <= min <= max");
    }
    // Rotated shapes reach up to about 1.35 nominal sizes across.
    if (targetMaxSize * 3 > size * 2) {
        throw Error(subject, "target size " + std::to_string(targetMaxSize) +
                                 " does not fit a " + std::to_string(size) + " pixel image");
    }
    if (distractorMinSize < 3 || distractorMinSize > distractorMaxSize ||
        distractorMaxSize >= targetMinSize) {
        throw Error(subject, "distractor sizes must satisfy 3 <= min <= max < target min size");
    }
}

Scene generateScene(std::uint64_t seed, const SceneOptions& options) {
    options.validate();
    SplitMix64 random(seed);
    Scene scene;
    scene.seed = seed;
    scene.label = randomClass(random);

    const int gray = random.uniformInt(35, 80);
    const cv::Vec3i base(gray + random.uniformInt(-12, 12), gray + random.uniformInt(-12, 12),
                         gray + random.uniformInt(-12, 12));
    scene.image = makeBackground(options.size, base, options.texturedBackground, random);

    struct Placed {
        Shape shape;
        cv::Vec3b color;
        bool isTarget;
    };
    Shape target = makeShape(scene.label,
                             random.uniformInt(options.targetMinSize, options.targetMaxSize),
                             randomRotation(random));
    target.center = placeInside(target, options.size, random);
    const cv::Vec3b targetColor = contrastingColor(base, random);
    // Distractors keep a pixel of clearance from the target and from one another.
    const cv::Rect keepOut = pixelBox(target) + cv::Size(2, 2) - cv::Point(1, 1);

    std::vector<Placed> drawOrder;  // distractors first, the target last
    std::vector<cv::Rect> taken{keepOut};
    const int distractors = random.uniformInt(options.minDistractors, options.maxDistractors);
    for (int index = 0; index < distractors; ++index) {
        Shape shape = makeShape(randomClass(random),
                                random.uniformInt(options.distractorMinSize,
                                                  options.distractorMaxSize),
                                randomRotation(random));
        const cv::Vec3b color = contrastingColor(base, random);
        bool placed = false;
        for (int attempt = 0; attempt < 40 && !placed; ++attempt) {
            shape.center = placeInside(shape, options.size, random);
            const cv::Rect box = pixelBox(shape);
            placed = std::none_of(taken.begin(), taken.end(),
                                  [&](const cv::Rect& other) { return (box & other).area() > 0; });
        }
        if (!placed) continue;  // crowded: fewer distractors rather than overlapping ones
        taken.push_back(pixelBox(shape) + cv::Size(2, 2) - cv::Point(1, 1));
        drawOrder.push_back({shape, color, false});
    }
    drawOrder.push_back({target, targetColor, true});

    // Paint in order, then peel visibility off back to front: what later shapes cover is hidden.
    std::vector<cv::Mat1b> shapes;
    for (const Placed& item : drawOrder) {
        shapes.push_back(rasterise(item.shape, options.size));
        scene.image.setTo(item.color, shapes.back());
    }
    cv::Mat1b covered(options.size, options.size, std::uint8_t{0});
    std::vector<SceneObject> visible(drawOrder.size());
    for (std::size_t i = drawOrder.size(); i-- > 0;) {
        SceneObject& object = visible[i];
        object.shapeClass = drawOrder[i].shape.shapeClass;
        object.isTarget = drawOrder[i].isTarget;
        object.color = drawOrder[i].color;
        object.mask = shapes[i] & ~covered;
        object.box = cv::boundingRect(object.mask);
        covered |= shapes[i];
    }

    scene.objects.push_back(visible.back());
    for (std::size_t i = 0; i + 1 < visible.size(); ++i) {
        if (visible[i].box.area() > 0) scene.objects.push_back(visible[i]);
    }
    scene.labelMask = cv::Mat1w(options.size, options.size, std::uint16_t{0});
    for (std::size_t i = 0; i < scene.objects.size(); ++i) {
        scene.labelMask.setTo(static_cast<int>(i + 1), scene.objects[i].mask);
    }
    scene.targetMask = scene.objects.front().mask;
    scene.targetBox = scene.objects.front().box;
    return scene;
}

}  // namespace fovea
