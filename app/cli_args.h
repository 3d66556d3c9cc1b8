// A small command-line parser for `fovea <command> ...`: positional arguments, `--key value`,
// `--key=value` and `--flag`. Unknown options are an error, so a typo never goes unnoticed.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace fovea::cli {

class Args {
public:
    // valueOptions take a value; flags do not. Throws UsageError on anything else.
    Args(const std::vector<std::string>& argv, const std::set<std::string>& valueOptions,
         const std::set<std::string>& flags);

    const std::vector<std::string>& positional() const { return m_positional; }
    std::string positional(std::size_t index, const std::string& what) const;  // throws if missing
    bool has(const std::string& name) const { return m_values.count(name) > 0 || m_flags.count(name) > 0; }
    std::string value(const std::string& name, const std::string& fallback = {}) const;
    // Every value of an option given more than once (--param a=1 --param b=2), in order.
    std::vector<std::string> values(const std::string& name) const;
    int intValue(const std::string& name, int fallback) const;
    double doubleValue(const std::string& name, double fallback) const;

private:
    std::vector<std::string> m_positional;
    std::map<std::string, std::string> m_values;  // the last value of each option
    std::map<std::string, std::vector<std::string>> m_lists;
    std::set<std::string> m_flags;
};

// Wrong use of the command line (exit code 2), as opposed to bad input (exit code 1).
struct UsageError {
    std::string message;
};

}  // namespace fovea::cli
