// fovea: the desktop workbench (no command) and its headless commands.
#include "app/cli_args.h"
#include "app/commands/commands.h"
#include "core/util/error.h"
#include "core/util/progress.h"

#include <cstdio>
#include <cstdlib>

#include <unistd.h>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

const char* kUsage =
    "usage: fovea <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  info MODEL [--json]                     what a model is: family, layers, heads, tokens, preprocessing\n"
    "  run MODEL INPUT --out FILE.png|FILE.npy  one explanation map over the image\n"
    "      [--method NAME (see `fovea methods`)] [--layer L] [--head H|mean|max|min]\n"
    "      [--query cls|dist|regK|ROW,COL|N] [--target CLASS] [--param NAME=VALUE ...]\n"
    "      [--discard RATIO] [--colormap NAME] [--opacity A] [--smooth]\n"
    "  dump MODEL INPUT --out FILE.npz [--layer L]  logits, attention_<l> [H,N,N] and tokens\n"
    "  run MODEL --text \"...\" [--text-pair \"...\"] | --ids IDS.npy --out SCORES.npy|json [--method raw|rollout|chefer|input-x-gradient|integrated-gradients]\n"
    "      [--target CLASS|TOKEN] [--position P] [--token-types T.npy] [--attention-mask M.npy] [--overflow refuse|truncate]\n"
    "                                          one score per token for GPT-2 / BERT (next-token or class target)\n"
    "  run CLIP IMAGE --text \"...\" | --ids IDS.npy --out MAP.png|npy [--method chefer|gradcam] [--exclude-magnets]\n"
    "                                          text prompt -> image heatmap, relevance per token, similarity\n"
    "  dump MODEL [IMAGE] --text \"...\" | --ids IDS.npy --out FILE.npz  position_logits, attention_<l>, text_attention_<l> (CLIP), tokens\n"
    "  demo [--out DIR] [--seed N]             run the shipped shapes-vit model on a generated scene\n"
    "  eval [MODEL] [--methods a,b|all] [--scenes N | --data FOLDER [--boxes FILE.csv]] [--step PIXELS]\n"
    "       [--road] [--road-percentages 10,30,50,70,90] [--out DIR]\n"
    "                                          leaderboard of methods on generated scenes, or on FOLDER's\n"
    "                                          images with FOLDER/masks/<stem>.png or boxes (file,x1,y1,x2,y2[,label]);\n"
    "                                          --road adds ROAD MoRF/LeRF (noisy linear imputation)\n"
    "  train-demo shapes-vit|induction-gpt [--out DIR] [--steps N] [--batch N] [--seed S] [--threads N]\n"
    "  methods                                 the explanation methods, their parameters and papers\n"
    "  segment MODEL INPUTS... --out DIR [--method M (see `fovea segment methods`)] [--param NAME=VALUE ...]\n"
    "      [--layer L] [--map EXPLAINER] [--map-param NAME=VALUE ...] [--classes N] [--opacity A]\n"
    "                                          label mask PNG + overlay per input (DINO, LOST, TokenCut, ...)\n"
    "  segment eval [MODEL] [--scenes N | --data DIR --gt DIR] [--methods a,b] [--param NAME=VALUE] --out TABLE.csv\n"
    "                                          mIoU and CorLoc (95% CI) per method; shapes scenes by default\n"
    "  tokenize MODEL --text \"...\" [--text-pair \"...\"] [--max-length N] [--overflow refuse|truncate]\n"
    "      [--no-special] [--json] | --decode ID,ID,...\n"
    "                                          each token's id, text and byte span (tokenizer.json or vocab files)\n"
    "  gaze eval MODEL --stimuli DIR --fixations FILE [--method M] [--param NAME=VALUE ...] --out TABLE.csv\n"
    "       [--sigma PX | --sigma-deg DEG --ppd PX] [--display WxH] [--skip-missing] [--mit]\n"
    "                                          saliency metrics (AUC-Judd, AUC-Borji, sAUC, NSS, CC, KLD, SIM, IG) of a\n"
    "                                          model's maps against human fixations, per image, mean and inter-observer\n"
    "  gaze visual-search [MODEL] [--scenes N] [--methods a,b] [--fixations N] [--out DIR]\n"
    "                                          fixations a model scanpath needs to land on the target (shapes scenes)\n"
    "  scanpath MODEL IMAGE --out PATH.csv|png|svg [--method M] [--fixations N] [--radius PX]\n"
    "      [--inhibition disk|gaussian] [--decay D] [--segments SEGMENTER [--rank mass|mean]] [--human FILE]\n"
    "                                          a scanpath from the model's map (winner-take-all + inhibition of return)\n"
    "  scanpath compare A.csv B.csv --screen WxH [--grouping --tdir DEG --tdur S --tamp PX] [--json]\n"
    "                                          MultiMatch, ScanMatch, edit distance, DTW, Frechet, sequence score\n"
    "  heads MODEL [IMAGES...] [--scenes N] | --ids IDS.npy | --text \"...\" | --probe-repeat HALF [--probes N]\n"
    "      --out heads.csv|heads.json [--importance] [--layer L[,L...]] [--k N] [--cluster kmeans|ward] [--embedding pca|tsne] [--tau 0.2]\n"
    "                                          head atlas: per-head features, labels (local, sink, induction, ...),\n"
    "                                          clusters, 2D map and attention sinks (JSON) over the inputs\n"
    "  bench heads [--layers 84 --heads 12 --inputs 100 --tokens 197] [--device auto|cpu|cuda] [--torch-pass]\n"
    "                                      features + taxonomy + clustering timing\n"
    "  heads-importance [MODEL] --scenes N | MODEL INPUTS... --out TABLE.csv [--labels FILE.csv]\n"
    "      [--order accuracy|confidence|kl|gradient] [--no-gradient] [--mask-compare K,K,...] [--draws N] [--held-out]\n"
    "      [--markdown FILE.md] [--top N] [--batch N]\n"
    "  heads-importance MODEL --probe-repeat HALF [--probes N] [--seed S] | --text \"...\" | --ids IDS.npy --out TABLE.csv\n"
    "                                          head importance: mask one head at a time (accuracy, confidence,\n"
    "                                          KL) and the gradient proxy; top-K vs random-K masking; for GPT-2,\n"
    "                                          next-token accuracy / confidence / KL on the probes' second copy\n"
    "  bench heads-importance [--arch NAME] [--images N] [--extrapolate N]   head importance time, random weights\n"
    "  bench forward|explain|segment|gaze [--arch NAME] [--runs N] [--threads N] [--batch N] [--method M ...]   forward / methods vs forward\n"
    "  bench gui [--model DIR] [--switches N] [--case all|heatmap|token-matrix] [--tokens N] [--repaints N]\n"
    "                                          layer/head switch and first-heatmap times in the window;\n"
    "                                          token x token matrix repaints at 1,024 tokens\n"
#ifdef FOVEA_HAS_GUI
    "  gui [MODEL] [IMAGES...] [--session S.fovea] [--screenshot OUT.png] [--size WxH]\n"
    "      [--view atlas|compare|all-methods|3d|segment|gaze|gaze-cube|heads|heads-3d|sinks|\n"
    "              text-heads|text-matrix|text-saliency|text-atlas]\n"
    "      [--method M] [--text T] [--text-pair T] [--tokenizer DIR] [--overflow truncate|refuse]\n"
    "      [--fixations FILE]                  (human eye-tracking data for the Gaze page)\n"
    "                                          the workbench window (also: fovea with no command)\n"
    "  export S.fovea --out FIG.png|svg|pdf [--view heatmap|atlas|compare|all-methods|segment|heads|sinks] [--dpi N]\n"
    "                                          a session's figure (or every method as a grid), headless\n"
#endif
    "\n"
    "MODEL is a folder with model.safetensors (+ config.json) or a .safetensors file (timm or\n"
    "Hugging Face layout). INPUT is an image file or a float32 [1,3,H,W] .npy that is already\n"
    "normalised. Common options: --device auto|cpu|cuda, --threads N (0 = all cores).\n";

}  // namespace

// Long-running commands restart themselves once with OMP_WAIT_POLICY=PASSIVE: libgomp reads
// it when it is loaded (before main), and its default of spinning after each parallel region
// takes the cores from a pthread BLAS (3.5x slower ViT-B forward on 2 cores; see runtime.h).
// Short commands skip the ~0.4 s restart and run with one intra-op thread instead.
static void restartWithPassiveOpenMp(const std::vector<std::string>& args, char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("FOVEA_NO_RESTART") != nullptr) return;
    const std::string command = args.empty() ? "gui" : args[0];
    if (command != "gui" && command != "bench" && command != "train-demo" && command != "export" && command != "eval" &&
        command != "segment" && command != "gaze" && command != "heads-importance")
        return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    setenv("FOVEA_NO_RESTART", "1", 1);
    execv("/proc/self/exe", argv);
    // If the restart is impossible, go on as we are.
}

int main(int argc, char** argv) {
    using namespace fovea::cli;
    const std::vector<std::string> all(argv + 1, argv + argc);
    restartWithPassiveOpenMp(all, argv);
#ifdef FOVEA_HAS_GUI
    std::vector<std::string> withCommand = all;
    if (withCommand.empty()) withCommand = {"gui"};
#else
    const std::vector<std::string>& withCommand = all;
#endif
    if (withCommand.empty() || (!all.empty() && (all[0] == "--help" || all[0] == "-h" || all[0] == "help"))) {
        std::fputs(kUsage, all.empty() ? stderr : stdout);
        return all.empty() ? 2 : 0;
    }
    const std::map<std::string, std::function<int(const Arguments&)>> commands = {
        {"info", runInfoCommand},   {"run", runRunCommand},         {"dump", runDumpCommand},
        {"demo", runDemoCommand},   {"train-demo", runTrainDemoCommand}, {"bench", runBenchCommand},
        {"eval", runEvalCommand},   {"methods", runMethodsCommand}, {"segment", runSegmentCommand},
        {"tokenize", runTokenizeCommand}, {"gaze", runGazeCommand},   {"scanpath", runScanpathCommand},
        {"heads", runHeadsCommand},
        {"heads-importance", runHeadsImportanceCommand},
#ifdef FOVEA_HAS_GUI
        {"gui", runGuiCommand},     {"export", runExportCommand},
#endif
    };
    const std::string& name = withCommand[0];
    const auto command = commands.find(name);
    if (command == commands.end()) {
        std::fprintf(stderr, "fovea: unknown command '%s'\n\n%s", name.c_str(), kUsage);
        return 2;
    }
    try {
        return command->second(Arguments(withCommand.begin() + 1, withCommand.end()));
    } catch (const UsageError& error) {
        std::fprintf(stderr, "fovea %s: %s (see fovea --help)\n", name.c_str(), error.message.c_str());
        return 2;
    } catch (const fovea::Cancelled&) {
        std::fprintf(stderr, "fovea %s: cancelled\n", name.c_str());
        return 130;
    } catch (const fovea::Error& error) {
        std::fprintf(stderr, "fovea: %s\n", error.what());
        return 1;
    } catch (const std::exception& error) {
        // LibTorch and OpenCV errors can span lines; keep the first one.
        std::string message = error.what();
        message = message.substr(0, message.find('\n'));
        std::fprintf(stderr, "fovea: %s\n", message.c_str());
        return 1;
    }
}
