// What `fovea eval` writes: the leaderboard (CSV, Markdown, a small-multiples plot as SVG and PNG)
// and the method-agreement matrices.
#include "core/explain/evaluate.h"

#include "core/explain/explainer.h"
#include "core/explain/metrics.h"
#include "core/util/error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

namespace fovea {
namespace {

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

// ---- method agreement ----

std::vector<AgreementCell> methodAgreement(const EvalMaps& maps, double topFraction) {
    const int cells = maps.grid.area();
    const int k = std::clamp(int(std::lround(topFraction * cells)), 1, std::max(1, cells));
    std::vector<AgreementCell> out;
    for (std::size_t a = 0; a < maps.methods.size(); ++a) {
        for (std::size_t b = a + 1; b < maps.methods.size(); ++b) {
            const std::size_t images = std::min(maps.maps[a].size(), maps.maps[b].size());
            std::vector<double> spearman, topK;
            for (std::size_t i = 0; i < images; ++i) {
                const cv::Mat& first = maps.maps[a][i];
                const cv::Mat& second = maps.maps[b][i];
                if (first.empty() || second.empty()) continue;
                // A constant map has no ranking: its Spearman is undefined (NaN, left out of the mean).
                spearman.push_back(spearmanCorrelation(first, second));
                topK.push_back(topKIoU(first, second, k));
            }
            out.push_back({maps.methods[a], maps.methods[b], meanWithCI(spearman), meanWithCI(topK)});
        }
    }
    return out;
}

std::string agreementCsv(const std::vector<AgreementCell>& cells) {
    std::ostringstream out;
    out << "first,second,images,spearman,spearman_ci,topk_iou,topk_iou_ci\n" << std::setprecision(6);
    for (const AgreementCell& c : cells) {
        out << c.first << ',' << c.second << ',' << c.topK.count << ',' << c.spearman.mean << ','
            << c.spearman.halfWidth << ',' << c.topK.mean << ',' << c.topK.halfWidth << '\n';
    }
    return out.str();
}

std::string agreementMarkdown(const std::vector<AgreementCell>& cells, const EvalMaps& maps, double topFraction) {
    std::map<std::pair<std::string, std::string>, const AgreementCell*> lookup;
    for (const AgreementCell& c : cells) {
        lookup[{c.first, c.second}] = &c;
        lookup[{c.second, c.first}] = &c;
    }
    std::ostringstream out;
    auto matrix = [&](const std::string& title, MeanCI AgreementCell::*field) {
        out << "### " << title << "\n\n|  |";
        for (const std::string& m : maps.methods) out << ' ' << m << " |";
        out << "\n|---|";
        for (std::size_t i = 0; i < maps.methods.size(); ++i) out << "---|";
        out << '\n';
        for (const std::string& row : maps.methods) {
            out << "| " << row << " |";
            for (const std::string& column : maps.methods) {
                if (row == column) {
                    out << " 1 |";
                    continue;
                }
                const auto found = lookup.find({row, column});
                if (found == lookup.end() || (found->second->*field).count == 0) {
                    out << " – |";
                } else {
                    out << ' ' << std::fixed << std::setprecision(2) << (found->second->*field).mean << " |";
                }
            }
            out << '\n';
        }
        out << '\n';
    };
    out << "## Method agreement\n\n"
        << "**Agreement is not correctness.** Two methods that agree can both be wrong; use the leaderboard's "
           "localisation and faithfulness scores to judge a method. Maps resampled to a "
        << maps.grid.width << "x" << maps.grid.height << " grid; mean over images (the CSV has 95% CIs).\n\n";
    matrix("Spearman rank correlation", &AgreementCell::spearman);
    std::ostringstream percent;
    percent << std::lround(topFraction * 100.0);
    matrix("IoU of the top " + percent.str() + "% cells", &AgreementCell::topK);
    return out.str();
}

// ---- the plot ----

namespace {

struct PlotBar {
    double x, y, width, height;  // in plot pixels, y grows downwards
    double ciLeft, ciRight, ciY;
    int colour;
};

struct PlotText {
    double x, y;
    std::string text;
    std::string anchor;  // "start", "middle" or "end"
    bool bold = false;
};

struct PlotLine {
    double x1, y1, x2, y2;
    int grey;  // 0 black .. 255 white
};

// Everything both renderers draw, in one coordinate system.
struct PlotLayout {
    int width = 0, height = 0;
    std::vector<PlotBar> bars;
    std::vector<PlotLine> lines;
    std::vector<PlotText> texts;
    std::vector<std::pair<cv::Rect2d, int>> swatches;  // legend squares and their colour
};

// Okabe-Ito colours (distinguishable with colour-vision deficiencies), one per method family.
const int kFamilyColours[][3] = {{0, 114, 178}, {230, 159, 0}, {0, 158, 115}, {204, 121, 167}, {120, 120, 120}};
const char* kFamilyNames[] = {"attention", "gradient", "CAM", "perturbation", "other"};

int familyColour(const std::string& method) {
    std::string family;
    try {
        family = findExplainer(method).family();
    } catch (const Error&) {
        return 4;
    }
    if (family == "attention") return 0;
    if (family == "gradient") return 1;
    if (family == "cam") return 2;
    if (family == "perturbation") return 3;
    return 4;
}

PlotLayout layoutFor(const std::vector<EvalRow>& rows) {
    std::vector<std::string> titles = {"pointing (strict)", "energy pointing", "deletion AUC", "insertion AUC"};
    std::vector<bool> higherIsBetter = {true, true, false, true};
    std::vector<MeanCI EvalRow::*> values = {&EvalRow::pointingStrict, &EvalRow::energy, &EvalRow::deletion,
                                             &EvalRow::insertion};
    if (anyRoad(rows)) {
        titles.insert(titles.end(), {"ROAD MoRF", "ROAD LeRF"});
        higherIsBetter.insert(higherIsBetter.end(), {false, true});
        values.insert(values.end(), {&EvalRow::roadMorf, &EvalRow::roadLerf});
    }
    std::size_t longest = 6;
    for (const EvalRow& r : rows) longest = std::max(longest, r.method.size());
    const double labels = 12.0 + 6.5 * double(longest);
    const double panel = 140.0, gap = 18.0, rowHeight = 16.0, top = 44.0;
    const double plotBottom = top + rowHeight * double(rows.size());
    PlotLayout layout;
    layout.width = int(std::ceil(labels + double(titles.size()) * (panel + gap) + 4.0));
    layout.height = int(std::ceil(plotBottom + 58.0));
    for (std::size_t r = 0; r < rows.size(); ++r) {
        layout.texts.push_back({labels - 8.0, top + rowHeight * (double(r) + 0.5) + 4.0, rows[r].method, "end"});
    }
    for (std::size_t m = 0; m < titles.size(); ++m) {
        const double left = labels + double(m) * (panel + gap);
        layout.texts.push_back({left + panel / 2.0, top - 24.0, titles[m], "middle", true});
        layout.texts.push_back({left + panel / 2.0, top - 10.0, higherIsBetter[m] ? "higher is better" : "lower is better",
                                "middle"});
        for (int tick = 0; tick <= 4; ++tick) {
            const double x = left + panel * tick / 4.0;
            layout.lines.push_back({x, top - 2.0, x, plotBottom + 2.0, tick == 0 ? 0 : 220});
            if (tick % 2 == 0) {
                std::ostringstream label;
                label << tick / 4.0;
                layout.texts.push_back({x, plotBottom + 15.0, label.str(), "middle"});
            }
        }
        for (std::size_t r = 0; r < rows.size(); ++r) {
            const MeanCI& value = rows[r].*values[m];
            if (value.count == 0) continue;
            PlotBar bar;
            bar.x = left;
            bar.y = top + rowHeight * double(r) + 3.0;
            bar.width = panel * std::clamp(value.mean, 0.0, 1.0);
            bar.height = rowHeight - 6.0;
            bar.ciLeft = left + panel * std::clamp(value.mean - value.halfWidth, 0.0, 1.0);
            bar.ciRight = left + panel * std::clamp(value.mean + value.halfWidth, 0.0, 1.0);
            bar.ciY = bar.y + bar.height / 2.0;
            bar.colour = familyColour(rows[r].method);
            layout.bars.push_back(bar);
        }
    }
    double x = labels;
    const double legendY = plotBottom + 36.0;
    for (int f = 0; f < 4; ++f) {
        layout.swatches.push_back({cv::Rect2d(x, legendY - 9.0, 11.0, 11.0), f});
        layout.texts.push_back({x + 16.0, legendY + 1.0, kFamilyNames[f], "start"});
        x += 34.0 + 6.5 * double(std::string(kFamilyNames[f]).size());
    }
    layout.texts.push_back({x + 8.0, legendY + 1.0, "whiskers: 95% CI", "start"});
    return layout;
}

std::string escapeXml(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else if (c == '&') {
            out += "&amp;";
        } else {
            out += c;
        }
    }
    return out;
}

std::string rgb(int colour) {
    const int* c = kFamilyColours[colour];
    return "rgb(" + std::to_string(c[0]) + ',' + std::to_string(c[1]) + ',' + std::to_string(c[2]) + ')';
}

cv::Scalar bgr(int colour) {
    const int* c = kFamilyColours[colour];
    return cv::Scalar(c[2], c[1], c[0]);
}

}  // namespace

std::string leaderboardSvg(const std::vector<EvalRow>& rows) {
    const PlotLayout layout = layoutFor(rows);
    std::ostringstream svg;
    svg << std::fixed << std::setprecision(1);
    svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << layout.width
        << "\" height=\"" << layout.height << "\" viewBox=\"0 0 " << layout.width << ' ' << layout.height
        << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    for (const PlotLine& l : layout.lines) {
        svg << "<line x1=\"" << l.x1 << "\" y1=\"" << l.y1 << "\" x2=\"" << l.x2 << "\" y2=\"" << l.y2 << "\" stroke=\"rgb("
            << l.grey << ',' << l.grey << ',' << l.grey << ")\"/>\n";
    }
    for (const PlotBar& bar : layout.bars) {
        svg << "<rect class=\"bar\" x=\"" << bar.x << "\" y=\"" << bar.y << "\" width=\"" << bar.width << "\" height=\""
            << bar.height << "\" fill=\"" << rgb(bar.colour) << "\"/>\n";
        svg << "<path d=\"M" << bar.ciLeft << ' ' << bar.ciY << "H" << bar.ciRight << "M" << bar.ciLeft << ' ' << bar.ciY - 3
            << "v6M" << bar.ciRight << ' ' << bar.ciY - 3 << "v6\" stroke=\"black\" fill=\"none\"/>\n";
    }
    for (const auto& [rect, colour] : layout.swatches) {
        svg << "<rect x=\"" << rect.x << "\" y=\"" << rect.y << "\" width=\"" << rect.width << "\" height=\"" << rect.height
            << "\" fill=\"" << rgb(colour) << "\"/>\n";
    }
    for (const PlotText& t : layout.texts) {
        svg << "<text x=\"" << t.x << "\" y=\"" << t.y << "\" text-anchor=\"" << t.anchor << "\""
            << (t.bold ? " font-weight=\"bold\"" : "") << ">" << escapeXml(t.text) << "</text>\n";
    }
    svg << "</svg>\n";
    return svg.str();
}

cv::Mat leaderboardPlot(const std::vector<EvalRow>& rows) {
    const PlotLayout layout = layoutFor(rows);
    cv::Mat image(layout.height, layout.width, CV_8UC3, cv::Scalar(255, 255, 255));
    auto point = [](double x, double y) { return cv::Point(int(std::lround(x)), int(std::lround(y))); };
    for (const PlotLine& l : layout.lines) {
        cv::line(image, point(l.x1, l.y1), point(l.x2, l.y2), cv::Scalar(l.grey, l.grey, l.grey));
    }
    for (const PlotBar& bar : layout.bars) {
        if (bar.width >= 0.5) {
            cv::rectangle(image, point(bar.x, bar.y), point(bar.x + bar.width, bar.y + bar.height), bgr(bar.colour),
                          cv::FILLED);
        }
        cv::line(image, point(bar.ciLeft, bar.ciY), point(bar.ciRight, bar.ciY), cv::Scalar(0, 0, 0));
        cv::line(image, point(bar.ciLeft, bar.ciY - 3), point(bar.ciLeft, bar.ciY + 3), cv::Scalar(0, 0, 0));
        cv::line(image, point(bar.ciRight, bar.ciY - 3), point(bar.ciRight, bar.ciY + 3), cv::Scalar(0, 0, 0));
    }
    for (const auto& [rect, colour] : layout.swatches) {
        cv::rectangle(image, point(rect.x, rect.y), point(rect.x + rect.width, rect.y + rect.height), bgr(colour), cv::FILLED);
    }
    for (const PlotText& t : layout.texts) {
        const std::string& text = t.text;
        const double scale = t.bold ? 0.36 : 0.38;
        int baseline = 0;
        const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
        double x = t.x;
        if (t.anchor == "middle") x -= size.width / 2.0;
        if (t.anchor == "end") x -= size.width;
        cv::putText(image, text, point(x, t.y), cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
    return image;
}

}  // namespace fovea
