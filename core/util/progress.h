// Progress: a Qt-free way for long work to report how far it is and to learn that the user
// cancelled. Core functions that may run for more than a moment take a `Progress&` and call
// update() between layers, images or iterations; when update() returns false they stop early
// and throw fovea::Cancelled.
//
//     void trainModel(const Options& options, Progress& progress) {
//         for (int step = 0; step < options.steps; ++step) {
//             ...
//             if (!progress.update(double(step + 1) / options.steps, "training"))
//                 throw fovea::Cancelled();
//         }
//     }
//
// The GUI's job class implements it with an atomic cancel flag; the CLI prints to the terminal.
#pragma once

#include <stdexcept>
#include <string_view>

namespace fovea {

class Progress {
public:
    virtual ~Progress() = default;
    // fraction in [0, 1]; message says what is being done. Returns false when cancelled.
    virtual bool update(double fraction, std::string_view message = {}) = 0;
};

// Progress that ignores reports and never cancels.
class NullProgress final : public Progress {
public:
    bool update(double, std::string_view) override { return true; }
};

// Reports of a part of the work as a slice [from, to] of the whole (e.g. one panel of many).
class SliceProgress final : public Progress {
public:
    SliceProgress(Progress& whole, double from, double to) : m_whole(whole), m_from(from), m_to(to) {}
    bool update(double fraction, std::string_view message) override {
        return m_whole.update(m_from + (m_to - m_from) * fraction, message);
    }

private:
    Progress& m_whole;
    double m_from, m_to;
};

// Thrown by core work that stopped because its Progress said so.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace fovea
