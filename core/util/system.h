// Facts about the machine that sizing decisions need: physical memory, core count, and a
// human-readable byte count for messages.
//
//     std::size_t budget = physicalMemoryBytes() / 4;
//     std::cout << formatBytes(budget);   // "5.9 GiB"
#pragma once

#include <cstddef>
#include <string>

namespace fovea {

std::size_t physicalMemoryBytes();
// Cores the process may run on (affinity-aware), at least 1.
int availableCores();
std::string formatBytes(double bytes);

}  // namespace fovea
