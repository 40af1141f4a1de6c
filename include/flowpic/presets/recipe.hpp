#pragma once
// A model's recipe: what applying it as trained needs beyond its preset and weights. The windows
// its blocks were cut with (--all-windows and --min-packets are part of them), the flow grouping,
// the label map that named its classes and per-class score thresholds for `unknown`. Stored as
// key/value fields of the model file (nn/model_file.hpp, docs/formats.md):
//
//   window.length_ns, window.stride_ns, window.min_packets, window.min_span_ns   integers
//   window.inclusive_end, window.first_only                                      0 or 1
//   window.ends          complete | authors | any
//   window.min_flow_packets  integer, written only when not 0
//   grouping             per_direction | per_connection | all_flows   (must be the preset's)
//   label_map            CSV text (absent: classes from class directories)
//   min_score            one number in [0, 1] per class, comma-separated (absent: no thresholds)
//
// A field left out takes the preset's default; keys this flowpic does not know are ignored.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/nn/model_file.hpp"

namespace flowpic::presets {

// How packets become flows: a preset's flow key, by name.
enum class grouping : std::uint8_t { per_direction, per_connection, all_flows };

inline constexpr std::string_view grouping_names[3] = {"per_direction", "per_connection", "all_flows"};

[[nodiscard]] constexpr std::string_view name(grouping g) noexcept { return grouping_names[static_cast<std::size_t>(g)]; }

[[nodiscard]] constexpr std::optional<grouping> parse_grouping(std::string_view s) noexcept {
    for (std::size_t i = 0; i < 3; ++i)
        if (grouping_names[i] == s) return static_cast<grouping>(i);
    return std::nullopt;
}

// The grouping of a flow key policy; empty for a key of the user's own.
template <class Key>
[[nodiscard]] constexpr std::optional<grouping> grouping_of() noexcept {
    if constexpr (std::is_same_v<Key, flows::unidirectional>) return grouping::per_direction;
    else if constexpr (std::is_same_v<Key, flows::bidirectional>) return grouping::per_connection;
    else if constexpr (std::is_same_v<Key, flows::all_flows>) return grouping::all_flows;
    else return std::nullopt;
}

// Every complete window of a flow instead of the first only (--all-windows).
[[nodiscard]] constexpr blocks::window_spec every_window(blocks::window_spec w) noexcept {
    w.first_only = false;
    w.ends = blocks::end_rule::complete;
    return w;
}

struct recipe {
    std::optional<blocks::window_spec> window;  // empty: not recorded, the preset's
    std::optional<grouping> flows;              // empty: not recorded, the preset's
    std::string label_map;                      // empty: none
    std::vector<float> min_score;               // per class (0: none); empty: no thresholds

    friend bool operator==(const recipe&, const recipe&) = default;
};

namespace detail {

inline constexpr std::string_view end_rule_names[3] = {"complete", "authors", "any"};

inline std::string number_text(float v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", double(v));  // 9 digits: the float back exactly
    return buf;
}

[[noreturn]] inline void bad_value(const nn::model_field& f, const std::string& name, const std::string& why) {
    throw format_error(location{name, f.offset}, "recipe field '" + f.key + "' = '" + f.value + "': " + why);
}

template <class T>
T integer_of(const nn::model_field& f, const std::string& name, T min) {
    T v{};
    const char* end = f.value.data() + f.value.size();
    const auto [p, ec] = std::from_chars(f.value.data(), end, v);
    if (ec != std::errc{} || p != end || f.value.empty()) bad_value(f, name, "not an integer");
    if (v < min) bad_value(f, name, "below " + std::to_string(min));
    return v;
}

inline bool flag_of(const nn::model_field& f, const std::string& name) {
    if (f.value == "0") return false;
    if (f.value == "1") return true;
    bad_value(f, name, "0 or 1 expected");
}

inline std::vector<float> scores_of(const nn::model_field& f, const std::string& name, std::size_t classes) {
    std::vector<float> out;
    std::size_t at = 0;
    while (at <= f.value.size()) {
        std::size_t comma = f.value.find(',', at);
        if (comma == std::string::npos) comma = f.value.size();
        const char* b = f.value.data() + at;
        const char* e = f.value.data() + comma;
        double v = 0;
        const auto [p, ec] = std::from_chars(b, e, v);
        if (ec != std::errc{} || p != e || b == e) bad_value(f, name, "not a list of numbers");
        if (!(v >= 0.0 && v <= 1.0)) bad_value(f, name, "a score threshold outside [0, 1]");
        out.push_back(static_cast<float>(v));
        at = comma + 1;
    }
    if (out.size() != classes)
        bad_value(f, name, std::to_string(out.size()) + " thresholds for " + std::to_string(classes) + " classes");
    return out;
}

}  // namespace detail

// The recipe as model-file fields, in a fixed order (what nn::save_model writes).
[[nodiscard]] inline nn::model_fields to_fields(const recipe& r) {
    nn::model_fields f;
    if (r.window) {
        const auto& w = *r.window;
        f.emplace_back("window.length_ns", std::to_string(w.length_ns));
        f.emplace_back("window.stride_ns", std::to_string(w.stride_ns));
        f.emplace_back("window.min_packets", std::to_string(w.min_packets));
        f.emplace_back("window.min_span_ns", std::to_string(w.min_span_ns));
        f.emplace_back("window.inclusive_end", w.inclusive_end ? "1" : "0");
        f.emplace_back("window.ends", std::string(detail::end_rule_names[static_cast<std::size_t>(w.ends)]));
        f.emplace_back("window.first_only", w.first_only ? "1" : "0");
        // only when set, so files without the rule stay as they were
        if (w.min_flow_packets != 0) f.emplace_back("window.min_flow_packets", std::to_string(w.min_flow_packets));
    }
    if (r.flows) f.emplace_back("grouping", std::string(name(*r.flows)));
    if (!r.label_map.empty()) f.emplace_back("label_map", r.label_map);
    if (!r.min_score.empty()) {
        std::string s;
        for (std::size_t i = 0; i < r.min_score.size(); ++i) {
            if (i) s += ',';
            s += detail::number_text(r.min_score[i]);
        }
        f.emplace_back("min_score", s);
    }
    return f;
}

// The typed recipe of a model file's header; every value checked (a format_error naming `name`
// and the value's offset). `window_default` fills window fields a file leaves out.
[[nodiscard]] inline recipe from_fields(const nn::model_info& info, const std::string& name,
                                        const blocks::window_spec& window_default = {}) {
    recipe r;
    blocks::window_spec w = window_default;
    bool any_window = false;
    for (const auto& f : info.recipe) {
        const std::string_view k = f.key;
        if (k.starts_with("window.")) {
            any_window = true;  // (a window field of a later flowpic alone does not count)
            if (k == "window.length_ns") w.length_ns = detail::integer_of<std::int64_t>(f, name, 1);
            else if (k == "window.stride_ns") w.stride_ns = detail::integer_of<std::int64_t>(f, name, 0);
            else if (k == "window.min_packets") w.min_packets = detail::integer_of<std::uint32_t>(f, name, 0);
            else if (k == "window.min_span_ns") w.min_span_ns = detail::integer_of<std::int64_t>(f, name, 0);
            else if (k == "window.inclusive_end") w.inclusive_end = detail::flag_of(f, name);
            else if (k == "window.first_only") w.first_only = detail::flag_of(f, name);
            else if (k == "window.min_flow_packets") w.min_flow_packets = detail::integer_of<std::uint32_t>(f, name, 0);
            else if (k == "window.ends") {
                std::size_t i = 0;
                while (i < 3 && detail::end_rule_names[i] != f.value) ++i;
                if (i == 3) detail::bad_value(f, name, "complete, authors or any expected");
                w.ends = static_cast<blocks::end_rule>(i);
            } else {
                any_window = r.window.has_value();
            }
        } else if (k == "grouping") {
            r.flows = parse_grouping(f.value);
            if (!r.flows) detail::bad_value(f, name, "per_direction, per_connection or all_flows expected");
        } else if (k == "label_map") {
            r.label_map = f.value;
        } else if (k == "min_score") {
            r.min_score = detail::scores_of(f, name, info.classes.size());
        }
        if (any_window) r.window = w;
    }
    return r;
}

// What a model file does not record, for a note ("" when it records everything).
[[nodiscard]] inline std::string what_is_missing(const nn::model_info& info, const recipe& r) {
    if (info.version < 2)
        return "it is a version-" + std::to_string(info.version) +
               " model file: it does not record its windows, grouping, label map or score thresholds";
    std::string miss;
    if (!r.window) miss += "windows";
    if (!r.flows) miss += std::string(miss.empty() ? "" : ", ") + "grouping";
    return miss.empty() ? miss : "it does not record its " + miss;
}

}  // namespace flowpic::presets
