// Progress for the terminal: a percentage on stderr when it is a TTY, silence otherwise
// (so logs of batch runs stay clean). Never cancels.
#pragma once

#include "core/util/progress.h"

#include <string>

namespace fovea::cli {

class ConsoleProgress final : public Progress {
public:
    ConsoleProgress();
    ~ConsoleProgress() override;
    bool update(double fraction, std::string_view message) override;

private:
    bool m_enabled;
    int m_lastPercent = -1;
    std::string m_lastMessage;
};

}  // namespace fovea::cli
