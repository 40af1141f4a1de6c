#pragma once
// The seeded split of a picture set into train, validation and test by capture, never by window
// (reference.md A.4: windows of one session on both sides would leak), stratified by class:
//
// - per class, its captures get counts by the largest remainder of n x fraction (ties: test, then
//   validation, then train), with at least one capture in train (when its fraction is not 0) and,
//   for classes of 3 captures or more, at least one in validation and in test (when theirs are
//   not 0);
// - which captures: sorted by name, shuffled per VPN flag (plain, VPN, unknown) with a generator
//   seeded by (seed, class), then interleaved, so that small splits get both variants; test takes
//   the first, validation the next, train the rest.
//
// The result depends only on the captures (names, labels, VPN flags), the fractions and the seed:
// not on the samples or their order.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowpic/nn/random.hpp"
#include "flowpic/train/picture_set.hpp"

namespace flowpic::train {

struct split_options {
    std::array<double, 3> fractions{0.7, 0.15, 0.15};  // train, validation, test; normalised to sum 1
    std::uint64_t seed = 0;
};

// "0.7,0.15,0.15" -> fractions; std::invalid_argument unless three non-negative numbers with a
// positive sum.
inline std::array<double, 3> parse_fractions(const std::string& text) {
    std::array<double, 3> f{};
    std::size_t pos = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        const std::size_t end = text.find(',', pos);
        if ((i < 2) != (end != std::string::npos)) throw std::invalid_argument("--split: three fractions, e.g. 0.7,0.15,0.15");
        const std::string part = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        std::size_t used = 0;
        try {
            f[i] = std::stod(part, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != part.size() || !(f[i] >= 0) || !std::isfinite(f[i]))
            throw std::invalid_argument("--split: '" + part + "' is not a fraction >= 0");
        pos = end + 1;
    }
    if (!(f[0] + f[1] + f[2] > 0)) throw std::invalid_argument("--split: the fractions sum to 0");
    return f;
}

// How many of n captures of one class go to train, validation and test.
inline std::array<std::size_t, 3> split_counts(std::size_t n, std::array<double, 3> f) {
    const double sum = f[0] + f[1] + f[2];
    if (!(sum > 0) || f[0] < 0 || f[1] < 0 || f[2] < 0) throw std::invalid_argument("split: fractions must be >= 0, not all 0");
    std::array<double, 3> want{};
    std::array<std::size_t, 3> c{}, least{};
    for (std::size_t s = 0; s < 3; ++s) {
        want[s] = static_cast<double>(n) * f[s] / sum;
        c[s] = static_cast<std::size_t>(std::floor(want[s] + 1e-9));
        least[s] = f[s] > 0 && (s == 0 ? n >= 1 : n >= 3) ? 1 : 0;
        c[s] = std::max(c[s], least[s]);
    }
    auto total = [&] { return c[0] + c[1] + c[2]; };
    while (total() > n) {  // minimums overshot: take from the split furthest above its share
        std::size_t pick = 3;
        for (std::size_t s = 0; s < 3; ++s)
            if (c[s] > least[s] && (pick == 3 || double(c[s]) - want[s] > double(c[pick]) - want[pick])) pick = s;
        if (pick == 3) break;  // cannot happen: least sums to at most n
        --c[pick];
    }
    while (total() < n) {  // largest remainder; ties go to test, then validation (better estimates)
        std::size_t pick = 3;
        for (std::size_t s = 3; s-- > 0;)
            if (f[s] > 0 && (pick == 3 || want[s] - double(c[s]) > want[pick] - double(c[pick]) + 1e-9)) pick = s;
        ++c[pick];
    }
    return c;
}

// Sets captures[i].part for every capture; `classes` bounds the labels.
inline void assign_splits(std::vector<capture_info>& captures, std::size_t classes, const split_options& o) {
    for (std::size_t label = 0; label < classes; ++label) {
        std::array<std::vector<std::size_t>, 3> strata;  // plain, VPN, unknown
        for (std::size_t i = 0; i < captures.size(); ++i)
            if (captures[i].label == label) strata[captures[i].vpn == 0 ? 0 : captures[i].vpn == 1 ? 1 : 2].push_back(i);
        nn::rng r(nn::mix64(o.seed ^ nn::mix64(0x5b17 + label)));
        std::size_t n = 0;
        for (auto& s : strata) {
            std::sort(s.begin(), s.end(), [&](std::size_t a, std::size_t b) { return captures[a].name < captures[b].name; });
            for (std::size_t i = s.size(); i > 1; --i) std::swap(s[i - 1], s[static_cast<std::size_t>(r.below(i))]);
            n += s.size();
        }
        std::vector<std::size_t> order;
        order.reserve(n);
        for (std::size_t k = 0; order.size() < n; ++k)
            for (const auto& s : strata)
                if (k < s.size()) order.push_back(s[k]);
        const auto c = split_counts(n, o.fractions);
        for (std::size_t k = 0; k < n; ++k)
            captures[order[k]].part = k < c[2] ? split::test : k < c[2] + c[1] ? split::validation : split::train;
    }
}

// Splits a picture set: captures by assign_splits, every sample as its capture.
inline void apply_split(picture_set& set, const split_options& o) {
    assign_splits(set.captures, set.classes.size(), o);
    for (auto& s : set.samples) s.part = set.captures.at(s.capture).part;
    set.seed = o.seed;
    set.fractions = o.fractions;
}

}  // namespace flowpic::train
