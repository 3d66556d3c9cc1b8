#include "core/data/token_sequences.h"

#include "core/util/error.h"

#include <algorithm>
#include <numeric>

namespace fovea {

CopiedSpanSequence copiedSpanSequence(const CopiedSpanOptions& o, std::mt19937_64& random) {
    const int start = o.bos >= 0 ? 1 : 0;
    if (o.minSpan < 2 || o.maxSpan < o.minSpan || o.maxFresh < 2 || o.length < start + 2 * o.minSpan) {
        throw Error("copied-span sequence: length " + std::to_string(o.length) + " cannot hold two spans of " +
                    std::to_string(o.minSpan) + " tokens");
    }
    if (o.randomVocab < o.length) {
        throw Error("copied-span sequence: " + std::to_string(o.randomVocab) + " content tokens cannot fill " +
                    std::to_string(o.length) + " positions without chance repeats");
    }
    auto below = [&](int n) { return int(std::uniform_int_distribution<int>(0, n - 1)(random)); };
    // Fresh tokens: a random draw without replacement from the content ids.
    std::vector<std::int64_t> pool(std::size_t(o.randomVocab));
    std::iota(pool.begin(), pool.end(), 0);
    for (int i = 0; i < o.length; ++i) std::swap(pool[std::size_t(i)], pool[std::size_t(i + below(o.randomVocab - i))]);
    pool.resize(std::size_t(o.length));  // never more fresh tokens than positions
    std::size_t nextFresh = 0;

    CopiedSpanSequence s;
    s.ids.reserve(std::size_t(o.length) + std::size_t(std::max(o.maxFresh, o.maxSpan)));
    s.copied.reserve(s.ids.capacity());
    if (o.bos >= 0) {
        s.ids.push_back(o.bos);
        s.copied.push_back(0);
    }
    struct Run {
        int begin, end;
    };
    std::vector<Run> fresh, copyable;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    while (int(s.ids.size()) < o.length) {
        copyable.clear();
        for (const Run& r : fresh) {
            if (r.end - r.begin >= o.minSpan) copyable.push_back(r);
        }
        if (!copyable.empty() && unit(random) < o.copyShare) {
            const Run run = copyable[std::size_t(below(int(copyable.size())))];
            const int span = o.minSpan + below(std::min(o.maxSpan, run.end - run.begin) - o.minSpan + 1);
            const int from = run.begin + below(run.end - run.begin - span + 1);
            for (int k = 0; k < span; ++k) {
                s.ids.push_back(s.ids[std::size_t(from + k)]);
                s.copied.push_back(k > 0 ? 1 : 0);
            }
        } else {
            const int n = std::min(2 + below(o.maxFresh - 1), o.length - int(s.ids.size()));
            fresh.push_back({int(s.ids.size()), int(s.ids.size()) + n});
            for (int k = 0; k < n; ++k) {
                s.ids.push_back(pool[nextFresh++]);
                s.copied.push_back(0);
            }
        }
    }
    s.ids.resize(std::size_t(o.length));
    s.copied.resize(std::size_t(o.length));
    return s;
}

}  // namespace fovea
