#pragma once
// presets::any_classifier: a model file's classifier as one type, whatever its preset, class
// count and decision rule, for programs that load models at run time. make_classifier builds the
// pipeline that presets::visit_classifier hands out (the model's network, weights and recipe),
// with the settings that do not depend on its type applied:
//
//   const auto m = presets::read_model("model.fpm");
//   presets::classifier_settings s;
//   s.all_windows = true;
//   auto c = presets::make_classifier(m, presets::decision_rule::majority_vote, s);
//   source::pcap_file<> capture("capture.pcap");
//   source::any_source any(capture);
//   c.run(any, [&](const classification& r) { ... });
//   auto other = c.copy();   // its own network: for a second capture on other threads
//
// The pipelines of every preset, class count and rule are instantiated where make_classifier
// is; a program that calls it from one translation unit compiles them once (the tool and the
// Python module share one: tools/shared/classifiers.cpp). A run costs one indirect call per
// source read and per result over visit_classifier's pipeline.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/pipeline/classification.hpp"
#include "flowpic/pipeline/decision.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/presets/pipeline.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/source/any_source.hpp"

namespace flowpic::presets {

// The decision policies of pipeline/decision.hpp, chosen at run time.
enum class decision_rule { per_block, majority_vote, mean_probability };

// "block", "majority" or "mean" (the policies' names, as `flowpic classify --decision` takes them).
[[nodiscard]] inline decision_rule decision_rule_of(std::string_view name) {
    if (name == decision::per_block::name) return decision_rule::per_block;
    if (name == decision::majority_vote::name) return decision_rule::majority_vote;
    if (name == decision::mean_probability::name) return decision_rule::mean_probability;
    throw std::invalid_argument("decision '" + std::string(name) + "': expected block, majority or mean");
}

// What a program sets on a model's pipeline; everything else is the model's recipe.
struct classifier_settings {
    std::size_t batch = 0;                        // blocks per network call; 0: the pipeline's choice
    flows::limits limits{};                       // the flow table's bounds
    bool all_windows = false;                     // every window of the recipe's length (every_window)
    std::optional<std::uint32_t> min_packets;     // else the recipe's
    std::optional<std::vector<float>> min_score;  // per class (empty: none); else the recipe's
    bool dense_input = false;                     // pipeline options::dense_input
    std::size_t shards = 0;                       // pipeline options::shards (0: by thread count)
    bool live = false;                            // each block at once: batch 1, 1-packet reads, 1 shard
};

namespace detail {

struct classifier_interface {
    virtual ~classifier_interface() = default;
    virtual pipeline_stats run(source::any_source& src, const std::function<void(const classification&)>& sink) = 0;
    [[nodiscard]] virtual std::unique_ptr<classifier_interface> copy() const = 0;
    [[nodiscard]] virtual std::size_t batch() const noexcept = 0;
};

// A pipeline with its own network (the pipeline holds a reference to it: so never moved).
template <class Net, class Pipeline>
struct classifier_holder final : classifier_interface {
    Net net;
    Pipeline pipe;
    classifier_holder(const Net& n, const typename Pipeline::options& o) : net(n), pipe(net, o) {}
    classifier_holder(const classifier_holder&) = delete;
    classifier_holder& operator=(const classifier_holder&) = delete;

    pipeline_stats run(source::any_source& src, const std::function<void(const classification&)>& sink) override {
        return pipe.run(src, sink);
    }
    [[nodiscard]] std::unique_ptr<classifier_interface> copy() const override {
        return std::make_unique<classifier_holder>(net, pipe.settings());
    }
    [[nodiscard]] std::size_t batch() const noexcept override { return pipe.settings().batch; }
};

template <class Options>
void apply(const classifier_settings& s, Options& o) {
    if (s.batch > 0) o.batch = s.batch;
    o.limits = s.limits;
    if (s.all_windows) o.window = every_window(*o.window);
    if (s.min_packets) o.window->min_packets = *s.min_packets;
    if (s.min_score) o.min_score = *s.min_score;
    o.dense_input = s.dense_input;
    if (s.shards > 0) o.shards = s.shards;
    if (s.live) {
        o.batch = 1;
        o.ingest_chunk = 1;
        o.shards = 1;
    }
}

}  // namespace detail

class any_classifier {
public:
    any_classifier() = default;
    explicit any_classifier(std::unique_ptr<detail::classifier_interface> impl) : impl_(std::move(impl)) {}

    [[nodiscard]] explicit operator bool() const noexcept { return impl_ != nullptr; }

    // Classifies every block of src; sink(const classification&) for each result (pipeline::run).
    pipeline_stats run(source::any_source& src, const std::function<void(const classification&)>& sink) {
        return impl_->run(src, sink);
    }
    // The same classifier on its own copy of the network (runs may then overlap).
    [[nodiscard]] any_classifier copy() const { return any_classifier(impl_->copy()); }
    // Blocks per network call, as the pipeline settled it.
    [[nodiscard]] std::size_t batch() const noexcept { return impl_->batch(); }

private:
    std::unique_ptr<detail::classifier_interface> impl_;
};

// The classifier of model m (visit_classifier's pipeline over source::any_source) under rule,
// with s applied over the recipe.
template <backend::backend_tag Backend = backend::default_backend, class L = builtin>
[[nodiscard]] any_classifier make_classifier(const model& m, decision_rule rule, const classifier_settings& s = {}) {
    any_classifier out;
    visit_model<L>(m, [&](auto p, auto& net) {
        using P = decltype(p);
        using Net = std::remove_cvref_t<decltype(net)>;
        const auto make = [&]<class Decision>(Decision) {
            using pipe_t = preset_pipeline<P, Net, source::any_source, Backend, Decision>;
            auto o = pipeline_options<P, pipe_t>(m.recipe);
            detail::apply(s, o);
            out = any_classifier(std::make_unique<detail::classifier_holder<Net, pipe_t>>(net, o));
        };
        switch (rule) {
            case decision_rule::per_block: make(decision::per_block{}); break;
            case decision_rule::majority_vote: make(decision::majority_vote{}); break;
            case decision_rule::mean_probability: make(decision::mean_probability{}); break;
        }
    });
    return out;
}

}  // namespace flowpic::presets
