#include "app/cli_args.h"

#include <cstdlib>

namespace fovea::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& valueOptions,
           const std::set<std::string>& flags) {
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& arg = argv[i];
        if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
            m_positional.push_back(arg);
            continue;
        }
        std::string name = arg.substr(2);
        std::string value;
        bool inlineValue = false;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inlineValue = true;
        }
        if (flags.count(name)) {
            if (inlineValue) throw UsageError{"option --" + name + " takes no value"};
            m_flags.insert(name);
        } else if (valueOptions.count(name)) {
            if (!inlineValue) {
                if (i + 1 >= argv.size()) throw UsageError{"option --" + name + " needs a value"};
                value = argv[++i];
            }
            m_values[name] = value;
            m_lists[name].push_back(value);
        } else {
            throw UsageError{"unknown option --" + name};
        }
    }
}

std::string Args::positional(std::size_t index, const std::string& what) const {
    if (index >= m_positional.size()) throw UsageError{"missing " + what};
    return m_positional[index];
}

std::vector<std::string> Args::values(const std::string& name) const {
    const auto it = m_lists.find(name);
    return it == m_lists.end() ? std::vector<std::string>{} : it->second;
}

std::string Args::value(const std::string& name, const std::string& fallback) const {
    const auto it = m_values.find(name);
    return it == m_values.end() ? fallback : it->second;
}

int Args::intValue(const std::string& name, int fallback) const {
    const auto it = m_values.find(name);
    if (it == m_values.end()) return fallback;
    char* end = nullptr;
    const long value = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0') throw UsageError{"option --" + name + " needs an integer, not '" + it->second + "'"};
    return int(value);
}

double Args::doubleValue(const std::string& name, double fallback) const {
    const auto it = m_values.find(name);
    if (it == m_values.end()) return fallback;
    char* end = nullptr;
    const double value = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0') throw UsageError{"option --" + name + " needs a number, not '" + it->second + "'"};
    return value;
}

}  // namespace fovea::cli
