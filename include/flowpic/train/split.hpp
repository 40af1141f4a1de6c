#pragma once
// The seeded split of a picture set into train, validation and test by capture file, never by
// window (reference.md A.4: windows of one session on both sides would leak), stratified by class.
// A capture_info is one (file, class) pair: a file of one class (a tree's file, a lab capture of a
// .fpr file, a labelled capture with flows of one class) is one capture; a labelled capture with
// flows of several classes is one capture per class under one name. The unit of the split is the
// name: every capture of one name lands in the same split.
//
// Files of one class (every file of a class-per-directory tree), per class:
// - its files get counts by the largest remainder of n x fraction (ties: test, then validation,
//   then train), with at least one file in train (when its fraction is not 0) and, for classes of
//   3 files or more, at least one in validation and in test (when theirs are not 0);
// - which files: sorted by name, shuffled per VPN flag (plain, VPN, unknown) with a generator
//   seeded by (seed, class), then interleaved, so that small splits get both variants; test takes
//   the first, validation the next, train the rest.
// Files of several classes, afterwards (sorted by name, shuffled with a generator of the seed):
// - coverage: for each class in 3 files or more (the rarest first), each split with a fraction
//   above 0 that holds none of its files yet takes its smallest unassigned file of that class
//   (train first, then test, then validation);
// - balance: the rest, largest first (in samples), each to the split whose per-class targets
//   (each class's samples x fraction) it helps most: the split of largest sum over its classes of
//   its samples x (target - samples there so far) / the class's samples.
//
// The result depends only on the captures (names, labels, VPN flags, sample weights), the
// fractions and the seed: not on the samples' or the captures' order.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
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

namespace detail {

// Today's per-class split of files of one class: `pick(i)` says which captures take part.
template <class Pick>
void split_single_class_files(std::vector<capture_info>& captures, std::size_t classes, const split_options& o, Pick pick) {
    for (std::size_t label = 0; label < classes; ++label) {
        std::array<std::vector<std::size_t>, 3> strata;  // plain, VPN, unknown
        for (std::size_t i = 0; i < captures.size(); ++i)
            if (captures[i].label == label && pick(i))
                strata[captures[i].vpn == 0 ? 0 : captures[i].vpn == 1 ? 1 : 2].push_back(i);
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

}  // namespace detail

// Sets captures[i].part for every capture; `classes` bounds the labels. `weights` (samples per
// capture; empty: 1 each) sizes the files of several classes.
inline void assign_splits(std::vector<capture_info>& captures, std::size_t classes, const split_options& o,
                          std::span<const std::size_t> weights = {}) {
    if (!weights.empty() && weights.size() != captures.size()) throw std::invalid_argument("split: one weight per capture");
    auto weight = [&](std::size_t i) { return weights.empty() ? std::size_t{1} : weights[i]; };
    // files by name: the captures of each
    std::map<std::string, std::vector<std::size_t>> files;
    for (std::size_t i = 0; i < captures.size(); ++i) files[captures[i].name].push_back(i);
    std::vector<char> single(captures.size(), 0);
    for (const auto& [name, members] : files)
        if (members.size() == 1) single[members[0]] = 1;
    detail::split_single_class_files(captures, classes, o, [&](std::size_t i) { return single[i] != 0; });
    if (files.size() == captures.size()) return;  // every file of one class

    struct file {
        std::vector<std::size_t> members;
        std::size_t total = 0;
        bool assigned = false;
    };
    std::vector<file> multi;  // sorted by name (the map's order), then shuffled
    for (const auto& [name, members] : files)
        if (members.size() > 1) {
            file f{members, 0, false};
            for (std::size_t i : members) f.total += weight(i);
            multi.push_back(std::move(f));
        }
    nn::rng r(nn::mix64(o.seed ^ nn::mix64(0x6d17)));
    for (std::size_t i = multi.size(); i > 1; --i) std::swap(multi[i - 1], multi[static_cast<std::size_t>(r.below(i))]);

    const double sum = o.fractions[0] + o.fractions[1] + o.fractions[2];
    std::vector<double> total(classes, 0.0);
    std::vector<std::array<double, 3>> have(classes, std::array<double, 3>{});
    std::vector<std::array<std::size_t, 3>> files_in(classes, std::array<std::size_t, 3>{});  // files of a class per split
    std::vector<std::size_t> file_count(classes, 0);
    for (std::size_t i = 0; i < captures.size(); ++i) {
        if (captures[i].label >= classes) throw std::invalid_argument("split: capture label out of range");
        total[captures[i].label] += static_cast<double>(weight(i));
        ++file_count[captures[i].label];
        if (single[i]) {
            have[captures[i].label][static_cast<std::size_t>(captures[i].part)] += static_cast<double>(weight(i));
            ++files_in[captures[i].label][static_cast<std::size_t>(captures[i].part)];
        }
    }
    auto assign = [&](file& f, std::size_t s) {
        f.assigned = true;
        for (std::size_t i : f.members) {
            captures[i].part = static_cast<split>(s);
            have[captures[i].label][s] += static_cast<double>(weight(i));
            ++files_in[captures[i].label][s];
        }
    };
    auto holds = [&](const file& f, std::size_t label) {
        return std::any_of(f.members.begin(), f.members.end(), [&](std::size_t i) { return captures[i].label == label; });
    };

    // coverage: the rarest classes first
    std::vector<std::size_t> by_rarity(classes);
    for (std::size_t c = 0; c < classes; ++c) by_rarity[c] = c;
    std::stable_sort(by_rarity.begin(), by_rarity.end(), [&](std::size_t a, std::size_t b) { return file_count[a] < file_count[b]; });
    for (std::size_t c : by_rarity) {
        if (file_count[c] < 3) continue;
        for (std::size_t s : {std::size_t{0}, std::size_t{2}, std::size_t{1}}) {
            if (!(o.fractions[s] > 0) || files_in[c][s] > 0) continue;
            file* best = nullptr;
            for (auto& f : multi)
                if (!f.assigned && holds(f, c) && (!best || f.total < best->total)) best = &f;
            if (best) assign(*best, s);
        }
    }

    // balance: the largest files first
    std::vector<std::size_t> rest;
    for (std::size_t k = 0; k < multi.size(); ++k)
        if (!multi[k].assigned) rest.push_back(k);
    std::stable_sort(rest.begin(), rest.end(), [&](std::size_t a, std::size_t b) { return multi[a].total > multi[b].total; });
    for (std::size_t k : rest) {
        std::size_t pick = 3;
        double best = 0;
        for (std::size_t s = 0; s < 3; ++s) {
            if (!(o.fractions[s] > 0)) continue;
            double gain = 0;
            for (std::size_t i : multi[k].members) {
                const std::size_t c = captures[i].label;
                gain += static_cast<double>(weight(i)) * (total[c] * o.fractions[s] / sum - have[c][s]) / std::max(total[c], 1.0);
            }
            if (pick == 3 || gain > best + 1e-12) {
                pick = s;
                best = gain;
            }
        }
        assign(multi[k], pick);
    }
}

// Splits a picture set: captures by assign_splits (weighted by their samples), every sample as
// its capture.
inline void apply_split(picture_set& set, const split_options& o) {
    std::vector<std::size_t> weights(set.captures.size(), 0);
    for (const auto& s : set.samples) ++weights.at(s.capture);
    assign_splits(set.captures, set.classes.size(), o, weights);
    for (auto& s : set.samples) s.part = set.captures.at(s.capture).part;
    set.seed = o.seed;
    set.fractions = o.fractions;
}

}  // namespace flowpic::train
