// Where and how LibTorch runs: the device (chosen at run time: CPU, or CUDA when the LibTorch
// build and the machine have it) and the intra-op thread count (LibTorch's default here is one
// thread, so Fovea sets it deliberately: all cores the process may use unless told otherwise).
//
//     RuntimeOptions options;            // device "auto", threads 0 = all available cores
//     options.device = "cpu";
//     applyRuntimeOptions(options);      // sets the thread count once per process
//     std::string device = resolveDevice(options.device);   // "cpu" or "cuda:0"
#pragma once

#include <string>

namespace fovea {

struct RuntimeOptions {
    std::string device = "auto";  // "auto", "cpu", "cuda", "cuda:N"
    int threads = 0;              // 0: every core this process may run on
};

void applyRuntimeOptions(const RuntimeOptions& options);
int runtimeThreads();
bool cudaAvailable();
// "auto" -> "cuda:0" when available, else "cpu". Throws Error when CUDA is asked for but absent.
std::string resolveDevice(const std::string& preference);
// One line: LibTorch version, device, threads, BLAS notes.
std::string runtimeSummary();

}  // namespace fovea
