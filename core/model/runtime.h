// Where and how LibTorch runs: the device (chosen at run time: CPU, or CUDA when the LibTorch
// build and the machine have it) and the intra-op thread count, set deliberately (see
// defaultThreadCount: it depends on which BLAS does the GEMMs and on OpenMP's wait policy).
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
    int threads = 0;              // 0: defaultThreadCount()
};

// Every available core with MKL or a passive OpenMP wait policy; one intra-op thread when a
// pthread BLAS does the GEMMs while OpenMP threads would spin against it.
int defaultThreadCount();
// OMP_WAIT_POLICY=PASSIVE is set (libgomp reads it when it loads, before main()).
bool openMpWaitsPassively();

void applyRuntimeOptions(const RuntimeOptions& options);
int runtimeThreads();
bool cudaAvailable();
// "auto" -> "cuda:0" when available, else "cpu". Throws Error when CUDA is asked for but absent.
std::string resolveDevice(const std::string& preference);
// One line: LibTorch version, device, threads, BLAS notes.
std::string runtimeSummary();

}  // namespace fovea
