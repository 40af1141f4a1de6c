#pragma once
// A model file applied as trained: its preset's network with its weights, and a pipeline with
// the windows and score thresholds of its recipe. `flowpic classify` loads models this way, so
// a program that does gets the tool's rows.
//
//   const auto m = presets::read_model("model.fpm");
//   presets::visit_classifier<source::pcap_file<>>(m, [&](auto& classifier) {
//       source::pcap_file<> capture("capture.pcap");
//       classifier.run(capture, [&](const classification& r) {
//           std::puts(r.unknown ? "unknown" : m.info.classes[r.label].c_str());
//       });
//   });

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/pipeline/decision.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/presets/list.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/pipeline.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/source/any_source.hpp"

namespace flowpic::presets {

struct model {
    std::string name;                 // the file, as errors name it
    std::vector<std::uint8_t> bytes;  // the whole file
    nn::model_info info;              // preset, signature, class names, recipe fields
    presets::recipe recipe;           // checked against the preset
};

// Reads and checks a model file's header and recipe (not yet its tensors: visit_model does).
// A recipe value that is malformed or contradicts the preset (another grouping, a threshold
// count that is not the class count) is a format_error at the value's offset.
template <class L = builtin>
[[nodiscard]] model read_model(std::vector<std::uint8_t> bytes, std::string file) {
    model m;
    m.name = std::move(file);
    m.bytes = std::move(bytes);
    m.info = nn::read_model_info(m.bytes, m.name);
    if (!presets::contains<L>(m.info.preset)) {  // visit_model says which presets there are
        m.recipe = from_fields(m.info, m.name);
        return m;
    }
    presets::visit<L>(m.info.preset, [&](auto p) {
        using P = decltype(p);
        m.recipe = from_fields(m.info, m.name, P::window);
        constexpr auto own = grouping_of<typename P::flow_key>();
        if (m.recipe.flows && own && *m.recipe.flows != *own) {
            const auto* f = m.info.field("grouping");
            throw format_error(location{m.name, f ? f->offset : 0},
                               "recipe field 'grouping' = '" + std::string(name(*m.recipe.flows)) + "', but preset " +
                                   std::string(P::name) + " groups " + std::string(name(*own)));
        }
    });
    return m;
}

template <class L = builtin>
[[nodiscard]] model read_model(const std::string& path) {
    return read_model<L>(nn::read_model_file(path), path);
}

// f(P{}, net): the model's preset and its network holding the model's weights (check_header first).
template <class L = builtin, class F>
void visit_model(const model& m, F&& f) {
    check_header<L>(m.info, m.name);
    presets::visit_network<L>(m.info.preset, m.info.classes.size(), [&](auto p, auto& net) {
        nn::load_model(std::span<const std::uint8_t>(m.bytes), m.name, net);
        f(p, net);
    });
}

// The options of Pipeline (a preset_pipeline of P) that apply recipe r: its windows (else P's)
// and its score thresholds. The one place a recipe becomes pipeline settings.
template <preset P, class Pipeline>
[[nodiscard]] typename Pipeline::options pipeline_options(const recipe& r, typename Pipeline::options o = {}) {
    o.window = r.window.value_or(P::window);
    o.min_score = r.min_score;
    return o;
}

// f(classifier): the model's preset pipeline over Source, on its network, with its recipe
// applied. adjust(options&) may change the options first (batch, flow limits, other windows).
template <class Source = source::any_source, backend::backend_tag Backend = backend::default_backend,
          decision::decision_policy Decision = decision::per_block, class L = builtin, class F,
          class Adjust = void (*)(void*)>
void visit_classifier(const model& m, F&& f, Adjust adjust = nullptr) {
    visit_model<L>(m, [&](auto p, auto& net) {
        using P = decltype(p);
        using Net = std::remove_reference_t<decltype(net)>;
        using classifier = preset_pipeline<P, Net, Source, Backend, Decision>;
        auto o = pipeline_options<P, classifier>(m.recipe);
        if constexpr (!std::is_same_v<Adjust, void (*)(void*)>) adjust(o);
        classifier pipe(net, o);
        f(pipe);
    });
}

}  // namespace flowpic::presets
