// flowpic._flowpic: the library for Python (pybind11), one translation unit. The package
// python/flowpic/__init__.py re-exports it with the bundled model and documents the API
// (docs/python.md). Inputs are paths or bytes (bytes go through an anonymous in-memory file, so
// every format visit_file reads works from memory); results are dicts of numpy columns whose
// buffers are the C++ vectors, moved, not copied. Long calls release the GIL.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <oneapi/tbb/global_control.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/flows/flow_csv.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/any_source.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/calibration.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/file_blocks.hpp"
#include "flowpic/train/metrics.hpp"
#include "flowpic/train/set_dataset.hpp"
#include "flowpic/train/split.hpp"
#include "flowpic/train/trainer.hpp"

namespace py = pybind11;

namespace flowpic::python {

namespace {

// A vector handed to numpy without a copy: the array owns it through a capsule.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
    auto* held = new std::vector<T>(std::move(v));
    py::capsule owner(held, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>(std::move(shape), held->data(), owner);
}
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v) {
    const auto n = static_cast<py::ssize_t>(v.size());
    return to_numpy(std::move(v), {n});
}

// numpy has no bool vector without bytes: bools travel as uint8 and are viewed as bool.
py::array to_numpy_bool(std::vector<std::uint8_t>&& v) { return to_numpy(std::move(v)).attr("view")("bool"); }

// What a call reads: a path, or bytes written to an anonymous in-memory file (memfd), read by
// the same code as a file through /proc/self/fd/N.
class input {
public:
    explicit input(const py::object& o) {
        if (py::isinstance<py::str>(o) || py::hasattr(o, "__fspath__")) {
            path_ = py::str(py::module_::import("os").attr("fspath")(o)).cast<std::string>();
            return;
        }
        if (!PyObject_CheckBuffer(o.ptr())) throw py::type_error("expected a path (str, os.PathLike) or bytes");
        const py::buffer_info b = py::reinterpret_borrow<py::buffer>(o).request();
        const auto* p = static_cast<const char*>(b.ptr);
        std::size_t left = static_cast<std::size_t>(b.size * b.itemsize);
        fd_ = ::memfd_create("flowpic-bytes", MFD_CLOEXEC);
        if (fd_ < 0) throw io_error(location{"<bytes>"}, std::string("memfd_create: ") + std::strerror(errno));
        while (left > 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw io_error(location{"<bytes>"}, std::string("write: ") + std::strerror(errno));
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~input() {
        if (fd_ >= 0) ::close(fd_);
    }
    input(const input&) = delete;
    input& operator=(const input&) = delete;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

// oneTBB held to `threads` while it lives (none for 0).
std::unique_ptr<oneapi::tbb::global_control> thread_limit(int threads) {
    if (threads <= 0) return nullptr;
    return std::make_unique<oneapi::tbb::global_control>(oneapi::tbb::global_control::max_allowed_parallelism,
                                                         static_cast<std::size_t>(threads));
}

std::string src_text(const flow_key& k) {  // as flows::key_csv prints it
    return (k.src.family == ip_family::none && k.session != 0) ? "session" + std::to_string(k.session) : k.src.str();
}

// The 5-tuple columns of rows.
struct key_columns {
    std::vector<std::string> src, dst;
    std::vector<std::uint16_t> sport, dport;
    std::vector<std::uint8_t> proto;

    void add(const flow_key& k) {
        src.push_back(src_text(k));
        dst.push_back(k.dst.str());
        sport.push_back(k.sport);
        dport.push_back(k.dport);
        proto.push_back(k.proto);
    }
    void put(py::dict& d) {
        d["src"] = py::cast(src);
        d["dst"] = py::cast(dst);
        d["sport"] = to_numpy(std::move(sport));
        d["dport"] = to_numpy(std::move(dport));
        d["proto"] = to_numpy(std::move(proto));
    }
};

// ---- flows and blocks ---------------------------------------------------------------------

struct flow_rows {
    std::vector<std::pair<std::uint64_t, flows::flow>> rows;
};

py::dict flows_of(const py::object& what, bool bidirectional, double idle_timeout, std::size_t max_flows,
                  std::size_t max_packets) {
    const input in(what);
    std::vector<flows::flow> rows;
    {
        py::gil_scoped_release nogil;
        const flows::limits lim{blocks::seconds(idle_timeout), max_flows, max_packets};
        source::visit_file(in.path(), [&](auto& src) {
            auto run = [&](auto key) {
                flows::flow_table<decltype(key)> table(lim);
                flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) { rows.push_back(f); }};
                table.consume(src, out);
            };
            if (bidirectional) run(flows::bidirectional{});
            else run(flows::unidirectional{});
        });
        // in order of the first packet, as `flowpic flows` prints them
        std::sort(rows.begin(), rows.end(), [](const flows::flow& a, const flows::flow& b) { return a.id < b.id; });
    }
    key_columns k;
    std::vector<std::uint64_t> packets, bytes;
    std::vector<std::int64_t> first, last;
    for (const auto& f : rows) {
        k.add(f.key);
        packets.push_back(f.packets);
        bytes.push_back(f.bytes);
        first.push_back(f.first_ns);
        last.push_back(f.last_ns);
    }
    py::dict d;
    k.put(d);
    d["packets"] = to_numpy(std::move(packets));
    d["bytes"] = to_numpy(std::move(bytes));
    d["first_ns"] = to_numpy(std::move(first));
    d["last_ns"] = to_numpy(std::move(last));
    return d;
}

blocks::window_spec window_of(double block, double stride, std::uint32_t min_packets, double min_span, bool inclusive_end,
                              bool first_only, const std::string& ends) {
    if (!(block > 0)) throw py::value_error("block must be positive");
    if (ends != "complete" && ends != "authors" && ends != "any")
        throw py::value_error("ends must be 'complete', 'authors' or 'any'");
    blocks::window_spec w;
    w.length_ns = blocks::seconds(block);
    w.stride_ns = blocks::seconds(stride);
    w.min_packets = min_packets;
    w.min_span_ns = blocks::seconds(min_span);
    w.inclusive_end = inclusive_end;
    w.first_only = first_only;
    w.ends = ends == "any" ? blocks::end_rule::any : ends == "authors" ? blocks::end_rule::authors : blocks::end_rule::complete;
    return w;
}

struct block_columns {
    key_columns key;
    std::vector<std::int64_t> start, end, first, last;
    std::vector<std::uint64_t> index, packets;

    void add(const blocks::block& b, bool keyed) {
        key.add(keyed && b.owner ? b.owner->key : flow_key{});
        start.push_back(b.window_start_ns);
        end.push_back(b.window_end_ns);
        index.push_back(b.index);
        packets.push_back(b.packets.size());
        first.push_back(b.packets.empty() ? 0 : b.packets.front().time_ns);
        last.push_back(b.packets.empty() ? 0 : b.packets.back().time_ns);
    }
    void put(py::dict& d) {
        key.put(d);
        d["block_start_ns"] = to_numpy(std::move(start));
        d["block_end_ns"] = to_numpy(std::move(end));
        d["index"] = to_numpy(std::move(index));
        d["packets"] = to_numpy(std::move(packets));
        d["first_ns"] = to_numpy(std::move(first));
        d["last_ns"] = to_numpy(std::move(last));
    }
};

py::dict blocks_of(const py::object& what, double block, double stride, std::uint32_t min_packets, double min_span,
                   bool inclusive_end, bool first_only, const std::string& ends, bool bidirectional, double idle_timeout,
                   std::size_t max_flows, std::size_t max_packets) {
    const input in(what);
    const auto w = window_of(block, stride, min_packets, min_span, inclusive_end, first_only, ends);
    block_columns c;
    {
        py::gil_scoped_release nogil;
        const flows::limits lim{blocks::seconds(idle_timeout), max_flows, max_packets};
        source::visit_file(in.path(), [&](auto& src) {
            auto run = [&](auto key) {
                blocks::windowed_table<decltype(key)> table(lim, w);
                flows::callback_sink out{[&](const blocks::block& b) { c.add(b, true); }, flows::ignore{}};
                table.consume(src, out);
            };
            if (bidirectional) run(flows::bidirectional{});
            else run(flows::unidirectional{});
        });
    }
    py::dict d;
    c.put(d);
    return d;
}

// ---- pictures -----------------------------------------------------------------------------

// Every block of a file under a preset (its windows and grouping, as `flowpic render`), as one
// dense stack (N, C, H, W) or as coordinates: sample, row, col and value per non-zero cell.
py::dict pictures_of(const py::object& what, const std::string& preset, bool sparse, bool bidirectional) {
    const input in(what);
    py::dict d;
    if (!presets::contains<presets::builtin>(preset)) throw py::value_error("unknown preset '" + preset + "': " + presets::names_list());
    presets::visit(preset, [&](auto p) {
        using P = decltype(p);
        using H = typename P::picture;
        using T = typename picture::maker<H>::value_type;
        block_columns index;
        std::vector<std::string> capture;
        std::vector<std::int8_t> vpn;
        std::vector<T> dense, values;
        std::vector<std::uint32_t> sample, row, col;
        std::vector<T> background;
        std::size_t count = 0;
        {
            py::gil_scoped_release nogil;
            picture::maker<H> maker;
            picture::sparse_picture<T> sp;
            train::file_block_options fo;
            fo.bidirectional = bidirectional;
            train::for_each_block<P>(
                in.path(),
                [&](const blocks::block& b, const train::block_origin& origin) {
                    index.add(b, origin.keyed);
                    capture.emplace_back(origin.capture);
                    vpn.push_back(static_cast<std::int8_t>(origin.vpn));
                    if (sparse) {
                        maker.sparse(b, sp);
                        if (background.empty()) background = sp.background;
                        for (std::size_t i = 0; i < sp.nnz(); ++i) {
                            sample.push_back(static_cast<std::uint32_t>(count));
                            row.push_back(sp.cells[i] / static_cast<std::uint32_t>(H::width));
                            col.push_back(sp.cells[i] % static_cast<std::uint32_t>(H::width));
                        }
                        values.insert(values.end(), sp.values.begin(), sp.values.end());
                    } else {
                        const auto& pic = maker.dense(b);
                        dense.insert(dense.end(), pic.data.begin(), pic.data.end());
                    }
                    ++count;
                },
                fo);
        }
        const auto n = static_cast<py::ssize_t>(count);
        constexpr auto channels = static_cast<py::ssize_t>(H::channel_count);
        py::dict idx;
        index.put(idx);
        idx["capture"] = py::cast(capture);
        idx["vpn"] = to_numpy(std::move(vpn));
        d["index"] = idx;
        d["preset"] = std::string(P::name);
        d["shape"] = py::make_tuple(n, channels, static_cast<py::ssize_t>(H::height), static_cast<py::ssize_t>(H::width));
        if (sparse) {
            const auto nnz = static_cast<py::ssize_t>(sample.size());
            d["sample"] = to_numpy(std::move(sample));
            d["row"] = to_numpy(std::move(row));
            d["col"] = to_numpy(std::move(col));
            d["value"] = channels == 1 ? to_numpy(std::move(values)) : to_numpy(std::move(values), {nnz, channels});
            if (background.empty())
                for (std::size_t c = 0; c < H::channel_count; ++c)
                    background.push_back(H::channels_type::template background<T>(c));
            d["background"] = py::cast(background);
        } else {
            d["pictures"] = to_numpy(std::move(dense), {n, channels, static_cast<py::ssize_t>(H::height),
                                                        static_cast<py::ssize_t>(H::width)});
        }
    });
    return d;
}

// ---- models -------------------------------------------------------------------------------

struct py_model {
    presets::model m;
};

py_model model_from(const py::object& what, const std::string& name) {
    if (py::isinstance<py::str>(what) || py::hasattr(what, "__fspath__")) {
        const std::string path = py::str(py::module_::import("os").attr("fspath")(what)).cast<std::string>();
        return {presets::read_model(binary::read_file(path), name.empty() ? path : name)};
    }
    if (!PyObject_CheckBuffer(what.ptr())) throw py::type_error("expected a path (str, os.PathLike) or bytes");
    const py::buffer_info b = py::reinterpret_borrow<py::buffer>(what).request();
    const auto* p = static_cast<const std::uint8_t*>(b.ptr);
    return {presets::read_model(std::vector<std::uint8_t>(p, p + b.size * b.itemsize), name.empty() ? "<bytes>" : name)};
}

// The model's tensors in PyTorch layout, named as `flowpic export-weights` names its files
// ("0.weight", "0.bias", ...: nn/weights_npy.hpp).
py::dict tensors_of(const py_model& pm) {
    py::dict d;
    presets::visit_model(pm.m, [&](auto, auto& net) {
        const nn::network_view v = nn::view_of(net);
        for (const auto& t : v.tensors) {
            std::vector<float> values(v.params.begin() + static_cast<std::ptrdiff_t>(t.offset),
                                      v.params.begin() + static_cast<std::ptrdiff_t>(t.offset + t.info.size()));
            std::vector<py::ssize_t> shape(t.info.dims.begin(), t.info.dims.end());
            d[py::str(std::to_string(t.group) + "." + t.info.role)] = to_numpy(std::move(values), std::move(shape));
        }
    });
    return d;
}

// Bytes of the model file a network view makes (save_model writes files: an in-memory one here).
std::vector<std::uint8_t> model_bytes(const nn::network_view& v, const std::string& preset,
                                      const std::vector<std::string>& classes, const nn::model_fields& recipe) {
    const int fd = ::memfd_create("flowpic-model", MFD_CLOEXEC);
    if (fd < 0) throw io_error(location{"<model>"}, std::string("memfd_create: ") + std::strerror(errno));
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } c{fd};
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    nn::save_model(path, v, preset, classes, recipe);
    return binary::read_file(path);
}

// A model file from PyTorch-layout tensors (as `flowpic import-weights`): the preset's network
// for len(classes) outputs, the preset's windows and grouping as its recipe.
py_model model_from_tensors(const std::string& preset, const py::dict& tensors, const std::vector<std::string>& classes) {
    if (!presets::contains<presets::builtin>(preset)) throw py::value_error("unknown preset '" + preset + "': " + presets::names_list());
    std::vector<std::uint8_t> bytes;
    presets::visit_network(preset, classes.size(), [&](auto p, auto& net) {
        using P = decltype(p);
        const nn::network_view v = nn::view_of(net);
        for (const auto& t : v.tensors) {
            const std::string name = std::to_string(t.group) + "." + t.info.role;
            if (!tensors.contains(name)) throw py::key_error("missing tensor '" + name + "': the network needs it");
            const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(tensors[py::str(name)]);
            if (!a) throw py::type_error("tensor '" + name + "' is not an array of numbers");
            std::vector<std::size_t> dims(a.shape(), a.shape() + a.ndim());
            if (dims != t.info.dims) {
                std::string want, got;
                for (auto x : t.info.dims) want += std::to_string(x) + " ";
                for (auto x : dims) got += std::to_string(x) + " ";
                throw py::value_error("tensor '" + name + "' has shape (" + got + ") where the network needs (" + want +
                                      "), PyTorch layout");
            }
            std::copy(a.data(), a.data() + a.size(), v.params.begin() + static_cast<std::ptrdiff_t>(t.offset));
        }
        presets::recipe rec;
        rec.window = P::window;
        rec.flows = presets::grouping_of<typename P::flow_key>();
        bytes = model_bytes(v, preset, classes, presets::to_fields(rec));
    });
    return {presets::read_model(std::move(bytes), "<tensors>")};
}

// ---- classify -----------------------------------------------------------------------------

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

template <class Decision>
void classify_with(const presets::model& m, const std::string& path, const std::vector<std::string>& classes,
                   std::size_t batch, std::optional<float> min_score, bool all_windows, std::optional<std::uint32_t> min_packets,
                   const flows::limits& lim, classify_rows& out) {
    const auto adjust = [&](auto& po) {
        if (batch > 0) po.batch = batch;
        po.limits = lim;
        if (all_windows) po.window = presets::every_window(*po.window);
        if (min_packets) po.window->min_packets = *min_packets;
        // as the tool's --min-score: X for every class, 0 none; otherwise the recipe's thresholds
        if (min_score) po.min_score = *min_score > 0 ? std::vector<float>(m.info.classes.size(), *min_score) : std::vector<float>{};
    };
    presets::visit_classifier<source::any_source, backend::tbb, Decision>(
        m,
        [&](auto& pipe) {
            source::visit_file(path, [&](auto& src) {
                source::any_source any(src);
                pipe.run(any, [&](const classification& r) {
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
        },
        adjust);
}

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
        if (decision == "block")
            classify_with<decision::per_block>(m, in.path(), classes, batch, min_score, all_windows, min_packets, lim, r);
        else if (decision == "majority")
            classify_with<decision::majority_vote>(m, in.path(), classes, batch, min_score, all_windows, min_packets, lim, r);
        else
            classify_with<decision::mean_probability>(m, in.path(), classes, batch, min_score, all_windows, min_packets, lim, r);
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

// ---- dataset, train, eval -----------------------------------------------------------------

train::build_options build_options_of(const std::string& preset, const std::vector<std::string>& where, bool all_windows,
                                      std::optional<std::uint32_t> min_packets,
                                      std::optional<blocks::window_spec> trained = std::nullopt) {
    train::build_options b;
    b.preset = preset;
    for (const auto& w : where) {
        try {
            b.where.push_back(train::parse_where(w));
        } catch (const std::invalid_argument& e) {
            throw py::value_error(e.what());
        }
    }
    if (trained || all_windows || min_packets) {
        blocks::window_spec w = trained ? *trained : train::geometry_of(preset).window;
        if (all_windows) w = presets::every_window(w);
        if (min_packets) w.min_packets = *min_packets;
        b.window = w;
    }
    return b;
}

// Samples per class and split (classes x 3: train, validation, test) and what was skipped.
py::dict summary_of(const train::picture_set& set, const train::build_report* report) {
    std::vector<std::int64_t> counts(set.classes.size() * 3, 0);
    for (const auto& s : set.samples) ++counts[s.label * 3 + static_cast<std::size_t>(s.part)];
    py::dict d;
    d["preset"] = set.preset;
    d["classes"] = py::cast(set.classes);
    d["samples"] = set.samples.size();
    d["captures"] = set.captures.size();
    d["seed"] = set.seed;
    d["counts"] = to_numpy(std::move(counts), {static_cast<py::ssize_t>(set.classes.size()), 3});
    if (report) d["skipped"] = py::cast(report->skipped);
    return d;
}

py::dict build_dataset(const std::vector<std::string>& data, const std::string& out, const std::string& preset,
                       const std::string& split, std::uint64_t seed, const std::vector<std::string>& where, bool all_windows,
                       std::optional<std::uint32_t> min_packets) {
    if (!presets::contains<presets::builtin>(preset)) throw py::value_error("unknown preset '" + preset + "': " + presets::names_list());
    if (data.empty()) throw py::value_error("give at least one class-per-directory tree");
    train::build_options b = build_options_of(preset, where, all_windows, min_packets);
    try {
        b.split.fractions = train::parse_fractions(split);
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
    b.split.seed = seed;
    train::build_report report;
    train::picture_set set;
    {
        py::gil_scoped_release nogil;
        set = train::build_dataset(data, b, &report);
        if (set.samples.empty()) throw format_error(location{data.front()}, "no blocks: the dataset would be empty");
        train::write_dataset(out, set);
    }
    return summary_of(set, &report);
}

struct train_args {
    std::string data, out, preset, augment, class_weights;
    std::uint64_t seed = 1;
    std::size_t epochs = 50, batch = 0, patience = 5;
    double lr = 1e-3, min_delta = 0, unknown_quantile = train::default_unknown_quantile;
};

py::dict epoch_dict(const train::epoch_report& e) {
    py::dict d;
    d["epoch"] = e.epoch;
    d["train_loss"] = e.train_loss;
    d["val_loss"] = e.val_loss;
    d["val_accuracy"] = e.val_accuracy;
    d["improved"] = e.improved;
    return d;
}

// What `flowpic train` does (tools/flowpic/cmd_train.cpp), so that a seed gives the tool's model
// file byte for byte; on_epoch(dict) is called after every epoch (with the GIL).
template <class Preset, class Net>
void train_net(Net& net, const train::picture_set& set, const train_args& o, train::fit_result& result,
               const std::function<void(const train::epoch_report&)>& on_epoch) {
    using loss_type = std::conditional_t<Net::head == nn::layer_kind::sigmoid, nn::binary_crossentropy,
                                         nn::categorical_crossentropy>;
    const loss_type loss{};
    if (Net::input_shape.size() != set.pictures.channels() * set.pictures.height() * set.pictures.width())
        throw format_error(location{o.data}, "the pictures do not fit network " + set.preset);
    net.init(Preset::init, o.seed);
    train::set_dataset train_set(set, set.indices(train::split::train));
    const train::set_dataset val_set(set, set.indices(train::split::validation));
    train_set.augment(train::parse_augmentations(o.augment));
    train::fit_options f;
    f.epochs = o.epochs;
    f.batch = o.batch ? o.batch : Preset::default_batch;
    f.seed = o.seed;
    f.patience = o.patience;
    f.min_delta = o.min_delta;
    if (o.class_weights == "balanced") f.class_weights = train::balanced_class_weights(set.class_counts(train::split::train));
    nn::adam opt(nn::adam::options{o.lr});
    result = train::fit(net, train_set, val_set.size() ? &val_set : nullptr, loss, opt, f, on_epoch);
    presets::recipe rec;
    rec.window = set.window;
    rec.flows = presets::grouping_of<typename Preset::flow_key>();
    rec.label_map = set.label_map;
    if (val_set.size() && o.unknown_quantile > 0) {
        const auto probs = train::predict_all(net, val_set, 64);
        std::vector<std::int32_t> labels(val_set.size());
        for (std::size_t i = 0; i < val_set.size(); ++i) labels[i] = val_set.label(i);
        rec.min_score = train::calibrate_min_score(probs, labels, Net::output_shape.size(), o.unknown_quantile);
        if (rec.min_score.size() != set.classes.size()) rec.min_score.clear();  // one class name, one sigmoid
    }
    nn::save_model(o.out, net, set.preset, set.classes, presets::to_fields(rec));
}

py::dict train_model(const train_args& o, int threads, const py::object& on_epoch) {
    if (o.class_weights != "none" && o.class_weights != "balanced")
        throw py::value_error("class_weights must be 'none' or 'balanced'");
    if (o.epochs == 0) throw py::value_error("epochs must be positive");
    try {
        train::parse_augmentations(o.augment);
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
    train::fit_result result;
    std::vector<train::epoch_report> seen;
    {
        py::gil_scoped_release nogil;
        const auto limit = thread_limit(threads);
        const std::function<void(const train::epoch_report&)> report = [&](const train::epoch_report& e) {
            seen.push_back(e);
            if (on_epoch.is_none()) return;
            py::gil_scoped_acquire gil;
            on_epoch(epoch_dict(e));
        };
        train::dataset_read_options ro;
        ro.preset = o.preset;
        const train::picture_set set = train::read_dataset(o.data, ro);
        if (set.indices(train::split::train).empty())
            throw format_error(location{o.data}, "the dataset has no training samples");
        presets::visit(set.preset, [&](auto p) {
            using P = decltype(p);
            const std::size_t k = set.classes.size();
            std::string problem = presets::class_count_problem<P>(k);
            if (problem.empty() && k < 2) problem = "a classifier needs at least 2 classes";
            if (!problem.empty())
                throw format_error(location{o.data}, "the dataset has " + std::to_string(k) + " classes; " + problem);
            presets::visit_network<P>(k, [&](auto& net) { train_net<P>(net, set, o, result, report); });
        });
    }
    py::dict d;
    py::list history;
    for (const auto& e : result.history) history.append(epoch_dict(e));
    d["history"] = history;
    d["best_epoch"] = result.best_epoch;
    d["best_val_loss"] = result.best_val_loss;
    d["stopped_early"] = result.stopped_early;
    d["model"] = o.out;
    return d;
}

// `flowpic eval` as a dict (its --json keys, with the confusion matrix, predictions and labels
// as arrays): a dataset file's split (test by default) or every block of a class-per-directory tree.
py::dict evaluate(const py_model& pm, const std::string& data, const std::string& split_arg, std::optional<float> min_score,
                  std::size_t batch, bool all_windows, std::optional<std::uint32_t> min_packets, int threads) {
    const presets::model& model = pm.m;
    const nn::model_info& info = model.info;
    const bool tree = std::filesystem::is_directory(data);
    const std::string split_name = split_arg.empty() ? (tree ? "all" : "test") : split_arg;
    if (split_name != "all" && !train::parse_split(split_name))
        throw py::value_error("split must be 'all', 'train', 'validation' or 'test'");
    if (tree && split_name != "all") throw py::value_error("a directory is evaluated whole; split applies to dataset files");
    if (!tree && (all_windows || min_packets)) throw py::value_error("all_windows/min_packets apply to a directory");
    if (batch == 0) throw py::value_error("batch must be positive");
    std::vector<float> probs;
    std::vector<std::int32_t> labels;
    train::classification_report r;
    std::optional<train::unknown_effect> unknown;
    std::vector<float> thresholds = model.recipe.min_score;
    if (min_score) thresholds = *min_score > 0 ? std::vector<float>(info.classes.size(), *min_score) : std::vector<float>{};
    std::size_t outputs = 0;
    {
        py::gil_scoped_release nogil;
        const auto limit = thread_limit(threads);
        train::picture_set set;
        if (tree) {
            try {
                set = train::build_dataset(data, build_options_of(info.preset, {}, all_windows, min_packets, model.recipe.window));
            } catch (const std::invalid_argument& e) {
                throw format_error(location{model.name}, e.what());
            }
        } else {
            train::dataset_read_options ro;
            ro.preset = info.preset;
            set = train::read_dataset(data, ro);
        }
        std::vector<std::int32_t> map;  // dataset classes -> model classes, by name
        for (const auto& c : set.classes) {
            const auto it = std::find(info.classes.begin(), info.classes.end(), c);
            if (it == info.classes.end())
                throw format_error(location{data}, "class '" + c + "' is not a class of model " + model.name);
            map.push_back(static_cast<std::int32_t>(it - info.classes.begin()));
        }
        std::optional<train::split> part;
        if (split_name != "all") part = train::parse_split(split_name);
        const train::set_dataset ds(set, set.indices(part), map);
        if (ds.size() == 0)
            throw format_error(location{data}, "no samples to evaluate" + (tree ? std::string() : " in split " + split_name));
        presets::visit_model(model, [&](auto, auto& net) { probs = train::predict_all(net, ds, batch); });
        labels.resize(ds.size());
        for (std::size_t i = 0; i < ds.size(); ++i) labels[i] = ds.label(i);
        outputs = probs.size() / ds.size();
        r = train::classification_metrics(probs, labels, outputs);
        if (!thresholds.empty()) unknown = train::effect_of(probs, labels, outputs, thresholds);
    }
    py::dict d;
    d["model"] = model.name;
    d["data"] = data;
    d["preset"] = info.preset;
    d["split"] = split_name;
    d["samples"] = r.samples;
    d["accuracy"] = r.accuracy;
    d["top2"] = r.top2;
    d["macro_f1"] = r.macro_f1;
    if (unknown) {
        d["min_score"] = py::cast(thresholds);
        d["unknown"] = unknown->unknown;
        d["accuracy_known"] = unknown->kept_accuracy();
    }
    d["classes"] = py::cast(info.classes);
    py::dict per_class;
    for (std::size_t c = 0; c < r.classes; ++c) {
        std::size_t support = 0;
        for (std::size_t k = 0; k < r.classes; ++k) support += r.at(c, k);
        py::dict e;
        e["precision"] = r.precision[c];
        e["recall"] = r.recall[c];
        e["f1"] = r.f1[c];
        e["support"] = support;
        per_class[py::str(info.classes.at(c))] = e;
    }
    d["per_class"] = per_class;
    const auto k = static_cast<py::ssize_t>(r.classes);
    std::vector<std::int64_t> confusion(r.confusion.begin(), r.confusion.end());
    d["confusion"] = to_numpy(std::move(confusion), {k, k});
    const auto n = static_cast<py::ssize_t>(labels.size());
    d["predictions"] = to_numpy(std::move(probs), {n, static_cast<py::ssize_t>(outputs)});
    d["labels"] = to_numpy(std::move(labels));
    return d;
}

}  // namespace

}  // namespace flowpic::python

PYBIND11_MODULE(_flowpic, m) {
    using namespace flowpic::python;
    namespace fp = flowpic;
    m.doc() = "flowpic: FlowPic traffic classification (the C++ library's Python module; see docs/python.md)";

    // the library's errors keep their messages (file and byte offset)
    static py::exception<fp::error> error_type(m, "Error", PyExc_RuntimeError);
    static py::exception<fp::format_error> format_error_type(m, "FormatError", error_type.ptr());
    static py::exception<fp::io_error> io_error_type(m, "IOError", error_type.ptr());
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const fp::format_error& e) {
            format_error_type(e.what());
        } catch (const fp::io_error& e) {
            io_error_type(e.what());
        } catch (const fp::error& e) {
            error_type(e.what());
        }
    });

    m.def("presets", [] { return fp::presets::names(); }, "The picture presets' names.");

    m.def("flows", &flows_of, py::arg("source"), py::kw_only(), py::arg("bidirectional") = false,
          py::arg("idle_timeout") = 0.0, py::arg("max_flows") = 0, py::arg("max_packets") = 0,
          "The flows of a capture (path or bytes) as columns, in order of their first packet "
          "(`flowpic flows`): src, dst, sport, dport, proto, packets, bytes, first_ns, last_ns.");

    m.def("blocks", &blocks_of, py::arg("source"), py::kw_only(), py::arg("block") = 60.0, py::arg("stride") = 0.0,
          py::arg("min_packets") = 1, py::arg("min_span") = 0.0, py::arg("inclusive_end") = false,
          py::arg("first_only") = false, py::arg("ends") = "complete", py::arg("bidirectional") = false,
          py::arg("idle_timeout") = 0.0, py::arg("max_flows") = 0, py::arg("max_packets") = 0,
          "The blocks of a capture as columns, as windows complete (`flowpic blocks`): src, dst, sport, dport, "
          "proto, block_start_ns, block_end_ns, index, packets, first_ns, last_ns.");

    m.def("pictures", &pictures_of, py::arg("source"), py::arg("preset") = "mini_flowpic", py::kw_only(),
          py::arg("sparse") = false, py::arg("bidirectional") = false,
          "The FlowPic of every block under a preset (`flowpic render`): dict with 'index' (columns), 'shape' "
          "(N, C, H, W), and 'pictures' (N, C, H, W) or, sparse, 'sample', 'row', 'col', 'value', 'background'.");

    py::class_<py_model>(m, "Model", "A model file (.fpm): preset, classes, recipe and weights.")
        .def(py::init([](const py::object& what, const std::string& name) { return model_from(what, name); }),
             py::arg("source"), py::arg("name") = "", "Reads a model file from a path or bytes.")
        .def_property_readonly("name", [](const py_model& p) { return p.m.name; })
        .def_property_readonly("preset", [](const py_model& p) { return p.m.info.preset; })
        .def_property_readonly("signature", [](const py_model& p) { return p.m.info.signature; })
        .def_property_readonly("classes", [](const py_model& p) { return p.m.info.classes; })
        .def_property_readonly("version", [](const py_model& p) { return p.m.info.version; })
        .def_property_readonly("recipe", [](const py_model& p) {
            py::dict d;  // a later entry wins, as model_info::field says
            for (const auto& f : p.m.info.recipe) d[py::str(f.key)] = f.value;
            return d;
        })
        .def("to_bytes", [](const py_model& p) {
            return py::bytes(reinterpret_cast<const char*>(p.m.bytes.data()), p.m.bytes.size());
        })
        .def("save", [](const py_model& p, const py::object& path) {
            fp::binary::write_file(py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>(), p.m.bytes);
        }, py::arg("path"))
        .def("tensors", &tensors_of,
             "The weights in PyTorch layout as {'<i>.weight': array, '<i>.bias': array}, i counting the layers with "
             "parameters (`flowpic export-weights`).")
        .def_static("from_tensors", &model_from_tensors, py::arg("preset"), py::arg("tensors"), py::arg("classes"),
                    "A model of the preset's network from PyTorch-layout tensors (`flowpic import-weights`).")
        .def("__repr__", [](const py_model& p) {
            return "<flowpic.Model " + p.m.info.preset + ", " + std::to_string(p.m.info.classes.size()) + " classes>";
        });

    m.def("classify", &classify, py::arg("source"), py::arg("model"), py::kw_only(), py::arg("decision") = "block",
          py::arg("batch") = 0, py::arg("min_score") = py::none(), py::arg("all_windows") = false,
          py::arg("min_packets") = py::none(), py::arg("idle_timeout") = 0.0, py::arg("max_flows") = 0,
          py::arg("max_packets") = 0, py::arg("threads") = 0,
          "Classifies a capture's blocks (or flows) with a model applied as trained (`flowpic classify`).");

    m.def("build_dataset", &build_dataset, py::arg("data"), py::arg("out"), py::kw_only(),
          py::arg("preset") = "mini_flowpic", py::arg("split") = "0.7,0.15,0.15", py::arg("seed") = 1,
          py::arg("where") = std::vector<std::string>{}, py::arg("all_windows") = false,
          py::arg("min_packets") = py::none(),
          "A dataset file of class-per-directory trees (`flowpic dataset --data`); returns its summary.");

    m.def("train",
          [](const std::string& data, const std::string& out, const std::string& preset, std::uint64_t seed,
             const std::string& augment, std::size_t epochs, std::size_t batch, double lr, std::size_t patience,
             double min_delta, const std::string& class_weights, double unknown_quantile, int threads,
             const py::object& on_epoch) {
              train_args a;
              a.data = data;
              a.out = out;
              a.preset = preset;
              a.seed = seed;
              a.augment = augment;
              a.epochs = epochs;
              a.batch = batch;
              a.lr = lr;
              a.patience = patience;
              a.min_delta = min_delta;
              a.class_weights = class_weights;
              a.unknown_quantile = unknown_quantile;
              return train_model(a, threads, on_epoch);
          },
          py::arg("data"), py::arg("out"), py::kw_only(), py::arg("preset") = "", py::arg("seed") = 1,
          py::arg("augment") = "", py::arg("epochs") = 50, py::arg("batch") = 0, py::arg("lr") = 1e-3,
          py::arg("patience") = 5, py::arg("min_delta") = 0.0, py::arg("class_weights") = "none",
          py::arg("unknown_quantile") = fp::train::default_unknown_quantile, py::arg("threads") = 0,
          py::arg("on_epoch") = py::none(),
          "Trains the preset's network on a dataset file and writes the model file (`flowpic train`).");

    m.def("evaluate", &evaluate, py::arg("model"), py::arg("data"), py::kw_only(), py::arg("split") = "",
          py::arg("min_score") = py::none(), py::arg("batch") = 64, py::arg("all_windows") = false,
          py::arg("min_packets") = py::none(), py::arg("threads") = 0,
          "A model on a dataset file's split or a class-per-directory tree (`flowpic eval --json`).");
}
