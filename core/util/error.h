// fovea::Error: the one exception type core throws for bad input and failed operations.
//
// Its message is a single line that names the file (or object) and the problem, ready to be
// shown to a user as it is:
//
//     throw fovea::Error(path, "header length 9000 runs past the end of the file (120 bytes)");
//     // what(): "model.safetensors: header length 9000 runs past the end of the file (120 bytes)"
//
// The CLI prints what() and exits non-zero; the GUI shows it in a message bar.
#pragma once

#include <stdexcept>
#include <string>

namespace fovea {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
    // "<subject>: <problem>", where subject is usually a file path.
    Error(const std::string& subject, const std::string& problem)
        : std::runtime_error(subject + ": " + problem) {}
};

}  // namespace fovea
