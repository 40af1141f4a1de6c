#pragma once
// Per-class score thresholds for "none of these": a result whose probability of its predicted
// class is under that class's threshold is labelled unknown (pipeline options' min_score).
//
// Calibration (flowpic train, on the validation split): for each class, the threshold below which
// a fraction q (default 5 %) of that class's correctly classified validation samples fall, i.e.
// their scores sorted ascending, the one at index floor(q x n). A class without correctly
// classified validation samples, or q = 0, gets 0 (no threshold). The traffic of no class
// (DNS, ads, telemetry) tends to score lower than what a class's own traffic scores. Thresholds are
// capped at max_min_score: a class whose validation scores saturate (1 in float) says nothing
// about its spread there, and a threshold of 0.9999... would make most of its results unknown.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace flowpic::train {

inline constexpr double default_unknown_quantile = 0.05;
inline constexpr float max_min_score = 0.99f;

// The predicted class and its probability of one row of `outputs` probabilities (one output:
// a sigmoid, p >= 0.5 is class 1, as classification_metrics counts it).
[[nodiscard]] inline std::pair<std::size_t, float> top_class(const float* p, std::size_t outputs) {
    if (outputs == 1) return p[0] >= 0.5f ? std::pair<std::size_t, float>{1, p[0]} : std::pair<std::size_t, float>{0, 1.0f - p[0]};
    const auto best = static_cast<std::size_t>(std::max_element(p, p + outputs) - p);
    return {best, p[best]};
}

// probs: samples x outputs; labels: the true classes. One threshold per class.
[[nodiscard]] inline std::vector<float> calibrate_min_score(std::span<const float> probs,
                                                            std::span<const std::int32_t> labels, std::size_t outputs,
                                                            double quantile = default_unknown_quantile) {
    if (outputs == 0 || probs.size() != labels.size() * outputs)
        throw std::invalid_argument("calibrate_min_score: probabilities and labels do not match");
    if (!(quantile >= 0.0 && quantile < 1.0)) throw std::invalid_argument("calibrate_min_score: quantile not in [0, 1)");
    const std::size_t classes = outputs == 1 ? 2 : outputs;
    std::vector<std::vector<float>> right(classes);
    for (std::size_t s = 0; s < labels.size(); ++s) {
        const auto [best, score] = top_class(probs.data() + s * outputs, outputs);
        if (labels[s] >= 0 && best == static_cast<std::size_t>(labels[s])) right[best].push_back(score);
    }
    std::vector<float> out(classes, 0.0f);
    if (quantile == 0.0) return out;
    for (std::size_t c = 0; c < classes; ++c) {
        auto& v = right[c];
        if (v.empty()) continue;
        std::sort(v.begin(), v.end());
        out[c] = v[static_cast<std::size_t>(std::floor(quantile * static_cast<double>(v.size())))];
        out[c] = std::min(out[c], max_min_score);
    }
    return out;
}

// What thresholds do to a labelled set: how many results become unknown, and the accuracy of
// the others.
struct unknown_effect {
    std::size_t samples = 0;
    std::size_t unknown = 0;
    std::size_t kept_correct = 0;
    std::vector<std::size_t> unknown_by_class;  // by true class
    [[nodiscard]] double kept_accuracy() const noexcept {
        const std::size_t kept = samples - unknown;
        return kept ? static_cast<double>(kept_correct) / static_cast<double>(kept) : 0.0;
    }
};

[[nodiscard]] inline unknown_effect effect_of(std::span<const float> probs, std::span<const std::int32_t> labels,
                                              std::size_t outputs, std::span<const float> min_score) {
    if (outputs == 0 || probs.size() != labels.size() * outputs)
        throw std::invalid_argument("effect_of: probabilities and labels do not match");
    unknown_effect e;
    e.samples = labels.size();
    e.unknown_by_class.assign(outputs == 1 ? 2 : outputs, 0);
    for (std::size_t s = 0; s < labels.size(); ++s) {
        const auto [best, score] = top_class(probs.data() + s * outputs, outputs);
        if (best < min_score.size() && score < min_score[best]) {
            ++e.unknown;
            const auto y = static_cast<std::size_t>(labels[s]);
            if (y < e.unknown_by_class.size()) ++e.unknown_by_class[y];
        } else if (labels[s] >= 0 && best == static_cast<std::size_t>(labels[s])) {
            ++e.kept_correct;
        }
    }
    return e;
}

}  // namespace flowpic::train
