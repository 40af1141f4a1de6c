// flowpic._flowpic's network-typed parts: model tensors (PyTorch layout), dataset files,
// training and evaluation, as the tool's export-weights/import-weights, dataset, train and eval do.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <type_traits>

#include <pybind11/functional.h>

#include "bindings.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/calibration.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/metrics.hpp"
#include "flowpic/train/set_dataset.hpp"
#include "flowpic/train/split.hpp"
#include "flowpic/train/trainer.hpp"

namespace flowpic::python {

namespace {

// Bytes of the model file a network view makes: save_model writes files (atomically, beside
// the target), so through a private temporary directory.
std::vector<std::uint8_t> model_bytes(const nn::network_view& v, const std::string& preset,
                                      const std::vector<std::string>& classes, const nn::model_fields& recipe) {
    std::string dir = (std::filesystem::temp_directory_path() / "flowpic-model-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr)
        throw io_error(location{dir}, std::string("mkdtemp: ") + std::strerror(errno));
    struct remover {
        std::string dir;
        ~remover() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    } r{dir};
    const std::string path = dir + "/model.fpm";
    nn::save_model(path, v, preset, classes, recipe);
    return binary::read_file(path);
}

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

}  // namespace

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
            const py::object item = tensors[py::str(name)];
            const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(item);
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

}  // namespace flowpic::python
