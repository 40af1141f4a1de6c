#pragma once
// A picture set from a directory tree whose first level names the classes:
//
//   DIR/<class>/**/<file>     captures (pcap, pcapng) or any format source::visit_file opens
//
// Classes are the first-level directory names, sorted (byte order): that is the label order of
// the dataset and of every model trained on it. Files are read in sorted path order; hidden
// files and directories (".name") are ignored, and files that are no supported format (text that
// is no known CSV, unknown binary, empty, FLOWPIC1) are skipped and listed in the report. The
// capture of a block, the unit of the split, is its file (relative to DIR), or for lab flow
// records (.fpr) the lab capture its flow came from.
//
//   train::build_options o;
//   o.preset = "mini_flowpic";
//   o.where = {train::parse_where("vpn=no")};
//   train::picture_set set = train::build_dataset("data/lab/dataset", o);   // split as o.split says

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/train/file_blocks.hpp"
#include "flowpic/train/picture_set.hpp"
#include "flowpic/train/split.hpp"

namespace flowpic::train {

// A condition on a block's origin: vpn=no|yes, application=NAME (lab flow records say both; a
// block of another file matches no condition).
struct where_clause {
    std::string key;
    std::string value;

    [[nodiscard]] bool matches(const block_origin& o) const {
        if (key == "vpn") return o.vpn == (value == "yes" ? 1 : 0);
        if (key == "application") return o.vpn >= 0 && o.application == value;
        return false;
    }
};

inline where_clause parse_where(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("--where '" + text + "': KEY=VALUE, e.g. vpn=no");
    where_clause w{text.substr(0, eq), text.substr(eq + 1)};
    if (w.key == "vpn") {
        if (w.value != "yes" && w.value != "no") throw std::invalid_argument("--where vpn=" + w.value + ": yes or no");
    } else if (w.key == "application") {
        if (w.value.empty()) throw std::invalid_argument("--where application=: give an application name");
    } else {
        throw std::invalid_argument("--where " + w.key + ": known keys are vpn and application");
    }
    return w;
}

struct build_options {
    std::string preset{presets::mini_flowpic::name};
    std::optional<blocks::window_spec> window;  // instead of the preset's windows
    std::vector<where_clause> where;            // all must hold
    split_options split;
    std::vector<std::string> classes;           // when not empty: these classes, in this order
                                                // (each must be a directory of the tree)
};

struct build_report {
    std::size_t files = 0;                      // files read
    std::vector<std::string> skipped;           // "path (why)"
    std::size_t blocks = 0;                     // blocks seen, before --where
};

// The first-level directories of a tree, sorted.
inline std::vector<std::string> class_directories(const std::string& root) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw io_error(location{root}, "not a directory");
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(root, ec)) {
        const std::string name = e.path().filename().string();
        if (!name.empty() && name[0] != '.' && e.is_directory(ec)) out.push_back(name);
    }
    if (ec) throw io_error(location{root}, "cannot list: " + ec.message());
    std::sort(out.begin(), out.end());
    return out;
}

// The files under one class directory, sorted by path, hidden ones left out.
inline std::vector<std::filesystem::path> class_files(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::vector<fs::path> out;
    std::error_code ec;
    auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
    if (ec) throw io_error(location{dir.string()}, "cannot list: " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) throw io_error(location{dir.string()}, "cannot list: " + ec.message());
        const std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec)) out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

namespace detail {

template <class Preset>
void add_file(picture_set& set, const std::string& path, const std::string& capture_name, std::uint32_t label,
              const build_options& o, std::map<std::pair<std::uint32_t, std::string>, std::uint32_t>& capture_index,
              picture::maker<typename Preset::picture>& m, build_report& report) {
    using T = typename Preset::picture::value_type;
    picture::sparse_picture<T> pic;
    std::vector<float> values;
    for_each_block<Preset>(
        path,
        [&](const blocks::block& b, const block_origin& origin) {
            ++report.blocks;
            for (const auto& w : o.where)
                if (!w.matches(origin)) return;
            std::string name = origin.capture.empty() ? capture_name : std::string(origin.capture);
            auto [it, fresh] = capture_index.try_emplace({label, name}, static_cast<std::uint32_t>(set.captures.size()));
            if (fresh) set.captures.push_back({std::move(name), label, static_cast<std::int8_t>(origin.vpn), split::train});
            sample_info s;
            s.label = label;
            s.capture = it->second;
            if (origin.keyed && b.owner) s.key = b.owner->key;
            s.block_start_ns = b.window_start_ns;
            s.block_end_ns = b.window_end_ns;
            s.first_packet = set.packets.size();
            s.packets = static_cast<std::uint32_t>(b.packets.size());
            set.packets.insert(set.packets.end(), b.packets.begin(), b.packets.end());
            m.sparse(b, pic);
            values.assign(pic.values.begin(), pic.values.end());
            const std::vector<float> bg(pic.background.begin(), pic.background.end());
            set.pictures.push_back(picture::sparse_view<float>{pic.channels, pic.height, pic.width, pic.cells, values, bg});
            set.samples.push_back(s);
        },
        file_block_options{o.window, false});
}

}  // namespace detail

// Reads the tree at `root` into a picture set of o.preset (one of Presets) and splits it (o.split).
template <class Presets = presets::builtin>
picture_set build_dataset(const std::string& root, const build_options& o, build_report* report = nullptr) {
    namespace fs = std::filesystem;
    build_report local;
    build_report& rep = report ? *report : local;
    const auto dirs = class_directories(root);
    picture_set set;
    set.classes = o.classes.empty() ? dirs : o.classes;
    if (set.classes.empty()) throw io_error(location{root}, "no class directories (DIR/<class>/<files>)");
    for (const auto& c : set.classes)
        if (!std::binary_search(dirs.begin(), dirs.end(), c))
            throw io_error(location{(fs::path(root) / c).string()}, "no such class directory");
    set.preset = o.preset;
    presets::visit<Presets>(o.preset, [&](auto p) {
        using P = decltype(p);
        set.window = o.window.value_or(P::window);
        picture::maker<typename P::picture> m;
        set.pictures = picture::sparse_stack<float>(P::picture::channel_count, P::picture::height, P::picture::width, [&] {
            std::vector<float> bg;
            for (auto v : m.background()) bg.push_back(static_cast<float>(v));
            return bg;
        }());
        std::map<std::pair<std::uint32_t, std::string>, std::uint32_t> capture_index;
        for (std::uint32_t label = 0; label < set.classes.size(); ++label) {
            const fs::path dir = fs::path(root) / set.classes[label];
            for (const auto& file : class_files(dir)) {
                const std::string path = file.string();
                const auto format = source::sniff_format(path);
                if (format == source::file_format::unknown_text || format == source::file_format::unknown ||
                    format == source::file_format::empty || format == source::file_format::flowpic1) {
                    rep.skipped.push_back(path + " (" + source::format_name(format) + ")");
                    continue;
                }
                ++rep.files;
                detail::add_file<P>(set, path, fs::relative(file, root).generic_string(), label, o, capture_index, m, rep);
            }
        }
    });
    apply_split(set, o.split);
    return set;
}

}  // namespace flowpic::train
