#include "app/console_progress.h"

#include <unistd.h>

#include <cstdio>

namespace fovea::cli {

ConsoleProgress::ConsoleProgress() : m_enabled(isatty(STDERR_FILENO) != 0) {}

ConsoleProgress::~ConsoleProgress() {
    if (m_enabled && m_lastPercent >= 0) std::fprintf(stderr, "\n");
}

bool ConsoleProgress::update(double fraction, std::string_view message) {
    if (!m_enabled) return true;
    const int percent = int(fraction * 100.0 + 0.5);
    if (percent == m_lastPercent && message == m_lastMessage) return true;
    m_lastPercent = percent;
    m_lastMessage = std::string(message);
    std::fprintf(stderr, "\r%-24s %3d%%", m_lastMessage.c_str(), percent);
    std::fflush(stderr);
    return true;
}

}  // namespace fovea::cli
