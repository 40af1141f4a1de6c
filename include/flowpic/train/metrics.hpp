#pragma once
// Classification metrics from predicted probabilities: accuracy, top-2 accuracy, the confusion
// matrix (rows: true class, columns: predicted) and per-class precision, recall and F1. A single
// sigmoid output counts as two classes (p >= 0.5 is class 1).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace flowpic::train {

struct classification_report {
    std::size_t classes = 0;
    std::size_t samples = 0;
    std::vector<std::size_t> confusion;  // classes x classes, [true][predicted]
    double accuracy = 0, top2 = 0, macro_f1 = 0;
    std::vector<double> precision, recall, f1;
    [[nodiscard]] std::size_t at(std::size_t truth, std::size_t predicted) const {
        return confusion[truth * classes + predicted];
    }
};

// probs: samples x outputs (row-major); outputs == 1 means one sigmoid probability.
inline classification_report classification_metrics(std::span<const float> probs, std::span<const std::int32_t> labels,
                                                     std::size_t outputs) {
    if (outputs == 0 || probs.size() != labels.size() * outputs)
        throw std::invalid_argument("classification_metrics: probabilities and labels do not match");
    classification_report r;
    r.classes = outputs == 1 ? 2 : outputs;
    r.samples = labels.size();
    r.confusion.assign(r.classes * r.classes, 0);
    std::size_t hits = 0, hits2 = 0;
    for (std::size_t s = 0; s < labels.size(); ++s) {
        const auto y = static_cast<std::size_t>(labels[s]);
        if (labels[s] < 0 || y >= r.classes) throw std::out_of_range("classification_metrics: label out of range");
        std::size_t best = 0, second = 0;
        if (outputs == 1) {
            best = probs[s] >= 0.5f ? 1 : 0;
            second = 1 - best;
        } else {
            const float* p = probs.data() + s * outputs;
            best = static_cast<std::size_t>(std::max_element(p, p + outputs) - p);
            second = best == 0 ? 1 : 0;
            for (std::size_t c = 0; c < outputs; ++c)
                if (c != best && p[c] > p[second]) second = c;
        }
        ++r.confusion[y * r.classes + best];
        hits += best == y;
        hits2 += best == y || second == y;
    }
    const double n = static_cast<double>(std::max<std::size_t>(1, r.samples));
    r.accuracy = static_cast<double>(hits) / n;
    r.top2 = static_cast<double>(hits2) / n;
    r.precision.assign(r.classes, 0);
    r.recall.assign(r.classes, 0);
    r.f1.assign(r.classes, 0);
    for (std::size_t c = 0; c < r.classes; ++c) {
        std::size_t col = 0, row = 0;
        for (std::size_t k = 0; k < r.classes; ++k) {
            col += r.at(k, c);
            row += r.at(c, k);
        }
        const double tp = static_cast<double>(r.at(c, c));
        r.precision[c] = col ? tp / static_cast<double>(col) : 0.0;
        r.recall[c] = row ? tp / static_cast<double>(row) : 0.0;
        const double d = r.precision[c] + r.recall[c];
        r.f1[c] = d > 0 ? 2 * r.precision[c] * r.recall[c] / d : 0.0;
    }
    r.macro_f1 = std::accumulate(r.f1.begin(), r.f1.end(), 0.0) / static_cast<double>(r.classes);
    return r;
}

// A readable report: accuracy lines, then the confusion matrix with per-class P/R/F1.
inline std::string format_report(const classification_report& r, const std::vector<std::string>& names = {}) {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "samples %zu  accuracy %.4f  top-2 %.4f  macro-F1 %.4f\n", r.samples, r.accuracy,
                  r.top2, r.macro_f1);
    out += line;
    for (std::size_t c = 0; c < r.classes; ++c) {
        const std::string name = c < names.size() ? names[c] : std::to_string(c);
        std::snprintf(line, sizeof line, "%-14.14s P %.3f R %.3f F1 %.3f |", name.c_str(), r.precision[c], r.recall[c],
                      r.f1[c]);
        out += line;
        for (std::size_t k = 0; k < r.classes; ++k) {
            std::snprintf(line, sizeof line, " %6zu", r.at(c, k));
            out += line;
        }
        out += '\n';
    }
    return out;
}

}  // namespace flowpic::train
