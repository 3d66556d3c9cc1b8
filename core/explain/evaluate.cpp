#include "core/explain/evaluate.h"

#include "core/explain/explainer.h"
#include "core/explain/metrics.h"
#include "core/explain/pointing_game.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

namespace fovea {
namespace {

// The model's normalised input as an H x W x 3 float image (what deletion perturbs: RISE sets
// pixels of the normalised tensor to zero).
cv::Mat normalisedImage(const ImageInput& input) {
    cv::Mat image(input.height, input.width, CV_32FC3);
    const std::size_t plane = std::size_t(input.height) * input.width;
    for (int y = 0; y < input.height; ++y) {
        for (int x = 0; x < input.width; ++x) {
            const std::size_t at = std::size_t(y) * input.width + x;
            image.at<cv::Vec3f>(y, x) = {input.pixels[at], input.pixels[plane + at], input.pixels[2 * plane + at]};
        }
    }
    return image;
}

ImageInput fromNormalised(const cv::Mat& image, const ImageInput& like) {
    ImageInput input = like;
    const std::size_t plane = std::size_t(input.height) * input.width;
    for (int y = 0; y < input.height; ++y) {
        for (int x = 0; x < input.width; ++x) {
            const std::size_t at = std::size_t(y) * input.width + x;
            const cv::Vec3f v = image.at<cv::Vec3f>(y, x);
            input.pixels[at] = v[0];
            input.pixels[plane + at] = v[1];
            input.pixels[2 * plane + at] = v[2];
        }
    }
    return input;
}

std::string cell(const MeanCI& value) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(3) << value.mean << " ± " << value.halfWidth;
    return out.str();
}

bool anyRoad(const std::vector<EvalRow>& rows) {
    return std::any_of(rows.begin(), rows.end(),
                       [](const EvalRow& r) { return r.roadMorf.count > 0 || r.roadLerf.count > 0; });
}

std::string percentList(const std::vector<double>& values) {
    std::ostringstream out;
    for (std::size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
    return out.str();
}

}  // namespace

MeanCI meanWithCI(const std::vector<double>& values) {
    MeanCI result;
    std::vector<double> finite;
    for (const double v : values) {
        if (std::isfinite(v)) finite.push_back(v);
    }
    result.count = int(finite.size());
    if (finite.empty()) return result;
    result.mean = std::accumulate(finite.begin(), finite.end(), 0.0) / double(finite.size());
    if (finite.size() > 1) {
        double squares = 0.0;
        for (const double v : finite) squares += (v - result.mean) * (v - result.mean);
        const double sd = std::sqrt(squares / double(finite.size() - 1));
        result.halfWidth = 1.96 * sd / std::sqrt(double(finite.size()));
    }
    return result;
}

EvalDataset evalDataset(const EvalOptions& options, const ModelSpec& spec) {
    if (options.dataFolder.empty()) {
        if (!options.boxesFile.empty()) throw Error("fovea eval", "a boxes file needs a data folder");
        return EvalDataset::scenes(options.scenes, options.firstSeed, options.scene, spec);
    }
    return EvalDataset::folder(options.dataFolder, options.boxesFile, spec);
}

cv::Scalar roadNoiseStd(const Preprocessing& preprocessing) {
    // ROAD imputes ToTensor images, p / 255, before normalising: 0.01 there is
    // 0.01 * 255 * rescale / std in the normalised input.
    cv::Scalar noise;
    for (int c = 0; c < 3; ++c) {
        noise[c] = 0.01 * 255.0 * preprocessing.rescale / double(preprocessing.std[std::size_t(c)]);
    }
    return noise;
}

std::vector<EvalRow> evaluateMethods(Model& model, const EvalOptions& options, Progress& progress,
                                     const std::function<void(const EvalRow&)>& rowDone) {
    return evaluateMethods(model, evalDataset(options, model.spec()), options, progress, rowDone);
}

std::vector<EvalRow> evaluateMethods(Model& model, const EvalDataset& data, const EvalOptions& options,
                                     Progress& progress, const std::function<void(const EvalRow&)>& rowDone) {
    if (options.road) {
        if (options.roadPercentages.empty()) throw Error("fovea eval", "ROAD needs at least one percentage");
        for (const double p : options.roadPercentages) {
            if (!(p >= 0.0 && p < 100.0)) throw Error("fovea eval", "ROAD percentages must be in [0, 100)");
        }
    }
    for (const std::string& name : options.methods) findExplainer(name);  // fail before any work
    const cv::Scalar roadNoise = roadNoiseStd(model.spec().preprocessing);
    std::vector<EvalRow> rows;
    const int images = data.size();
    const double total = double(options.methods.size()) * images;
    int done = 0;
    for (const std::string& name : options.methods) {
        const Explainer& method = findExplainer(name);
        const ExplainParams params = method.defaults();
        std::vector<double> strict, within15, energy, deletion, insertion, morf, lerf;
        double seconds = 0.0;
        for (int i = 0; i < images; ++i) {
            const EvalSample sample = data.sample(i);
            const ImageInput input = makeImageInput(sample.image, model.spec(), sample.name);
            const auto start = std::chrono::steady_clock::now();
            ExplainContext context(model, input, sample.label);
            const cv::Mat map = method.explain(context, params);
            seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            strict.push_back(pointingHit(map, sample.mask, 0.0) ? 1.0 : 0.0);
            within15.push_back(pointingHit(map, sample.mask, 15.0) ? 1.0 : 0.0);
            energy.push_back(energyPointingGame(map, sample.mask));
            // Deletion / insertion / ROAD on the normalised input, scoring the class explained.
            const int explained = context.target();
            const ImageScorer score = [&](const cv::Mat& image) {
                return double(model.run(fromNormalised(image, input), CaptureRequest::nothing())
                                  .probabilities()[std::size_t(explained)]);
            };
            cv::Mat saliency;
            cv::resize(map, saliency, cv::Size(input.width, input.height), 0, 0, cv::INTER_LINEAR);
            const cv::Mat image = normalisedImage(input);
            deletion.push_back(deletionCurve(image, saliency, score, options.pixelsPerStep).auc);
            insertion.push_back(insertionCurve(image, saliency, score, options.pixelsPerStep).auc);
            if (options.road) {
                // The same noise for every method on an image: the seed is the image's index.
                const auto seed = std::uint64_t(i);
                morf.push_back(
                    roadCurve(image, saliency, score, options.roadPercentages, true, seed, roadNoise).meanScore);
                lerf.push_back(
                    roadCurve(image, saliency, score, options.roadPercentages, false, seed, roadNoise).meanScore);
            }
            if (!progress.update(double(++done) / total, name)) throw Cancelled();
        }
        EvalRow row;
        row.method = name;
        row.images = images;
        row.pointingStrict = meanWithCI(strict);
        row.pointing15 = meanWithCI(within15);
        row.energy = meanWithCI(energy);
        row.deletion = meanWithCI(deletion);
        row.insertion = meanWithCI(insertion);
        row.roadMorf = meanWithCI(morf);
        row.roadLerf = meanWithCI(lerf);
        row.msPerImage = 1000.0 * seconds / images;
        rows.push_back(row);
        if (rowDone) rowDone(row);
    }
    return rows;
}

std::string leaderboardCsv(const std::vector<EvalRow>& rows) {
    std::ostringstream out;
    out << "method,images,pointing_strict,pointing_strict_ci,pointing_15px,pointing_15px_ci,energy_pointing,"
           "energy_pointing_ci,deletion_auc,deletion_auc_ci,insertion_auc,insertion_auc_ci,road_morf,road_morf_ci,"
           "road_lerf,road_lerf_ci,ms_per_image\n";
    out << std::setprecision(6);
    for (const EvalRow& r : rows) {
        out << r.method << ',' << r.images;
        for (const MeanCI* m : {&r.pointingStrict, &r.pointing15, &r.energy, &r.deletion, &r.insertion}) {
            out << ',' << m->mean << ',' << m->halfWidth;
        }
        for (const MeanCI* m : {&r.roadMorf, &r.roadLerf}) {
            if (m->count > 0) {
                out << ',' << m->mean << ',' << m->halfWidth;
            } else {
                out << ",,";  // not measured
            }
        }
        out << ',' << r.msPerImage << '\n';
    }
    return out.str();
}

std::string leaderboardMarkdown(const std::vector<EvalRow>& rows, const std::string& modelName,
                                const EvalOptions& options, const std::string& data) {
    const bool road = anyRoad(rows);
    std::ostringstream out;
    out << "| method | pointing (strict) | pointing (15 px) | energy pointing | deletion AUC (lower is better) | "
           "insertion AUC (higher is better) | "
        << (road ? "ROAD MoRF (lower is better) | ROAD LeRF (higher is better) | " : "")
        << "ms / image |\n|---|---|---|---|---|---|" << (road ? "---|---|" : "") << "---|\n";
    for (const EvalRow& r : rows) {
        out << "| " << r.method << " | " << cell(r.pointingStrict) << " | " << cell(r.pointing15) << " | "
            << cell(r.energy) << " | " << cell(r.deletion) << " | " << cell(r.insertion) << " | ";
        if (road) out << cell(r.roadMorf) << " | " << cell(r.roadLerf) << " | ";
        out << std::fixed << std::setprecision(1) << r.msPerImage << " |\n";
    }
    out << "\n"
        << modelName << ", " << data << ", mean ± 95% confidence interval; deletion/insertion move "
        << options.pixelsPerStep << " pixels a step and score the explained class's probability (RISE)";
    if (road) {
        out << "; ROAD removes " << percentList(options.roadPercentages)
            << "% of the pixels, most (MoRF) or least (LeRF) relevant first, fills them by noisy linear imputation and "
               "averages that probability over the percentages";
    }
    out << ". The class explained is the top-1 unless a label is given. Agreement between methods is not correctness: "
           "these scores measure localisation and faithfulness on images whose ground truth is known.\n";
    return out.str();
}

namespace {

struct Bar {
    double x, y, width, height;  // in plot pixels, y grows downwards
    double ciTop, ciBottom;
    int method;
};

struct PlotLayout {
    int width = 720, height = 360;
    double left = 50, right = 160, top = 20, bottom = 50;
    std::vector<std::string> metrics = {"pointing (strict)", "energy pointing", "deletion AUC", "insertion AUC"};
    std::vector<Bar> bars;
};

PlotLayout layoutFor(const std::vector<EvalRow>& rows) {
    PlotLayout layout;
    std::vector<MeanCI EvalRow::*> values = {&EvalRow::pointingStrict, &EvalRow::energy, &EvalRow::deletion,
                                             &EvalRow::insertion};
    if (anyRoad(rows)) {
        layout.metrics.insert(layout.metrics.end(), {"ROAD MoRF", "ROAD LeRF"});
        values.insert(values.end(), {&EvalRow::roadMorf, &EvalRow::roadLerf});
        layout.width += 2 * 110;
    }
    const double plotWidth = layout.width - layout.left - layout.right;
    const double plotHeight = layout.height - layout.top - layout.bottom;
    const double groupWidth = plotWidth / double(layout.metrics.size());
    const double barWidth = groupWidth * 0.8 / double(std::max<std::size_t>(1, rows.size()));
    for (std::size_t m = 0; m < layout.metrics.size(); ++m) {
        for (std::size_t r = 0; r < rows.size(); ++r) {
            const MeanCI& value = rows[r].*values[m];
            const double y = layout.top + plotHeight * (1.0 - std::clamp(value.mean, 0.0, 1.0));
            Bar bar;
            bar.x = layout.left + groupWidth * double(m) + groupWidth * 0.1 + barWidth * double(r);
            bar.width = barWidth * 0.9;
            bar.y = y;
            bar.height = layout.top + plotHeight - y;
            bar.ciTop = layout.top + plotHeight * (1.0 - std::clamp(value.mean + value.halfWidth, 0.0, 1.0));
            bar.ciBottom = layout.top + plotHeight * (1.0 - std::clamp(value.mean - value.halfWidth, 0.0, 1.0));
            bar.method = int(r);
            layout.bars.push_back(bar);
        }
    }
    return layout;
}

// Okabe-Ito colours, distinguishable with colour-vision deficiencies.
const int kColours[][3] = {{0, 114, 178}, {230, 159, 0}, {0, 158, 115}, {204, 121, 167}, {86, 180, 233}, {213, 94, 0}, {240, 228, 66}, {0, 0, 0}};

std::string escapeXml(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '&') out += "&amp;";
        else out += c;
    }
    return out;
}

}  // namespace

std::string leaderboardSvg(const std::vector<EvalRow>& rows) {
    const PlotLayout layout = layoutFor(rows);
    std::ostringstream svg;
    svg << std::fixed << std::setprecision(1);
    svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << layout.width
        << "\" height=\"" << layout.height << "\" viewBox=\"0 0 " << layout.width << ' ' << layout.height
        << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    const double plotBottom = layout.height - layout.bottom;
    for (int tick = 0; tick <= 4; ++tick) {
        const double y = layout.top + (plotBottom - layout.top) * (1.0 - tick / 4.0);
        svg << "<line x1=\"" << layout.left << "\" y1=\"" << y << "\" x2=\"" << layout.width - layout.right << "\" y2=\"" << y
            << "\" stroke=\"#dddddd\"/>\n<text x=\"" << layout.left - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">"
            << tick / 4.0 << "</text>\n";
    }
    for (const Bar& bar : layout.bars) {
        const int* c = kColours[bar.method % 8];
        svg << "<rect class=\"bar\" x=\"" << bar.x << "\" y=\"" << bar.y << "\" width=\"" << bar.width << "\" height=\"" << bar.height
            << "\" fill=\"rgb(" << c[0] << ',' << c[1] << ',' << c[2] << ")\"/>\n";
        const double mid = bar.x + bar.width / 2;
        svg << "<line x1=\"" << mid << "\" y1=\"" << bar.ciTop << "\" x2=\"" << mid << "\" y2=\"" << bar.ciBottom
            << "\" stroke=\"black\"/>\n";
    }
    const double groupWidth = (layout.width - layout.left - layout.right) / double(layout.metrics.size());
    for (std::size_t m = 0; m < layout.metrics.size(); ++m) {
        svg << "<text x=\"" << layout.left + groupWidth * (double(m) + 0.5) << "\" y=\"" << plotBottom + 18
            << "\" text-anchor=\"middle\">" << escapeXml(layout.metrics[m]) << "</text>\n";
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const int* c = kColours[r % 8];
        const double y = layout.top + 10 + 18 * double(r);
        svg << "<rect x=\"" << layout.width - layout.right + 14 << "\" y=\"" << y - 9 << "\" width=\"12\" height=\"12\" fill=\"rgb("
            << c[0] << ',' << c[1] << ',' << c[2] << ")\"/>\n<text x=\"" << layout.width - layout.right + 32 << "\" y=\"" << y + 1
            << "\">" << escapeXml(rows[r].method) << "</text>\n";
    }
    svg << "</svg>\n";
    return svg.str();
}

cv::Mat leaderboardPlot(const std::vector<EvalRow>& rows) {
    const PlotLayout layout = layoutFor(rows);
    cv::Mat image(layout.height, layout.width, CV_8UC3, cv::Scalar(255, 255, 255));
    const int plotBottom = int(layout.height - layout.bottom);
    for (int tick = 0; tick <= 4; ++tick) {
        const int y = int(std::lround(layout.top + (plotBottom - layout.top) * (1.0 - tick / 4.0)));
        cv::line(image, {int(layout.left), y}, {int(layout.width - layout.right), y}, cv::Scalar(221, 221, 221));
        std::ostringstream label;
        label << tick / 4.0;
        cv::putText(image, label.str(), {4, y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
    for (const Bar& bar : layout.bars) {
        const int* c = kColours[bar.method % 8];
        cv::rectangle(image, cv::Rect(int(std::lround(bar.x)), int(std::lround(bar.y)), std::max(1, int(std::lround(bar.width))),
                                      std::max(0, int(std::lround(bar.height)))),
                      cv::Scalar(c[2], c[1], c[0]), cv::FILLED);
        const int mid = int(std::lround(bar.x + bar.width / 2));
        cv::line(image, {mid, int(std::lround(bar.ciTop))}, {mid, int(std::lround(bar.ciBottom))}, cv::Scalar(0, 0, 0));
    }
    const double groupWidth = (layout.width - layout.left - layout.right) / double(layout.metrics.size());
    for (std::size_t m = 0; m < layout.metrics.size(); ++m) {
        int baseline = 0;
        const cv::Size size = cv::getTextSize(layout.metrics[m], cv::FONT_HERSHEY_SIMPLEX, 0.4, 1, &baseline);
        cv::putText(image, layout.metrics[m], {int(layout.left + groupWidth * (double(m) + 0.5)) - size.width / 2, plotBottom + 18},
                    cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const int* c = kColours[r % 8];
        const int y = int(layout.top + 10 + 18 * double(r));
        cv::rectangle(image, cv::Rect(int(layout.width - layout.right + 14), y - 9, 12, 12), cv::Scalar(c[2], c[1], c[0]), cv::FILLED);
        cv::putText(image, rows[r].method, {int(layout.width - layout.right + 32), y + 1}, cv::FONT_HERSHEY_SIMPLEX, 0.4,
                    cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
    return image;
}

}  // namespace fovea
