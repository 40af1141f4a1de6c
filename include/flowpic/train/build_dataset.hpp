#pragma once
// A picture set from directory trees whose first level names the classes, and from captures
// whose flows a label file names (labels/label_file.hpp, `flowpic label`):
//
//   DIR/<class>/**/<file>     captures (pcap, pcapng) or any format source::visit_file opens
//   labels.csv + captures     each flow (per the preset's flow key; both directions of a
//                             connection take its row) takes its row's class; flows without a
//                             row, with an empty class or `ignore` are left out and counted
//
// Classes are the first-level directory names and the label classes met, sorted (byte order):
// that is the label order of the dataset and of every model trained on it. Files are read in sorted path order (on
// all of oneTBB's threads at once, merged in that order, so the set is the same for any thread count); hidden
// files and directories (".name") are ignored, and files that are no supported format (text that
// is no known CSV, unknown binary, empty, FLOWPIC1) are skipped and listed in the report. The
// capture of a block, the unit of the split, is its file (relative to DIR), or for lab flow
// records (.fpr) the lab capture its flow came from.
//
//   train::build_options o;
//   o.preset = "mini_flowpic";
//   o.where = {train::parse_where("vpn=no")};
//   train::picture_set set = train::build_dataset("data/lab/dataset", o);   // split as o.split says
//
//   o.labelled = train::labelled_captures{labels::label_index(labels::read_label_file("labels.csv")),
//                                         {"captures/"}};
//   train::picture_set mixed = train::build_dataset({"data/lab/dataset"}, o);

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/dist/collectives.hpp"
#include "flowpic/dist/communicator.hpp"
#include "flowpic/dist/single_process.hpp"
#include "flowpic/labels/label_file.hpp"
#include "flowpic/labels/label_map.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/damage.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/file_blocks.hpp"
#include "flowpic/train/picture_set.hpp"
#include "flowpic/train/split.hpp"

namespace flowpic::train {

// A condition on a block's origin: vpn=no|yes, application=NAME (lab flow records say both,
// labelled captures the application nDPI named; a block of another file matches no condition).
struct where_clause {
    std::string key;
    std::string value;

    [[nodiscard]] bool matches(const block_origin& o) const {
        if (key == "vpn") return o.vpn == (value == "yes" ? 1 : 0);
        if (key == "application") return !o.application.empty() && o.application == value;
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

// Captures and the label files that name their flows.
struct labelled_captures {
    labels::label_index rows{};                 // every label file's rows together
    std::vector<std::string> captures{};        // files, or directories walked as class_files does
    std::optional<labels::label_map> map{};     // when set: a row's class is map.classify(application,
                                                // category), not its class column
    std::string files_name = "the label files"; // what the dataset's label map note calls them
};

struct build_options {
    std::string preset{presets::mini_flowpic::name};
    std::optional<blocks::window_spec> window;  // instead of the preset's windows
    std::vector<where_clause> where;            // all must hold
    split_options split;
    std::vector<std::string> classes;           // when not empty: these classes, in this order
                                                // (each a directory of a tree, unless labels are read)
    std::optional<labelled_captures> labelled;  // flows named by label files
    bool stop_at_damage = false;                // a damaged file: its records before the damage are
                                                // kept and the damage reported (build_report::damaged);
                                                // false: format_error
    decode::tunnel_mode tunnels = decode::tunnel_mode::outer;  // GRE and GTP-U: the outer or the inner flows
    std::function<void(std::size_t, std::size_t)> on_file;     // (files read, files to read): progress
    std::string filter;  // BPF expression every file is read through (pcap and pcapng only); empty: none
};

struct build_report {
    std::size_t files = 0;                      // files read
    std::vector<std::string> skipped;           // "path (why)"
    std::vector<source::damage> damaged;        // with stop_at_damage: where files were cut or damaged
    struct time_order_note {
        std::string file;
        time_order_counts counts;
    };
    std::vector<time_order_note> time_order;    // files with packets whose time went backwards in their flow
    std::size_t blocks = 0;                     // blocks seen, before --where
    // labelled captures: flows (that made a block) by what their row said
    std::size_t flows_labelled = 0;             // a class: kept
    std::size_t flows_without_row = 0;          // no row in the label files
    std::size_t flows_unnamed = 0;              // a row with an empty class
    std::size_t flows_ignored = 0;              // class `ignore`
    std::size_t flows_unlisted = 0;             // a class not in build_options::classes
};

// What a dataset made with label files records as its label map: the map given; else the default
// map's text when every row's class is what the default map makes of it; else a map with no rows
// whose comment says the classes were taken as written.
[[nodiscard]] inline std::string label_map_of(const labelled_captures& l) {
    if (l.map) return l.map->text();
    const auto& d = labels::default_map();
    for (const auto& r : l.rows.rows())
        if (r.cls != d.classify(r.application, r.category)) return "kind,name,class\n# classes as written in " + l.files_name + "\n";
    return std::string(labels::default_map_text);
}

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

// Files as given ("-": standard input), directories walked as class_files walks them (sorted,
// hidden entries left out); io_error for a path that does not exist.
inline std::vector<std::string> expand_paths(const std::vector<std::string>& paths) {
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    for (const auto& c : paths) {
        std::error_code ec;
        if (fs::is_directory(c, ec)) {
            for (const auto& f : class_files(c)) out.push_back(f.generic_string());
        } else if (c == "-" || fs::exists(c, ec)) {
            out.push_back(c);
        } else {
            throw io_error(location{c}, "no such file or directory");
        }
    }
    return out;
}

namespace detail {

// The captures of a set under construction: by (class name, capture name), labels provisional
// (the order classes were met) until finish() sorts them.
struct set_builder {
    picture_set& set;
    std::vector<std::string> names;                               // provisional label -> class
    std::map<std::string, std::uint32_t> label_of;                // class -> provisional label
    std::map<std::pair<std::uint32_t, std::string>, std::uint32_t> capture_index;

    std::uint32_t label(const std::string& cls) {
        auto [it, fresh] = label_of.try_emplace(cls, static_cast<std::uint32_t>(names.size()));
        if (fresh) names.push_back(cls);
        return it->second;
    }
};

// Adds the blocks of one file. `classify(block, origin, label&)` says whether a block is kept
// and under which provisional label.
template <class Preset, class Classify>
void add_file(set_builder& sb, const std::string& path, const std::string& capture_name, const build_options& o,
              picture::maker<typename Preset::picture>& m, build_report& report, Classify&& classify) {
    using T = typename Preset::picture::value_type;
    picture_set& set = sb.set;
    picture::sparse_picture<T> pic;
    std::vector<float> values;
    std::optional<source::damage> damage;
    time_order_counts order;
    for_each_block<Preset>(
        path,
        [&](const blocks::block& b, const block_origin& origin0) {
            ++report.blocks;
            block_origin origin = origin0;
            std::uint32_t label = 0;
            if (!classify(b, origin, label)) return;
            for (const auto& w : o.where)
                if (!w.matches(origin)) return;
            std::string name = origin.capture.empty() ? capture_name : std::string(origin.capture);
            auto [it, fresh] = sb.capture_index.try_emplace({label, name}, static_cast<std::uint32_t>(set.captures.size()));
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
        file_block_options{o.window, false, o.stop_at_damage ? &damage : nullptr, o.tunnels, &order, o.filter});
    if (damage) report.damaged.push_back(std::move(*damage));
    if (order.backwards > 0) report.time_order.push_back({path, order});
}

// Files a dataset cannot read, reported and skipped (standard input, read once, is not sniffed).
inline bool readable(const std::string& path, build_report& rep) {
    if (path == "-") return true;
    const auto format = source::sniff_format(path);
    if (format == source::file_format::unknown_text || format == source::file_format::unknown ||
        format == source::file_format::empty || format == source::file_format::flowpic1) {
        rep.skipped.push_back(path + " (" + source::format_name(format) + ")");
        return false;
    }
    return true;
}

}  // namespace detail

namespace detail {

// One input file of a dataset: a tree's file of class `cls`, or a labelled capture.
struct file_job {
    std::string path, name, cls;
    bool labelled = false;
};

// The blocks of one file as a set of their own (classes in the order met), with its report.
struct file_part {
    picture_set set;
    build_report report;
    std::exception_ptr error;  // reading it failed: raised when its turn to be merged comes
};

inline void add_report(build_report& to, const build_report& r) {
    to.files += r.files;
    to.skipped.insert(to.skipped.end(), r.skipped.begin(), r.skipped.end());
    to.damaged.insert(to.damaged.end(), r.damaged.begin(), r.damaged.end());
    to.time_order.insert(to.time_order.end(), r.time_order.begin(), r.time_order.end());
    to.blocks += r.blocks;
    to.flows_labelled += r.flows_labelled;
    to.flows_without_row += r.flows_without_row;
    to.flows_unnamed += r.flows_unnamed;
    to.flows_ignored += r.flows_ignored;
    to.flows_unlisted += r.flows_unlisted;
}

// Appends a file's part as if its blocks had been added to `sb` one by one: a capture is new on
// its first kept block, so the set is the same whichever process read which file.
inline void merge_part(set_builder& sb, const file_part& part, build_report& rep) {
    picture_set& set = sb.set;
    const picture_set& p = part.set;
    std::vector<std::uint32_t> label(p.classes.size());
    for (std::size_t i = 0; i < p.classes.size(); ++i) label[i] = sb.label(p.classes[i]);
    for (std::size_t i = 0; i < p.samples.size(); ++i) {
        sample_info s = p.samples[i];
        const capture_info& c = p.captures[s.capture];
        s.label = label[s.label];
        auto [it, fresh] = sb.capture_index.try_emplace({s.label, c.name}, static_cast<std::uint32_t>(set.captures.size()));
        if (fresh) set.captures.push_back({c.name, s.label, c.vpn, split::train});
        s.capture = it->second;
        const auto packets = p.packets_of(i);
        s.first_packet = set.packets.size();
        set.packets.insert(set.packets.end(), packets.begin(), packets.end());
        set.pictures.push_back(p.pictures[i]);
        set.samples.push_back(s);
    }
    add_report(rep, part.report);
}

// A part as bytes for another process: its report, then the part as a dataset file.
template <class Presets>
std::vector<std::byte> encode_part(const file_part& part) {
    binary::writer w("dataset part");
    const auto& r = part.report;
    for (std::size_t v : {r.files, r.blocks, r.flows_labelled, r.flows_without_row, r.flows_unnamed, r.flows_ignored,
                          r.flows_unlisted})
        w.num(static_cast<std::uint64_t>(v));
    w.num(static_cast<std::uint32_t>(r.skipped.size()));
    for (const auto& s : r.skipped) w.str<std::uint32_t>(s);
    w.num(static_cast<std::uint32_t>(r.damaged.size()));
    for (const auto& d : r.damaged) {
        w.str<std::uint32_t>(d.where.file);
        w.num(static_cast<std::uint64_t>(d.where.offset));
        w.num(static_cast<std::uint64_t>(d.where.line));
        w.str<std::uint32_t>(d.reason);
    }
    w.num(static_cast<std::uint32_t>(r.time_order.size()));
    for (const auto& t : r.time_order) {
        w.str<std::uint32_t>(t.file);
        w.num(t.counts.backwards);
        w.num(t.counts.late_packets);
    }
    const auto set = encode_dataset<Presets>(part.set);
    w.num(static_cast<std::uint64_t>(set.size()));
    w.bytes(set.data(), set.size());
    const auto& b = w.data();
    const auto* q = reinterpret_cast<const std::byte*>(b.data());
    return {q, q + b.size()};
}

template <class Presets>
file_part decode_part(binary::reader& r) {
    file_part part;
    auto& rep = part.report;
    for (std::size_t* v : {&rep.files, &rep.blocks, &rep.flows_labelled, &rep.flows_without_row, &rep.flows_unnamed,
                           &rep.flows_ignored, &rep.flows_unlisted})
        *v = static_cast<std::size_t>(r.num<std::uint64_t>("report"));
    const auto skipped = r.num<std::uint32_t>("report");
    for (std::uint32_t i = 0; i < skipped; ++i) rep.skipped.push_back(r.str<std::uint32_t>("report"));
    const auto damaged = r.num<std::uint32_t>("report");
    for (std::uint32_t i = 0; i < damaged; ++i) {
        source::damage d;
        d.where.file = r.str<std::uint32_t>("report");
        d.where.offset = r.num<std::uint64_t>("report");
        d.where.line = r.num<std::uint64_t>("report");
        d.reason = r.str<std::uint32_t>("report");
        rep.damaged.push_back(std::move(d));
    }
    const auto late = r.num<std::uint32_t>("report");
    for (std::uint32_t i = 0; i < late; ++i) {
        build_report::time_order_note t;
        t.file = r.str<std::uint32_t>("report");
        t.counts.backwards = r.num<std::uint64_t>("report");
        t.counts.late_packets = r.num<std::uint64_t>("report");
        rep.time_order.push_back(std::move(t));
    }
    const auto n = static_cast<std::size_t>(r.num<std::uint64_t>("part size"));
    r.need(n, "part");
    part.set = decode_dataset<Presets>(r.data().data() + r.offset(), n, r.name());
    r.skip(n, "part");
    return part;
}

}  // namespace detail

// Reads the trees at `roots` (a capture's name is its file relative to its tree; with several
// trees, the file's path) and the labelled captures of o.labelled into a picture set of o.preset
// (one of Presets), and splits it (o.split). Samples: the trees' files class by class, then the
// labelled captures in path order.
//
// With a communicator of several ranks (dist/communicator.hpp) every rank must call it with the
// same arguments: file i is read by rank i mod size, and rank 0 merges the files' blocks in file
// order, so its set (and report) is the one a single process makes, byte for byte once written;
// the other ranks get an empty set.
template <class Presets = presets::builtin, dist::communicator C = dist::single_process>
picture_set build_dataset(const std::vector<std::string>& roots, const build_options& o, build_report* report,
                          C& comm) {
    namespace fs = std::filesystem;
    build_report local;
    build_report& rep = report ? *report : local;
    if (roots.empty() && !o.labelled) throw std::invalid_argument("dataset: give a class-per-directory tree or label files");
    std::vector<std::vector<std::string>> dirs;  // per tree
    std::vector<std::string> all_dirs;
    for (const auto& root : roots) {
        dirs.push_back(class_directories(root));
        if (dirs.back().empty() && !o.labelled)
            throw io_error(location{root}, "no class directories (DIR/<class>/<files>)");
        all_dirs.insert(all_dirs.end(), dirs.back().begin(), dirs.back().end());
    }
    std::sort(all_dirs.begin(), all_dirs.end());
    all_dirs.erase(std::unique(all_dirs.begin(), all_dirs.end()), all_dirs.end());
    if (!o.labelled)
        for (const auto& c : o.classes)
            if (!std::binary_search(all_dirs.begin(), all_dirs.end(), c))
                throw io_error(location{(fs::path(roots.front()) / c).string()}, "no such class directory");
    const std::vector<std::string>& tree_classes = o.classes.empty() ? all_dirs : o.classes;

    const std::vector<std::string> labelled_files = o.labelled ? expand_paths(o.labelled->captures) : std::vector<std::string>{};

    // every file, in the order a single process reads them
    std::vector<detail::file_job> jobs;
    for (const auto& cls : tree_classes)
        for (std::size_t t = 0; t < roots.size(); ++t) {
            if (!std::binary_search(dirs[t].begin(), dirs[t].end(), cls)) continue;
            for (const auto& file : class_files(fs::path(roots[t]) / cls))
                jobs.push_back({file.string(),
                                roots.size() == 1 ? fs::relative(file, roots[t]).generic_string() : file.generic_string(),
                                cls, false});
        }
    for (const auto& path : labelled_files) jobs.push_back({path, path, {}, true});

    picture_set set;
    detail::set_builder sb{set, {}, {}, {}};
    set.preset = o.preset;
    presets::visit<Presets>(o.preset, [&](auto p) {
        using P = decltype(p);
        set.window = o.window.value_or(P::window);
        using maker_t = picture::maker<typename P::picture>;
        maker_t m;
        const auto empty_set = [&] {
            picture_set s;
            s.preset = o.preset;
            s.window = set.window;
            s.pictures = picture::sparse_stack<float>(P::picture::channel_count, P::picture::height, P::picture::width, [&] {
                std::vector<float> bg;
                for (auto v : m.background()) bg.push_back(static_cast<float>(v));
                return bg;
            }());
            return s;
        };
        set.pictures = empty_set().pictures;
        for (const auto& cls : tree_classes) sb.label(cls);
        if constexpr (!P::flow_key::keyed) {
            if (o.labelled)
                throw std::invalid_argument("dataset: label files name flows, and preset " + std::string(P::name) +
                                            " mixes the flows of a capture (use a preset with flows)");
        }
        const auto read_file = [&](const detail::file_job& job, maker_t& mk) {
            detail::file_part part{empty_set(), {}, {}};
            build_report& r = part.report;
            detail::set_builder fb{part.set, {}, {}, {}};
            if (!detail::readable(job.path, r)) return part;
            ++r.files;
            if (!job.labelled) {
                const std::uint32_t label = fb.label(job.cls);
                detail::add_file<P>(fb, job.path, job.name, o, mk, r,
                                    [&](const blocks::block&, block_origin&, std::uint32_t& l) { l = label; return true; });
            } else if constexpr (P::flow_key::keyed) {
                const auto& L = *o.labelled;
                const std::vector<std::string>& listed = o.classes;
                // per flow (key with session, first packet): the verdict, counted once
                std::map<std::pair<flow_key, std::int64_t>, std::optional<std::uint32_t>> seen;
                detail::add_file<P>(fb, job.path, job.name, o, mk, r,
                                    [&](const blocks::block& b, block_origin& origin, std::uint32_t& l) {
                    if (!b.owner) return false;
                    const flows::flow& f = *b.owner;
                    const labels::flow_label* row = L.rows.find(f.key, f.first_ns);
                    if (row) origin.application = row->application;
                    auto [it, fresh] = seen.try_emplace({f.key, f.first_ns});
                    if (fresh) {
                        if (!row) {
                            ++r.flows_without_row;
                        } else {
                            const std::string cls = L.map ? L.map->classify(row->application, row->category) : row->cls;
                            if (cls.empty()) ++r.flows_unnamed;
                            else if (cls == labels::ignore_class) ++r.flows_ignored;
                            else if (!listed.empty() && std::find(listed.begin(), listed.end(), cls) == listed.end())
                                ++r.flows_unlisted;
                            else {
                                ++r.flows_labelled;
                                it->second = fb.label(cls);
                            }
                        }
                    }
                    if (!it->second) return false;
                    l = *it->second;
                    return true;
                });
            }
            part.set.classes = fb.names;
            return part;
        };
        const int ranks = comm.size(), me = comm.rank();
        std::size_t files_read = 0;
        const auto count_file = [&](std::size_t of) {
            if (o.on_file) o.on_file(++files_read, of);
        };
        if (ranks <= 1) {
            // files on all threads (oneTBB's limit), merged in file order: the set a single thread makes
            namespace tbb = oneapi::tbb;
            tbb::enumerable_thread_specific<maker_t> makers;
            std::size_t next = 0;
            tbb::parallel_pipeline(
                static_cast<std::size_t>(std::max(1, tbb::this_task_arena::max_concurrency())),
                tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                                    [&](tbb::flow_control& fc) -> std::size_t {
                                                        if (next == jobs.size()) fc.stop();
                                                        return next < jobs.size() ? next++ : 0;
                                                    }) &
                    tbb::make_filter<std::size_t, std::shared_ptr<detail::file_part>>(
                        tbb::filter_mode::parallel,
                        [&](std::size_t i) {
                            auto part = std::make_shared<detail::file_part>();
                            try {
                                *part = read_file(jobs[i], makers.local());
                            } catch (...) {
                                part->error = std::current_exception();
                            }
                            return part;
                        }) &
                    tbb::make_filter<std::shared_ptr<detail::file_part>, void>(
                        tbb::filter_mode::serial_in_order, [&](const std::shared_ptr<detail::file_part>& part) {
                            if (part->error) std::rethrow_exception(part->error);
                            detail::merge_part(sb, *part, rep);
                            count_file(jobs.size());
                        }));
            return;
        }
        std::vector<std::byte> mine;
        std::size_t my_files = 0;
        for (std::size_t i = 0; i < jobs.size(); ++i) my_files += dist::mine(i, me, ranks) ? 1 : 0;
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            if (!dist::mine(i, me, ranks)) continue;
            const auto bytes = detail::encode_part<Presets>(read_file(jobs[i], m));
            mine.insert(mine.end(), bytes.begin(), bytes.end());
            count_file(my_files);
        }
        std::vector<std::byte> all;
        std::vector<std::size_t> sizes;
        comm.gather(mine, all, sizes, 0);
        if (me != 0) return;
        std::vector<binary::reader> from;  // rank r's parts, in its file order
        std::size_t at = 0;
        const auto* base = reinterpret_cast<const std::uint8_t*>(all.data());
        for (std::size_t r = 0; r < sizes.size(); ++r) {
            from.emplace_back(std::span<const std::uint8_t>(base + at, sizes[r]), "rank " + std::to_string(r), "dataset part");
            at += sizes[r];
        }
        for (std::size_t i = 0; i < jobs.size(); ++i)
            detail::merge_part(sb, detail::decode_part<Presets>(from[i % static_cast<std::size_t>(ranks)]), rep);
    });
    if (comm.rank() != 0) return picture_set{};

    // the final label order: as given, or the classes met, sorted
    if (!o.classes.empty()) {
        set.classes = o.classes;
    } else {
        set.classes = o.labelled ? sb.names : all_dirs;
        std::sort(set.classes.begin(), set.classes.end());
    }
    if (set.classes.empty()) throw io_error(location{roots.empty() ? std::string("dataset") : roots.front()}, "no classes: no class directories and no labelled flow");
    std::vector<std::uint32_t> final_label(sb.names.size());
    for (std::size_t i = 0; i < sb.names.size(); ++i)
        final_label[i] = static_cast<std::uint32_t>(std::find(set.classes.begin(), set.classes.end(), sb.names[i]) - set.classes.begin());
    for (auto& c : set.captures) c.label = final_label[c.label];
    for (auto& s : set.samples) s.label = final_label[s.label];
    if (o.labelled) set.label_map = label_map_of(*o.labelled);
    apply_split(set, o.split);
    return set;
}

template <class Presets = presets::builtin>
picture_set build_dataset(const std::vector<std::string>& roots, const build_options& o, build_report* report = nullptr) {
    dist::single_process one;
    return build_dataset<Presets>(roots, o, report, one);
}

// Reads the tree at `root` (see above).
template <class Presets = presets::builtin>
picture_set build_dataset(const std::string& root, const build_options& o, build_report* report = nullptr) {
    return build_dataset<Presets>(std::vector<std::string>{root}, o, report);
}

}  // namespace flowpic::train
