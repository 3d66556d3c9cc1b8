#include "core/model/runtime.h"

#include "core/util/error.h"
#include "core/util/system.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace fovea {

bool openMpWaitsPassively() {
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    if (policy == nullptr) return false;
    std::string value(policy);
    std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    return value == "PASSIVE";
}

int defaultThreadCount() {
    // With MKL (official LibTorch builds) GEMMs run on the OpenMP intra-op threads: use every core.
    // With a pthread BLAS (Debian's OpenBLAS) GEMMs bring their own threads, and OpenMP threads
    // that spin after each parallel region (libgomp's default "active" wait) take the cores from
    // them: ViT-B/16 forward measured 793 ms with 2 intra-op threads, 259 ms with 1, 228 ms with 2
    // and OMP_WAIT_POLICY=PASSIVE (fovea bench forward, 2 cores). So: all cores when OpenMP waits
    // passively or MKL does the GEMMs, else one intra-op thread.
    if (at::globalContext().hasMKL() || openMpWaitsPassively()) return availableCores();
    return 1;
}

void applyRuntimeOptions(const RuntimeOptions& options) {
    const int threads = options.threads > 0 ? options.threads : defaultThreadCount();
    if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

int runtimeThreads() { return at::get_num_threads(); }

bool cudaAvailable() { return torch::cuda::is_available(); }

std::string resolveDevice(const std::string& preference) {
    if (preference == "auto") return cudaAvailable() ? "cuda:0" : "cpu";
    if (preference == "cpu") return "cpu";
    if (preference.rfind("cuda", 0) == 0) {
        if (!cudaAvailable()) {
            throw Error("device '" + preference +
                        "' was asked for, but this LibTorch build or machine has no CUDA; use --device cpu");
        }
        return preference == "cuda" ? "cuda:0" : preference;
    }
    throw Error("device '" + preference + "' is not one of auto, cpu, cuda, cuda:N");
}

std::string runtimeSummary() {
    return std::string("LibTorch ") + TORCH_VERSION + ", " + std::to_string(runtimeThreads()) + " threads, " +
           (cudaAvailable() ? "CUDA available" : "CPU only");
}

}  // namespace fovea
