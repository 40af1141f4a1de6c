// flowpic._flowpic's classify: a model applied as trained (presets/any_classifier.hpp), every
// decision; the pipelines themselves are compiled once with the tool's (tools/shared).
#include <stdexcept>

#include "bindings.hpp"
#include "classifiers.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/any_source.hpp"

namespace flowpic::python {

namespace {

struct classify_rows {
    key_columns key;
    std::vector<std::int64_t> start;
    std::vector<std::uint64_t> index, packets;
    std::vector<std::uint32_t> blocks;
    std::vector<std::int64_t> label;
    std::vector<std::string> name;
    std::vector<float> score, probs;
    std::vector<std::uint8_t> unknown;
    std::size_t outputs = 0;
};

void classify_with(const presets::model& m, const std::string& path, const std::vector<std::string>& classes,
                   presets::decision_rule rule, std::size_t batch, std::optional<float> min_score, bool all_windows,
                   std::optional<std::uint32_t> min_packets, const flows::limits& lim, classify_rows& out) {
    presets::classifier_settings s;
    s.batch = batch;
    s.limits = lim;
    s.all_windows = all_windows;
    s.min_packets = min_packets;
    // as the tool's --min-score: X for every class, 0 none; otherwise the recipe's thresholds
    if (min_score) s.min_score = *min_score > 0 ? std::vector<float>(m.info.classes.size(), *min_score) : std::vector<float>{};
    auto c = programs::make_classifier(m, rule, s);
    source::visit_file(path, [&](auto& src) {
        source::any_source any(src);
        c.run(any, [&](const classification& r) {
            out.key.add(r.key);
            out.start.push_back(r.block_start_ns);
            out.index.push_back(r.block_index);
            out.blocks.push_back(r.blocks);
            out.packets.push_back(r.packets);
            out.label.push_back(static_cast<std::int64_t>(r.label));
            out.name.push_back(r.unknown ? std::string("unknown") : classes.at(r.label));
            out.score.push_back(r.score);
            out.unknown.push_back(r.unknown ? 1 : 0);
            out.outputs = r.probabilities.size();
            out.probs.insert(out.probs.end(), r.probabilities.begin(), r.probabilities.end());
        });
    });
}

}  // namespace

py::dict classify(const py::object& what, const py_model& pm, const std::string& decision, std::size_t batch,
                  std::optional<float> min_score, bool all_windows, std::optional<std::uint32_t> min_packets,
                  double idle_timeout, std::size_t max_flows, std::size_t max_packets, int threads) {
    if (decision != "block" && decision != "majority" && decision != "mean")
        throw py::value_error("decision must be 'block', 'majority' or 'mean'");
    const input in(what);
    const presets::model& m = pm.m;
    // a single sigmoid output names its two classes by the model's two names, or "not X" and X
    std::vector<std::string> classes = m.info.classes;
    if (classes.size() == 1) classes.insert(classes.begin(), "not " + classes.front());
    classify_rows r;
    {
        py::gil_scoped_release nogil;
        const auto limit = thread_limit(threads);
        const flows::limits lim{blocks::seconds(idle_timeout), max_flows, max_packets};
        classify_with(m, in.path(), classes, presets::decision_rule_of(decision), batch, min_score, all_windows,
                      min_packets, lim, r);
    }
    const auto n = static_cast<py::ssize_t>(r.start.size());
    const auto k = static_cast<py::ssize_t>(r.outputs);
    py::dict d;
    r.key.put(d);
    d["block_start_ns"] = to_numpy(std::move(r.start));
    d["index"] = to_numpy(std::move(r.index));
    d["blocks"] = to_numpy(std::move(r.blocks));
    d["packets"] = to_numpy(std::move(r.packets));
    d["label"] = to_numpy(std::move(r.label));
    d["class"] = py::cast(r.name);
    d["score"] = to_numpy(std::move(r.score));
    d["unknown"] = to_numpy_bool(std::move(r.unknown));
    d["probabilities"] = to_numpy(std::move(r.probs), {n, k});
    d["classes"] = py::cast(classes);
    return d;
}

}  // namespace flowpic::python
