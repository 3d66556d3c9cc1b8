#include "core/data/token_sequences.h"

#include "core/util/error.h"

#include <algorithm>

namespace fovea {

RepeatedSpanSequence repeatedSpanSequence(int length, int randomVocab, std::int64_t bos, int minSpan, int maxSpan,
                                          std::mt19937_64& random, double backToBack) {
    const int start = bos >= 0 ? 1 : 0;
    if (minSpan < 2 || maxSpan < minSpan || start + 2 * minSpan > length || randomVocab < 2) {
        throw Error("repeated-span sequence: length " + std::to_string(length) + " cannot hold two spans of " +
                    std::to_string(minSpan) + " tokens");
    }
    RepeatedSpanSequence s;
    s.ids.resize(std::size_t(length));
    s.copied.assign(std::size_t(length), 0);
    std::uniform_int_distribution<std::int64_t> token(0, randomVocab - 1);
    if (bos >= 0) s.ids[0] = bos;
    for (int i = start; i < length; ++i) s.ids[std::size_t(i)] = token(random);
    auto below = [&](int n) { return int(std::uniform_int_distribution<int>(0, n - 1)(random)); };
    const int longest = std::min(maxSpan, (length - start) / 2);
    const int span = minSpan + below(longest - minSpan + 1);
    int source = 0, target = 0;
    if (std::uniform_real_distribution<double>(0.0, 1.0)(random) < backToBack) {
        source = start + below(length - start - 2 * span + 1);  // a random prefix, then r r
        target = source + span;
    } else {
        // Anywhere: the first copy, then the second copy later, with random tokens around.
        source = start + below(length - start - 2 * span + 1);
        target = source + span + below(length - source - 2 * span + 1);
    }
    for (int i = 0; i < span; ++i) {
        s.ids[std::size_t(target + i)] = s.ids[std::size_t(source + i)];
        if (i > 0) s.copied[std::size_t(target + i)] = 1;
    }
    return s;
}

}  // namespace fovea
