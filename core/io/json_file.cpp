#include "core/io/json_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/util/error.h"

namespace fovea {

namespace {

std::string systemErrorText(int errorNumber) {
    return std::strerror(errorNumber);
}

// A name no other writer in this or another process picks at the same moment: the pid keeps
// processes apart, the counter keeps threads and repeated calls apart.
std::string temporaryPathFor(const std::string& path, int attempt) {
    static std::atomic<unsigned long> counter{0};
    return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
           std::to_string(attempt);
}

// Created with O_EXCL so we never truncate somebody else's file, and with mode 0666 so the
// final file gets the permissions the user's umask asks for (mkstemp would force 0600).
std::string createTemporaryFile(const std::string& path) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        const std::string candidate = temporaryPathFor(path, attempt);
        const int descriptor =
            ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (descriptor >= 0) {
            ::close(descriptor);
            return candidate;
        }
        if (errno != EEXIST) {
            throw Error(path, "cannot create temporary file '" + candidate +
                                  "': " + systemErrorText(errno));
        }
    }
    throw Error(path, "cannot create a temporary file beside it: too many stale temporary files");
}

// Without fsync a crash shortly after the rename can leave an empty file under the final name
// on some file systems, which defeats the point of writing atomically.
void flushToDisk(const std::string& path, const std::string& temporaryPath) {
    const int descriptor = ::open(temporaryPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) {
        throw Error(path, "cannot reopen temporary file '" + temporaryPath +
                              "': " + systemErrorText(errno));
    }
    const int result = ::fsync(descriptor);
    const int syncError = errno;
    ::close(descriptor);
    if (result != 0 && syncError != EINVAL && syncError != EROFS) {
        throw Error(path, "cannot flush temporary file '" + temporaryPath +
                              "' to disk: " + systemErrorText(syncError));
    }
}

bool isValidUtf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80           ? 1
                                   : (lead >> 5) == 0x6  ? 2
                                   : (lead >> 4) == 0xE  ? 3
                                   : (lead >> 3) == 0x1E ? 4
                                                         : 0;
        if (length == 0 || i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
        }
        i += length;
    }
    return true;
}

}  // namespace

std::string printableText(std::string_view text) {
    const bool keepHighBytes = isValidUtf8(text);
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F || (byte >= 0x80 && !keepHighBytes)) {
            static const char kDigits[] = "0123456789abcdef";
            out += "\\x";
            out += kDigits[byte >> 4];
            out += kDigits[byte & 0xF];
        } else {
            out += c;
        }
    }
    return out;
}

std::string jsonErrorText(const std::exception& error) {
    std::string_view message = error.what();
    // nlohmann's own message already says "parse error at line L, column C: ...".
    if (!message.empty() && message.front() == '[') {
        const std::size_t close = message.find("] ");
        if (close != std::string_view::npos) message.remove_prefix(close + 2);
    }
    return printableText(message);
}

std::string readFileContents(const std::string& path) {
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) throw Error(path, "cannot open: " + systemErrorText(errno));
    std::string contents;
    char chunk[1 << 16];
    for (;;) {
        const ssize_t count = ::read(descriptor, chunk, sizeof chunk);
        if (count == 0) break;
        if (count < 0) {
            if (errno == EINTR) continue;
            const int readError = errno;
            ::close(descriptor);
            throw Error(path, "cannot read: " + systemErrorText(readError));
        }
        contents.append(chunk, static_cast<std::size_t>(count));
    }
    ::close(descriptor);
    return contents;
}

void writeFileAtomically(const std::string& path,
                         const std::function<void(std::ostream&)>& writeContent) {
    const std::string temporaryPath = createTemporaryFile(path);
    try {
        {
            std::ofstream output(temporaryPath, std::ios::binary | std::ios::trunc);
            if (!output) {
                throw Error(path, "cannot open temporary file '" + temporaryPath +
                                      "': " + systemErrorText(errno));
            }
            writeContent(output);
            output.flush();
            if (!output) {
                throw Error(path, "cannot write temporary file '" + temporaryPath +
                                      "': " + systemErrorText(errno));
            }
        }
        flushToDisk(path, temporaryPath);
        if (std::rename(temporaryPath.c_str(), path.c_str()) != 0) {
            throw Error(
                path, "cannot replace it with '" + temporaryPath + "': " + systemErrorText(errno));
        }
    } catch (...) {
        std::remove(temporaryPath.c_str());
        throw;
    }
}

nlohmann::json readJsonFile(const std::string& path) {
    const std::string text = readFileContents(path);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& error) {
        throw Error(path, "invalid JSON: " + jsonErrorText(error));
    }
}

void writeJsonFile(const std::string& path, const nlohmann::json& value, int indent) {
    std::string text;
    try {
        text = value.dump(indent);
    } catch (const nlohmann::json::exception& error) {
        // dump() refuses strings that are not valid UTF-8.
        throw Error(path, "cannot serialize JSON: " + jsonErrorText(error));
    }
    text += '\n';
    writeFileAtomically(path, [&](std::ostream& output) {
        output.write(text.data(), static_cast<std::streamsize>(text.size()));
    });
}

}  // namespace fovea
