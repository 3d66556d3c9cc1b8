#include "core/model/runtime.h"

#include "core/util/error.h"
#include "core/util/system.h"

#include <torch/torch.h>
#include <torch/version.h>

namespace fovea {

void applyRuntimeOptions(const RuntimeOptions& options) {
    const int threads = options.threads > 0 ? options.threads : availableCores();
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
