#include "core/explain/eval_dataset.h"

#include "core/image/preprocess.h"
#include "core/io/image_io.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fovea {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kImageExtensions = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

bool isImageFile(const fs::path& path) {
    const std::string extension = lowercase(path.extension().string());
    return std::find(kImageExtensions.begin(), kImageExtensions.end(), extension) != kImageExtensions.end();
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

std::vector<std::string> splitFields(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = line.find(',', start);
        fields.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
        if (comma == std::string::npos) return fields;
        start = comma + 1;
    }
}

bool parseNumber(const std::string& text, double& value) {
    if (text.empty()) return false;
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && std::isfinite(value);
}

// One data row of a small CSV file: its fields and "FILE:LINE" for messages.
struct CsvRow {
    std::vector<std::string> fields;
    std::string where;
    std::string text;
};

// Rows of a CSV file, skipping blank lines, # comments and a first row starting "file,".
std::vector<CsvRow> readCsvRows(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(path, fs::exists(path) ? "cannot read the file" : "no such file");
    std::vector<CsvRow> rows;
    std::string line;
    bool first = true;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string text = trim(line);
        if (text.empty() || text[0] == '#') continue;
        if (first && lowercase(text).rfind("file,", 0) == 0) {
            first = false;
            continue;
        }
        first = false;
        rows.push_back({splitFields(text), path + ":" + std::to_string(number), text});
    }
    return rows;
}

std::string normalisedName(const std::string& file) {
    return fs::path(file).lexically_normal().generic_string();
}

int resolveLabel(const std::string& text, const ModelSpec& spec, const std::string& where) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
        const long index = std::strtol(text.c_str(), nullptr, 10);
        if (text.size() > 9 || index >= spec.numClasses) {
            throw Error(where, "class " + text + " is out of range (the model has " + std::to_string(spec.numClasses) +
                                   " classes)");
        }
        return int(index);
    }
    for (int i = 0; i < spec.numClasses; ++i) {
        if (spec.labelOf(i) == text) return i;
    }
    throw Error(where, "'" + text + "' is neither a class index nor one of the model's labels");
}

struct Box {
    double x1, y1, x2, y2;
    std::string where;
};

std::string sizeText(cv::Size size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

// The union of the boxes; a pixel is inside when its centre is.
cv::Mat rasterise(const std::vector<Box>& boxes, cv::Size size, const std::string& name) {
    cv::Mat mask = cv::Mat::zeros(size, CV_8UC1);
    for (const Box& box : boxes) {
        if (box.x1 < 0 || box.y1 < 0 || box.x2 > size.width || box.y2 > size.height) {
            std::ostringstream corners;
            corners << box.x1 << ',' << box.y1 << ',' << box.x2 << ',' << box.y2;
            throw Error(box.where, "box " + corners.str() + " reaches outside " + name + " (" + sizeText(size) + ")");
        }
        const int left = int(std::ceil(box.x1 - 0.5)), right = int(std::ceil(box.x2 - 0.5));
        const int top = int(std::ceil(box.y1 - 0.5)), bottom = int(std::ceil(box.y2 - 0.5));
        if (right > left && bottom > top) mask(cv::Rect(left, top, right - left, bottom - top)).setTo(255);
    }
    return mask;
}

// Mask files in masks/ by stem ("cat" -> masks/cat.png).
std::map<std::string, std::vector<std::string>> masksByStem(const fs::path& masks) {
    std::map<std::string, std::vector<std::string>> found;
    for (const fs::directory_entry& entry : fs::directory_iterator(masks)) {
        if (entry.is_regular_file() && isImageFile(entry.path())) {
            found[entry.path().stem().string()].push_back(entry.path().string());
        }
    }
    for (auto& [stem, files] : found) std::sort(files.begin(), files.end());
    return found;
}

}  // namespace

EvalDataset EvalDataset::scenes(int count, std::uint64_t firstSeed, const SceneOptions& options,
                                const ModelSpec& spec) {
    if (count <= 0) throw Error("fovea eval", "the number of scenes must be positive");
    EvalDataset data;
    data.m_sceneCount = count;
    data.m_firstSeed = firstSeed;
    data.m_sceneOptions = options;
    data.m_sceneOptions.size = spec.imageHeight;
    data.m_sceneOptions.validate();
    data.m_preprocessing = spec.preprocessing;
    data.m_description = std::to_string(count) + " held-out shapes-in-clutter scene" + (count == 1 ? "" : "s") +
                         " (seeds " + std::to_string(firstSeed) + " on)";
    return data;
}

EvalDataset EvalDataset::folder(const std::string& folder, const std::string& boxesFile, const ModelSpec& spec) {
    const fs::path root(folder);
    if (!fs::is_directory(root)) throw Error(folder, fs::exists(root) ? "not a folder" : "no such folder");
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(root)) {
        if (entry.is_regular_file() && isImageFile(entry.path())) names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    if (names.empty()) throw Error(folder, "no images (.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp)");

    const fs::path masks = root / "masks";
    std::string boxesPath = boxesFile;
    if (boxesPath.empty() && !fs::is_directory(masks)) {
        if (!fs::exists(root / "boxes.csv")) {
            throw Error(folder, "no ground truth: neither a masks/ folder nor boxes.csv");
        }
        boxesPath = (root / "boxes.csv").string();
    }

    // Labels and boxes by image name, checked against the folder's images.
    std::map<std::string, std::pair<std::string, std::string>> labels;  // name -> (label text, where)
    auto setLabel = [&](const std::string& name, const std::string& label, const std::string& where) {
        const auto known = labels.find(name);
        if (known != labels.end() && known->second.first != label) {
            throw Error(where, "label '" + label + "' for " + name + " differs from '" + known->second.first + "' at " +
                                   known->second.second);
        }
        labels[name] = {label, where};
    };
    auto checkImage = [&](const std::string& name, const std::string& where) {
        if (!std::binary_search(names.begin(), names.end(), name)) {
            throw Error(where, "no image " + name + " in " + folder);
        }
    };
    std::map<std::string, std::vector<Box>> boxes;
    std::map<std::string, std::vector<std::string>> maskFiles;
    if (boxesPath.empty()) {
        maskFiles = masksByStem(masks);
    } else {
        for (const CsvRow& row : readCsvRows(boxesPath)) {
            Box box{};
            if ((row.fields.size() != 5 && row.fields.size() != 6) || row.fields[0].empty() ||
                !parseNumber(row.fields[1], box.x1) || !parseNumber(row.fields[2], box.y1) ||
                !parseNumber(row.fields[3], box.x2) || !parseNumber(row.fields[4], box.y2) ||
                (row.fields.size() == 6 && row.fields[5].empty())) {
                throw Error(row.where, "expected file,x1,y1,x2,y2[,label], got '" + row.text + "'");
            }
            if (box.x2 <= box.x1 || box.y2 <= box.y1) {
                throw Error(row.where, "the box is empty: x2 must exceed x1 and y2 exceed y1");
            }
            const std::string name = normalisedName(row.fields[0]);
            checkImage(name, row.where);
            box.where = row.where;
            boxes[name].push_back(box);
            if (row.fields.size() == 6) setLabel(name, row.fields[5], row.where);
        }
    }
    const fs::path labelsFile = root / "labels.csv";
    if (fs::exists(labelsFile)) {
        for (const CsvRow& row : readCsvRows(labelsFile.string())) {
            if (row.fields.size() != 2 || row.fields[0].empty() || row.fields[1].empty()) {
                throw Error(row.where, "expected file,label, got '" + row.text + "'");
            }
            const std::string name = normalisedName(row.fields[0]);
            checkImage(name, row.where);
            setLabel(name, row.fields[1], row.where);
        }
    }

    EvalDataset data;
    data.m_preprocessing = spec.preprocessing;
    for (const std::string& name : names) {
        Item item;
        item.name = name;
        item.path = (root / name).string();
        const cv::Mat image = readImage(item.path);
        cv::Mat truth;
        std::string truthFile;
        if (boxesPath.empty()) {
            const std::string stem = fs::path(name).stem().string();
            const std::vector<std::string>& candidates = maskFiles[stem];
            if (candidates.empty()) {
                throw Error(masks.string(),
                            "no mask for " + name + " (expected " + stem + ".png or another image extension)");
            }
            if (candidates.size() > 1) {
                throw Error(masks.string(),
                            "more than one mask for " + name + ": " + candidates[0] + " and " + candidates[1]);
            }
            truthFile = candidates.front();
            truth = readMask(truthFile);
            if (truth.size() != image.size()) {
                throw Error(truthFile,
                            "the mask is " + sizeText(truth.size()) + " but " + name + " is " + sizeText(image.size()));
            }
        } else {
            const auto found = boxes.find(name);
            if (found == boxes.end()) throw Error(boxesPath, "no box for " + name);
            truthFile = found->second.front().where;
            truth = rasterise(found->second, image.size(), name);
        }
        if (cv::countNonZero(truth) == 0) throw Error(truthFile, "no object pixels for " + name);
        item.mask = modelViewMask(truth, spec.preprocessing);
        if (cv::countNonZero(item.mask) == 0) {
            throw Error(truthFile, "the object in " + name + " lies outside the model's centre crop");
        }
        const auto label = labels.find(name);
        if (label != labels.end()) item.label = resolveLabel(label->second.first, spec, label->second.second);
        data.m_items.push_back(std::move(item));
    }
    data.m_description = std::to_string(names.size()) + (names.size() == 1 ? " image in " : " images in ") + folder +
                         (boxesPath.empty() ? std::string(" with masks (masks/)") : " with boxes from " + boxesPath);
    return data;
}

int EvalDataset::size() const {
    return m_items.empty() ? m_sceneCount : int(m_items.size());
}

EvalSample EvalDataset::sample(int index) const {
    if (index < 0 || index >= size()) throw Error("fovea eval", "sample index out of range");
    EvalSample sample;
    if (m_items.empty()) {
        const std::uint64_t seed = m_firstSeed + std::uint64_t(index);
        const Scene scene = generateScene(seed, m_sceneOptions);
        sample.name = "scene " + std::to_string(seed);
        sample.image = scene.image;
        sample.mask = modelViewMask(scene.targetMask, m_preprocessing);
        return sample;
    }
    const Item& item = m_items[std::size_t(index)];
    sample.name = item.name;
    sample.image = readImage(item.path);
    sample.mask = item.mask;
    sample.label = item.label;
    return sample;
}

std::string EvalDataset::describe() const {
    return m_description;
}

}  // namespace fovea
