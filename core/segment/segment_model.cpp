#include "core/segment/segment_model.h"

#include "core/explain/explainer.h"
#include "core/io/image_io.h"
#include "core/segment/segment_metrics.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <sstream>

namespace fovea {

namespace {

cv::Mat1f explanationMap(Model& model, const ImageInput& input, const std::string& methodName, const ExplainParams& given,
                         int target) {
    const Explainer& explainer = findExplainer(methodName);
    ExplainContext context(model, input, target);
    cv::Mat map = explainer.explain(context, explainer.resolve(given));
    cv::Mat1f out;
    map.convertTo(out, CV_32F);
    return out;
}

}  // namespace

SegmentInputs segmentInputsFor(Model& model, const ImageInput& input, const Segmenter& method, const SegmentRunOptions& options,
                               const cv::Mat1b& groundTruth) {
    const ModelSpec& spec = model.spec();
    SegmentInputs inputs;
    const SegmentNeeds needs = method.needs();
    if (needs == SegmentNeeds::Attention || needs == SegmentNeeds::Keys) {
        if (spec.isConvolutional()) {
            throw Error("method " + method.name(), spec.architecture + " is a convolutional network: it has no attention or keys");
        }
        CaptureRequest request;
        request.layers = {options.layer < 0 ? spec.depth - 1 : options.layer};
        request.precision = AttentionPrecision::Float32;
        request.keys = needs == SegmentNeeds::Keys;
        inputs = SegmentInputs::fromAttention(model.run(input, request).attention);
    } else {
        const TokenLayout tokens = model.tokenLayout(input.height, input.width);
        inputs.gridRows = tokens.gridRows();
        inputs.gridCols = tokens.gridCols();
        std::string mapMethod = options.mapMethod;
        if (mapMethod.empty()) mapMethod = needs == SegmentNeeds::Map && !spec.isConvolutional() ? "rollout" : "gradcam";
        if (needs == SegmentNeeds::Map) {
            inputs.map = explanationMap(model, input, mapMethod, options.mapParams, -1);
        } else {
            ExplainContext context(model, input);
            ModelOutputs plain;
            plain.logits = context.logits();
            const auto top = plain.topClasses(std::max(1, options.classes));
            for (const auto& [classIndex, probability] : top) {
                inputs.classMaps.push_back(explanationMap(model, input, mapMethod, options.mapParams, classIndex));
            }
        }
    }
    inputs.groundTruth = groundTruth;
    return inputs;
}

namespace {

struct EvalImage {
    cv::Mat image;             // BGR
    cv::Mat1b truth;           // foreground
    std::vector<cv::Rect> boxes;
    std::string name;
};

std::vector<std::filesystem::path> imagesIn(const std::string& dir) {
    std::vector<std::filesystem::path> paths;
    if (!std::filesystem::is_directory(dir)) throw Error(dir, "is not a folder");
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::string extension = entry.path().extension().string();
        std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        if (extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".bmp") paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) throw Error(dir, "holds no images (.png, .jpg, .jpeg, .bmp)");
    return paths;
}

EvalImage loadEvalImage(const std::filesystem::path& imagePath, const std::string& gtDir) {
    EvalImage item;
    item.name = imagePath.filename().string();
    item.image = readImage(imagePath.string());
    const std::string gtPath = (std::filesystem::path(gtDir) / (imagePath.stem().string() + ".png")).string();
    const cv::Mat1i labels = readLabelMask(gtPath);
    if (labels.size() != item.image.size()) throw Error(gtPath, "label mask size differs from " + imagePath.string());
    item.truth = (labels > 0) & (labels != 255);
    double high = 0.0;
    cv::minMaxLoc(labels, nullptr, &high);
    for (int label = 1; label <= int(high); ++label) {
        if (label == 255) continue;
        const cv::Mat1b mask = labels == label;
        if (cv::countNonZero(mask) > 0) item.boxes.push_back(cv::boundingRect(mask));
    }
    return item;
}

std::string formatCI(const MeanCI& value) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(3) << value.mean << " ± " << value.halfWidth;
    return out.str();
}

}  // namespace

std::vector<SegmentEvalRow> evaluateSegmenters(Model& model, const SegmentEvalOptions& options, Progress& progress,
                                               const std::function<void(const SegmentEvalRow&)>& rowDone) {
    std::vector<const Segmenter*> methods;
    for (const std::string& name : options.methods) methods.push_back(&findSegmenter(name));
    std::vector<std::filesystem::path> files;
    if (!options.dataDir.empty()) {
        if (options.gtDir.empty()) throw Error(options.dataDir, "--data needs --gt with a label mask per image");
        files = imagesIn(options.dataDir);
    }
    const int count = files.empty() ? options.scenes : int(files.size());
    const double total = double(count) * double(methods.size());
    std::vector<SegmentEvalRow> rows;
    int done = 0;
    for (std::size_t m = 0; m < methods.size(); ++m) {
        const Segmenter& method = *methods[m];
        const SegmentParams params = method.resolve(m < options.params.size() ? options.params[m] : SegmentParams{});
        std::vector<double> ious, hits;
        double seconds = 0.0;
        for (int i = 0; i < count; ++i) {
            EvalImage item;
            if (files.empty()) {
                const Scene scene = generateScene(options.firstSeed + std::uint64_t(i), options.scene);
                item.image = scene.image;
                item.truth = scene.targetMask;
                item.boxes = {scene.targetBox};
                item.name = "scene " + std::to_string(scene.seed);
            } else {
                item = loadEvalImage(files[std::size_t(i)], options.gtDir);
            }
            const ImageInput input = makeImageInput(item.image, model.spec(), item.name);
            cv::Mat1b truth = item.truth;
            std::vector<cv::Rect> boxes = item.boxes;
            if (input.view.size() != item.image.size()) {
                // Preprocessing resized the picture: score at the size the model saw.
                cv::resize(item.truth, truth, input.view.size(), 0, 0, cv::INTER_NEAREST);
                const double sx = double(input.view.cols) / item.image.cols, sy = double(input.view.rows) / item.image.rows;
                for (cv::Rect& box : boxes) {
                    box = cv::Rect(int(box.x * sx), int(box.y * sy), std::max(1, int(box.width * sx)), std::max(1, int(box.height * sy)));
                }
            }
            const auto start = std::chrono::steady_clock::now();
            const Segmentation result = method.segment(segmentInputsFor(model, input, method, options.run, truth), params);
            seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const cv::Mat1b foreground = resizeLabels(result.labels, truth.size()) > 0;
            ious.push_back(maskIoU(foreground, truth));
            hits.push_back(corLocHit(largestComponentBox(foreground), boxes) ? 1.0 : 0.0);
            if (!progress.update(double(++done) / total, method.name())) throw Cancelled();
        }
        SegmentEvalRow row;
        row.method = method.name();
        row.iou = meanWithCI(ious);
        row.corLoc = meanWithCI(hits);
        row.msPerImage = count > 0 ? seconds * 1000.0 / count : 0.0;
        rows.push_back(row);
        if (rowDone) rowDone(row);
    }
    return rows;
}

std::string segmentTableCsv(const std::vector<SegmentEvalRow>& rows) {
    std::ostringstream out;
    out << "method,miou,miou_ci95,corloc,corloc_ci95,images,ms_per_image\n" << std::fixed << std::setprecision(4);
    for (const SegmentEvalRow& row : rows) {
        out << row.method << ',' << row.iou.mean << ',' << row.iou.halfWidth << ',' << row.corLoc.mean << ',' << row.corLoc.halfWidth
            << ',' << row.iou.count << ',' << std::setprecision(2) << row.msPerImage << std::setprecision(4) << '\n';
    }
    return out.str();
}

std::string segmentTableMarkdown(const std::vector<SegmentEvalRow>& rows, const std::string& modelName,
                                 const SegmentEvalOptions& options) {
    std::ostringstream out;
    out << "# Segmentation from attention: " << modelName << "\n\n";
    if (options.dataDir.empty()) {
        out << options.scenes << " generated shapes-in-clutter scenes (seeds " << options.firstSeed << " on), ground truth: the target "
            << "shape's mask and box (distractors count as background).\n\n";
    } else {
        out << "Images in `" << options.dataDir << "`, label masks in `" << options.gtDir << "`.\n\n";
    }
    out << "mIoU: mean over images of the foreground IoU (labels > 0, upsampled by nearest neighbour). CorLoc: share of images "
           "whose largest predicted component's box has IoU >= 0.5 with a ground-truth box. ± is the 95% confidence interval "
           "(1.96 standard errors).\n\n";
    out << "| method | mIoU | CorLoc | ms / image |\n|---|---|---|---|\n";
    for (const SegmentEvalRow& row : rows) {
        std::ostringstream ms;
        ms << std::fixed << std::setprecision(1) << row.msPerImage;
        out << "| " << row.method << " (" << findSegmenter(row.method).title() << ") | " << formatCI(row.iou) << " | "
            << formatCI(row.corLoc) << " | " << ms.str() << " |\n";
    }
    return out.str();
}

}  // namespace fovea
