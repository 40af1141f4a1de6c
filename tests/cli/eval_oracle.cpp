// eval_oracle PROBS.npy LABELS.npy: the numbers `flowpic eval --json` reports, recomputed from a
// model's outputs (e.g. `flowpic predict`'s) and the true labels by plain counting, as JSON:
// samples, accuracy, top2, per_class {"<index>": precision, recall, f1, support}, confusion.
// A single output column is a sigmoid: class 1 when >= 0.5.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "flowpic/core/npy.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: eval_oracle PROBS.npy LABELS.npy\n");
        return 2;
    }
    try {
        const auto p = flowpic::npy::load_as<float>(argv[1]);
        const auto y = flowpic::npy::load_as<float>(argv[2]);
        const std::size_t n = y.data.size();
        if (p.shape.size() != 2 || p.shape[0] != n || n == 0) {
            std::fprintf(stderr, "%s: [N, C] with N = %zu labels expected\n", argv[1], n);
            return 1;
        }
        const std::size_t out = p.shape[1], k = out == 1 ? 2 : out;
        std::vector<std::vector<std::size_t>> m(k, std::vector<std::size_t>(k, 0));
        std::size_t hits = 0, hits2 = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const auto truth = static_cast<std::size_t>(y.data[i]);
            std::size_t first = 0, second = 1;
            if (out == 1) {
                first = p.data[i] >= 0.5f ? 1 : 0;
                second = 1 - first;
            } else {
                // rank by probability; ties keep the lower class first
                for (std::size_t c = 1; c < out; ++c)
                    if (p.data[i * out + c] > p.data[i * out + first]) first = c;
                second = first == 0 ? 1 : 0;
                for (std::size_t c = 0; c < out; ++c)
                    if (c != first && p.data[i * out + c] > p.data[i * out + second]) second = c;
            }
            ++m[truth][first];
            hits += first == truth;
            hits2 += first == truth || second == truth;
        }
        auto num = [](double v) {
            char b[32];
            std::snprintf(b, sizeof b, "%.10g", v);
            return std::string(b);
        };
        std::string j = "{\"samples\": " + std::to_string(n) + ", \"accuracy\": " + num(double(hits) / double(n)) +
                        ", \"top2\": " + num(double(hits2) / double(n)) + ", \"per_class\": {";
        for (std::size_t c = 0; c < k; ++c) {
            std::size_t row = 0, col = 0;
            for (std::size_t o = 0; o < k; ++o) {
                row += m[c][o];
                col += m[o][c];
            }
            const double pr = col ? double(m[c][c]) / double(col) : 0.0, rc = row ? double(m[c][c]) / double(row) : 0.0;
            const double f1 = pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0.0;
            j += (c ? ", \"" : "\"") + std::to_string(c) + "\": {\"precision\": " + num(pr) + ", \"recall\": " + num(rc) +
                 ", \"f1\": " + num(f1) + ", \"support\": " + std::to_string(row) + "}";
        }
        j += "}, \"confusion\": [";
        for (std::size_t t = 0; t < k; ++t) {
            j += t ? ", [" : "[";
            for (std::size_t c = 0; c < k; ++c) j += (c ? ", " : "") + std::to_string(m[t][c]);
            j += "]";
        }
        std::printf("%s]}\n", j.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
