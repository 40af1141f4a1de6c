// flowpic._flowpic: the library for Python (pybind11): the bindings, flows, blocks and pictures
// here; classify, and the parts typed by the networks, in bind_classify.cpp and bind_train.cpp
// (one compile of all of them needs more than 6 GB). The package
// python/flowpic/__init__.py re-exports it with the bundled model and documents the API
// (docs/python.md). Inputs are paths or bytes (bytes go through an anonymous in-memory file, so
// every format visit_file reads works from memory); results are dicts of numpy columns whose
// buffers are the C++ vectors, moved, not copied. Long calls release the GIL.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/train/calibration.hpp"
#include "flowpic/train/file_blocks.hpp"

namespace flowpic::python {

namespace {

// ---- flows and blocks ---------------------------------------------------------------------
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
