// The headless subcommands of `fovea`. Each takes its arguments (after the command name) and
// returns the process exit code; bad input surfaces as fovea::Error, wrong usage as UsageError.
#pragma once

#include <string>
#include <vector>

namespace fovea::cli {

using Arguments = std::vector<std::string>;

int runInfoCommand(const Arguments& arguments);
int runRunCommand(const Arguments& arguments);
int runDumpCommand(const Arguments& arguments);
int runDemoCommand(const Arguments& arguments);
int runTrainDemoCommand(const Arguments& arguments);
int runBenchCommand(const Arguments& arguments);
int runEvalCommand(const Arguments& arguments);   // commands/eval.cpp
int runMethodsCommand(const Arguments& arguments);  // commands/eval.cpp
int runSegmentCommand(const Arguments& arguments);  // commands/segment.cpp (segment, segment eval)
int runTokenizeCommand(const Arguments& arguments);  // commands/tokenize.cpp
int runGazeCommand(const Arguments& arguments);      // commands/gaze.cpp (gaze eval, gaze visual-search)
int runScanpathCommand(const Arguments& arguments);  // commands/gaze.cpp (scanpath, scanpath compare)
int runGazeBenchCommand(const Arguments& arguments);  // commands/bench_gaze.cpp (fovea bench gaze)
int runHeadsImportanceCommand(const Arguments& arguments);  // commands/heads_importance.cpp
int runHeadsBenchCommand(const Arguments& arguments);       // commands/bench_heads.cpp (fovea bench heads-importance)
#ifdef FOVEA_HAS_GUI
int runGuiCommand(const Arguments& arguments);     // commands/gui.cpp
int runExportCommand(const Arguments& arguments);
int runGuiBenchCommand(const Arguments& arguments);  // fovea bench gui
#endif

// Where the shipped demo model lives (source tree when run from a build, or the install).
std::string findDemoModel();

}  // namespace fovea::cli
