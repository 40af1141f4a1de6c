#pragma once
// The model file: everything needed to run a trained network again, and nothing that could be
// loaded into the wrong one. Little-endian, versioned, checksummed:
//
//   "FLOWPICM"  u32 version  u32 reserved(0)
//   str preset  str architecture signature  u32 classes, str class name x classes
//   u32 fields, (str key, str value) x fields     (the recipe; version 2 on, absent in version 1)
//   u32 tensors, per tensor: str name ("<i>.weight"), u32 rank, u64 dims x rank, f32 values
//   u64 FNV-1a of every byte before it
//   (str = u32 length + bytes)
//
// Loading checks magic, version, size, checksum, that the class count is possible (1 or more)
// and every weight finite, then that the signature (every layer and shape)
// and each tensor's name and shape match the network it is loaded into; any failure is a
// flowpic::format_error naming the file and the byte offset.
//
// The recipe is how the model is applied as trained (windows, grouping, label map, score
// thresholds: presets/recipe.hpp gives them types and checks their values). This layer keeps the
// pairs in order, with each value's offset for errors; keys it does not know are kept.
// Version-1 files still load, with no recipe.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/nn/layer.hpp"

namespace flowpic::nn {

inline constexpr char model_magic[8] = {'F', 'L', 'O', 'W', 'P', 'I', 'C', 'M'};
inline constexpr std::uint32_t model_format_version = 2;
inline constexpr std::uint32_t model_format_oldest = 1;

// The largest weight magnitude a model may hold: far above what training gives, low enough that
// float activations of a real network stay finite (tests/fuzz checks outputs within the bounds).
inline constexpr float max_abs_weight = 1e4f;

// The first weight that is NaN, infinite or beyond max_abs_weight (a NaN would make every score
// NaN), or values.size().
[[nodiscard]] inline std::size_t bad_index(std::span<const float> values) noexcept {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!(std::fabs(values[i]) <= max_abs_weight)) return i;
    return values.size();
}
// What is wrong with that weight ("value 3 is not finite (nan)"), or empty.
[[nodiscard]] inline std::string weight_problem(std::span<const float> values) {
    const std::size_t i = bad_index(values);
    if (i == values.size()) return {};
    const float v = values[i];
    if (!std::isfinite(v)) return "value " + std::to_string(i) + " is not finite (" + (std::isnan(v) ? "nan" : "inf") + ")";
    char text[64];
    std::snprintf(text, sizeof text, " = %g is beyond +-%g", double(v), double(max_abs_weight));
    return "value " + std::to_string(i) + text + " (no trained network holds such a weight)";
}

// One recipe entry; `offset` is where its value starts in the file (for errors about the value).
struct model_field {
    std::string key;
    std::string value;
    std::size_t offset = 0;
};

struct model_info {
    std::string preset;                 // e.g. "shapira2019"; free text for custom networks
    std::string signature;              // the network's architecture, layer by layer
    std::vector<std::string> classes;   // class names, in output order
    std::uint32_t version = model_format_version;  // of the file read
    std::vector<model_field> recipe;    // in file order; empty in a version-1 file
    std::size_t classes_offset = 0;     // where the class count is (errors about it point there)
    static constexpr std::size_t preset_offset = 16;

    // The entry of `key` (the last, when repeated: a later entry wins), or nullptr.
    [[nodiscard]] const model_field* field(const std::string& key) const {
        for (auto it = recipe.rbegin(); it != recipe.rend(); ++it)
            if (it->key == key) return &*it;
        return nullptr;
    }
};

// Recipe entries to write, in order.
using model_fields = std::vector<std::pair<std::string, std::string>>;

namespace detail {

inline binary::reader model_reader(std::span<const std::uint8_t> bytes, const std::string& name) {
    return binary::reader(bytes, name, "model file");
}

// Checks magic, version and checksum; reads the header. Leaves r at the tensor count.
inline model_info read_header(binary::reader& r) {
    const auto d = r.data();
    if (d.size() < 16 + 8) r.fail(d.size(), "truncated model file: " + std::to_string(d.size()) + " bytes");
    if (std::memcmp(d.data(), model_magic, 8) != 0) r.fail(0, "not a flowpic model file (bad magic)");
    r.num<std::uint64_t>("magic");
    const auto version = r.num<std::uint32_t>("version");
    if (version < model_format_oldest || version > model_format_version)
        r.fail(8, "model format version " + std::to_string(version) + ", this flowpic reads versions " +
                      std::to_string(model_format_oldest) + " to " + std::to_string(model_format_version));
    const auto reserved = r.num<std::uint32_t>("reserved");
    const std::size_t body = d.size() - 8;
    // the checksum first: a damaged file is reported as such, not by the field it garbles
    binary::reader sum(d.subspan(body), r.name(), "model file");
    if (sum.num<std::uint64_t>("checksum") != binary::fnv1a(d.data(), body))
        r.fail(body, "checksum mismatch: the model file is corrupt or truncated");
    if (reserved != 0) r.fail(12, "reserved field is " + std::to_string(reserved) + ", not 0");
    r.limit(body);
    model_info info;
    info.version = version;
    info.preset = r.str<std::uint32_t>("preset name");
    info.signature = r.str<std::uint32_t>("architecture signature");
    info.classes_offset = r.offset();
    const auto classes = r.num<std::uint32_t>("class count");
    if (classes == 0 || classes > r.left() / 4)
        r.fail(info.classes_offset, "class count " + std::to_string(classes) + " is impossible (0 or beyond the file)");
    for (std::uint32_t i = 0; i < classes; ++i) info.classes.push_back(r.str<std::uint32_t>("class name"));
    if (version >= 2) {
        const std::size_t at = r.offset();
        const auto fields = r.num<std::uint32_t>("recipe field count");
        if (fields > 10'000) r.fail(at, "implausible recipe field count " + std::to_string(fields));
        for (std::uint32_t i = 0; i < fields; ++i) {
            model_field f;
            f.key = r.str<std::uint32_t>("recipe key");
            f.offset = r.offset();
            f.value = r.str<std::uint32_t>("recipe value");
            info.recipe.push_back(std::move(f));
        }
    }
    return info;
}

}  // namespace detail

// A model file's bytes; a file that is not one (bad magic) is refused after its first bytes.
[[nodiscard]] inline std::vector<std::uint8_t> read_model_file(const std::string& path) {
    return binary::read_file(path, {.magic = std::string_view(model_magic, 8)});
}

// Preset, signature and class names of a model file, without loading its tensors.
inline model_info read_model_info(std::span<const std::uint8_t> bytes, const std::string& name) {
    auto r = detail::model_reader(bytes, name);
    return detail::read_header(r);
}
inline model_info read_model_info(const std::string& path) { return read_model_info(read_model_file(path), path); }

// What model files and weight directories need of a network, independent of its type.
struct network_view {
    std::string signature;
    std::vector<parameter_tensor> tensors;
    std::span<float> params;
};
template <class Net>
network_view view_of(Net& net) {
    static_assert(std::is_same_v<typename Net::value_type, float>, "model files hold float networks");
    return {Net::signature(), Net::tensors(), net.params()};
}

// Writes the current version; `recipe` in the given order.
inline void save_model(const std::string& path, const network_view& net, const std::string& preset,
                       const std::vector<std::string>& classes, const model_fields& recipe = {}) {
    binary::writer w("model file");
    w.bytes(model_magic, 8);
    w.num(model_format_version);
    w.num(std::uint32_t{0});
    w.str<std::uint32_t>(preset);
    w.str<std::uint32_t>(net.signature);
    w.num(static_cast<std::uint32_t>(classes.size()));
    for (const auto& c : classes) w.str<std::uint32_t>(c);
    w.num(static_cast<std::uint32_t>(recipe.size()));
    for (const auto& [key, value] : recipe) {
        w.str<std::uint32_t>(key);
        w.str<std::uint32_t>(value);
    }
    w.num(static_cast<std::uint32_t>(net.tensors.size()));
    const auto params = net.params;
    for (const auto& t : net.tensors) {
        w.str<std::uint32_t>(std::to_string(t.group) + "." + t.info.role);
        w.num(static_cast<std::uint32_t>(t.info.dims.size()));
        for (auto dim : t.info.dims) w.num(static_cast<std::uint64_t>(dim));
        for (std::size_t i = 0; i < t.info.size(); ++i) w.num(static_cast<float>(params[t.offset + i]));
    }
    w.checksum();
    binary::write_file(path, w.data());
}

// Loads the parameters of a model file's bytes (named `name` in errors) into net; returns its header.
inline model_info load_model(std::span<const std::uint8_t> bytes, const std::string& name, const network_view& net) {
    auto r = detail::model_reader(bytes, name);
    model_info info = detail::read_header(r);
    if (info.signature != net.signature)
        r.fail(16, "the model file holds a different network: it was saved as\n  " + info.signature +
                       "\nand is being loaded into\n  " + net.signature);
    const auto& expected = net.tensors;
    const std::size_t at = r.offset();
    const auto n = r.num<std::uint32_t>("tensor count");
    if (n != expected.size())
        r.fail(at, "the model file has " + std::to_string(n) + " tensors, the network " + std::to_string(expected.size()));
    std::vector<float> values;
    auto params = net.params;
    for (const auto& t : expected) {
        const std::size_t start = r.offset();
        const std::string tensor = r.str<std::uint32_t>("tensor name");
        const std::string want = std::to_string(t.group) + "." + t.info.role;
        if (tensor != want) r.fail(start, "tensor '" + tensor + "' where '" + want + "' was expected");
        const auto rank = r.num<std::uint32_t>("tensor rank");
        if (rank != t.info.dims.size())
            r.fail(start, "tensor '" + tensor + "' has rank " + std::to_string(rank) + ", expected " +
                              std::to_string(t.info.dims.size()));
        std::vector<std::size_t> dims;
        for (std::uint32_t i = 0; i < rank; ++i) dims.push_back(static_cast<std::size_t>(r.num<std::uint64_t>("tensor shape")));
        if (dims != t.info.dims) r.fail(start, "tensor '" + tensor + "' has another shape than the network's");
        values.resize(t.info.size());
        const std::size_t first = r.offset();
        r.nums(values.data(), values.size(), "tensor values");
        if (const auto bad = weight_problem(values); !bad.empty())
            r.fail(first + 4 * bad_index(values), "tensor '" + tensor + "' " + bad);
        std::copy(values.begin(), values.end(), params.begin() + static_cast<std::ptrdiff_t>(t.offset));
    }
    if (r.left() != 0) r.fail("unexpected bytes after the last tensor");
    return info;
}

inline model_info load_model(const std::string& path, const network_view& net) {
    return load_model(read_model_file(path), path, net);
}

template <class Net>
void save_model(const std::string& path, Net& net, const std::string& preset, const std::vector<std::string>& classes,
                const model_fields& recipe = {}) {
    save_model(path, view_of(net), preset, classes, recipe);
}
template <class Net>
model_info load_model(const std::string& path, Net& net) {
    return load_model(path, view_of(net));
}
template <class Net>
model_info load_model(std::span<const std::uint8_t> bytes, const std::string& name, Net& net) {
    return load_model(bytes, name, view_of(net));
}

}  // namespace flowpic::nn
