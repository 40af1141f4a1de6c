// flowpic train --data FILE [--preset NAME] --out MODEL [--seed N] [--augment LIST] [--epochs N]
//               [--batch N] [--lr X] [--patience N] [--min-delta X] [--class-weights balanced|none]
//               [--threads N] [--quiet]:
// trains the preset's network on a dataset file's train split with Adam, early stopping on the
// validation split's loss (keeping the best weights), writes the model file with the class names
// and the recipe (the dataset's windows, the grouping, the label map, per-class score thresholds
// calibrated on the validation split: train/calibration.hpp; --unknown-quantile), and prints the
// test split's report and what the thresholds make unknown there. Deterministic for a seed, whatever the thread count.
// Progress on stderr: a bar redrawn in place on a terminal, one line per epoch otherwise.
// --checkpoint FILE keeps the run's state after every epoch; --resume continues from it to the
// model the uninterrupted run makes. Under an MPI launcher the ranks train data-parallel
// (train/data_parallel.hpp: the same model as one process, bit for bit); rank 0 writes the model,
// the checkpoints and the report (docs/distributed.md).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include "commands.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/train/calibration.hpp"
#include "flowpic/train/checkpoint.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/metrics.hpp"
#include "flowpic/train/set_dataset.hpp"
#include "flowpic/train/trainer.hpp"
#include "distributed.hpp"
#include "options.hpp"

namespace flowpic::tool {

namespace {

struct train_options {
    std::string data, preset, out, augment, class_weights = "none", checkpoint;
    std::uint64_t seed = 1;
    std::size_t epochs = 50, batch = 0, patience = 5;
    double lr = 1e-3, min_delta = 0, unknown_quantile = train::default_unknown_quantile;
    int threads = 0;
    bool quiet = false, resume = false;
};

// What a checkpoint must have been written by: the same data, network and batch order.
std::string run_identity(const train::picture_set& set, const train_options& o, std::size_t batch) {
    const auto num = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        return std::string(buf);
    };
    std::string id = "preset=" + set.preset + " samples=" + std::to_string(set.size()) + " seed=" + std::to_string(o.seed) +
                     " batch=" + std::to_string(batch) + " lr=" + num(o.lr) + " augment=" + o.augment +
                     " weights=" + o.class_weights + " patience=" + std::to_string(o.patience) +
                     " min_delta=" + num(o.min_delta) + " classes=";
    for (const auto& c : set.classes) id += c + ",";
    return id;
}

// For the tests of docs/distributed.md: FLOWPIC_TEST_KILL=RANK:EPOCH makes that rank die (SIGKILL)
// after the first step of that epoch (0-based), when every rank has passed the checkpoint before it.
bool killed_here(std::size_t epoch, std::size_t b) {
    const char* v = std::getenv("FLOWPIC_TEST_KILL");
    if (!v || b != 0) return false;
    int rank = -1;
    unsigned long e = 0;
    if (std::sscanf(v, "%d:%lu", &rank, &e) != 2) return false;
    return rank == communicator().rank() && e == epoch;
}

std::string clock_text(double seconds) {
    const auto s = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
    return buf;
}

// Epoch, loss, validation loss and accuracy, and the time left (if every epoch runs: early
// stopping may end sooner).
class progress {
public:
    progress(std::size_t epochs, bool quiet) : epochs_(epochs), quiet_(quiet), tty_(::isatty(::fileno(stderr)) == 1) {}

    void batch(std::size_t epoch, std::size_t b, std::size_t batches, double loss) {
        if (b == 0) {
            epoch_start_ = clock::now();
            loss_sum_ = 0;
        }
        loss_sum_ += loss;
        if (quiet_ || !tty_) return;
        const auto now = clock::now();
        if (b + 1 < batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        const double in_epoch = seconds(now - epoch_start_);
        const double per_epoch = done_ ? total_ / static_cast<double>(done_) : in_epoch * double(batches) / double(b + 1);
        const double left = std::max(0.0, per_epoch - in_epoch) + per_epoch * double(epochs_ - epoch - 1);
        constexpr std::size_t width = 24;
        const std::size_t fill = (b + 1) * width / batches;
        std::string bar(fill, '#');
        bar.resize(width, '.');
        std::fprintf(stderr, "\repoch %zu/%zu [%s] %zu/%zu loss %.4f%s | %s left   ", epoch + 1, epochs_, bar.c_str(),
                     b + 1, batches, loss_sum_ / double(b + 1), last_val_.c_str(), clock_text(left).c_str());
        std::fflush(stderr);
    }

    void epoch(const train::epoch_report& r) {
        const double took = seconds(clock::now() - epoch_start_);
        total_ += took;
        ++done_;
        char val[96] = "";
        if (r.val_loss == r.val_loss)
            std::snprintf(val, sizeof val, " | val loss %.4f acc %.4f%s", r.val_loss, r.val_accuracy, r.improved ? " *" : "");
        last_val_ = val;
        if (quiet_) return;
        const double left = total_ / double(done_) * double(epochs_ - r.epoch - 1);
        std::fprintf(stderr, "%sepoch %zu/%zu: loss %.4f%s | %.1f s, at most %s left\n", tty_ ? "\r\033[K" : "",
                     r.epoch + 1, epochs_, r.train_loss, val, took, clock_text(left).c_str());
        std::fflush(stderr);
    }

private:
    using clock = std::chrono::steady_clock;
    static double seconds(clock::duration d) { return std::chrono::duration<double>(d).count(); }
    std::size_t epochs_;
    bool quiet_, tty_;
    clock::time_point epoch_start_ = clock::now(), last_draw_{};
    double loss_sum_ = 0, total_ = 0;
    std::size_t done_ = 0;
    std::string last_val_;
};

std::string scores_text(const std::vector<float>& v) {
    std::string s;
    for (float x : v) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.3f", double(x));
        if (!s.empty()) s += ' ';
        s += buf;
    }
    return s;
}

// The test split under the calibrated thresholds: what becomes unknown, the accuracy of the rest.
template <class Net>
void print_unknown_effect(Net& net, const train::set_dataset& test_set, const std::vector<float>& min_score) {
    const auto probs = train::predict_all(net, test_set, 64);
    std::vector<std::int32_t> labels(test_set.size());
    for (std::size_t i = 0; i < test_set.size(); ++i) labels[i] = test_set.label(i);
    const auto e = train::effect_of(probs, labels, Net::output_shape.size(), min_score);
    std::printf("min score per class %s: %zu of %zu test samples unknown, accuracy %.4f on the other %zu\n",
                scores_text(min_score).c_str(), e.unknown, e.samples, e.kept_accuracy(), e.samples - e.unknown);
}

template <class Preset, class Net>
void train_net(Net& net, const train::picture_set& set, const train_options& o) {
    using loss_type = std::conditional_t<Net::head == nn::layer_kind::sigmoid, nn::binary_crossentropy,
                                         nn::categorical_crossentropy>;
    const loss_type loss{};
    if (Net::input_shape.size() != set.pictures.channels() * set.pictures.height() * set.pictures.width())
        throw format_error(location{o.data}, "the pictures do not fit network " + set.preset);
    net.init(Preset::init, o.seed);

    train::set_dataset train_set(set, set.indices(train::split::train));
    const train::set_dataset val_set(set, set.indices(train::split::validation));
    const train::set_dataset test_set(set, set.indices(train::split::test));
    train_set.augment(train::parse_augmentations(o.augment));

    train::fit_options f;
    f.epochs = o.epochs;
    f.batch = o.batch ? o.batch : Preset::default_batch;
    f.seed = o.seed;
    f.patience = o.patience;
    f.min_delta = o.min_delta;
    if (o.class_weights == "balanced") f.class_weights = train::balanced_class_weights(set.class_counts(train::split::train));
    auto& comm = communicator();
    const bool lead = comm.rank() == 0;
    const bool quiet = o.quiet || !lead;
    progress bar(o.epochs, quiet);
    f.on_batch = [&](std::size_t e, std::size_t b, std::size_t n, double l) {
        if (killed_here(e, b)) ::raise(SIGKILL);
        bar.batch(e, b, n, l);
    };
    const std::string run = run_identity(set, o, f.batch);
    train::checkpoint resume_from;
    if (o.resume) {
        std::string was;
        resume_from = train::read_checkpoint(o.checkpoint, was);
        if (was != run)
            throw format_error(location{o.checkpoint}, "the checkpoint is of another run (" + was + "), not of this one (" + run + ")");
        f.resume = &resume_from;
        if (!quiet)
            std::fprintf(stderr, "flowpic: resuming from %s after epoch %zu\n", o.checkpoint.c_str(), resume_from.epochs_done);
    }
    if (!o.checkpoint.empty() && lead)
        f.on_checkpoint = [&](const train::checkpoint& c) { train::write_checkpoint(o.checkpoint, c, run); };
    if (!quiet) {
        if (comm.size() > 1)
            std::fprintf(stderr, "flowpic: data-parallel on %d ranks (%s)\n", comm.size(), comm.name());
        std::fprintf(stderr, "flowpic: training %s (%zu parameters, %zu classes) on %zu samples, validating on %zu; "
                             "batch %zu, Adam lr %g, seed %llu%s%s\n",
                     set.preset.c_str(), Net::param_count, set.classes.size(), train_set.size(), val_set.size(), f.batch,
                     o.lr, static_cast<unsigned long long>(o.seed), o.augment.empty() ? "" : ", augment ",
                     o.augment.c_str());
        if (val_set.size() == 0) std::fprintf(stderr, "flowpic: warning: no validation samples: no early stopping\n");
    }
    nn::adam opt(nn::adam::options{o.lr});
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = train::fit(net, train_set, val_set.size() ? &val_set : nullptr, loss, opt, f,
                              [&](const train::epoch_report& e) { bar.epoch(e); }, backend::default_backend{}, comm);
    if (!lead) return;  // every rank holds the same model; rank 0 writes it and reports
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // the recipe: how the model is applied as trained, with thresholds from the validation split
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
    if (!o.quiet) {
        if (val_set.size())
            std::fprintf(stderr, "flowpic: %s after %zu epochs (%.1f s); best validation loss %.4f at epoch %zu -> %s\n",
                         r.stopped_early ? "stopped early" : "done", r.history.size(), took, r.best_val_loss,
                         r.best_epoch + 1, o.out.c_str());
        else
            std::fprintf(stderr, "flowpic: done after %zu epochs (%.1f s) -> %s\n", r.history.size(), took, o.out.c_str());
    }
    if (test_set.size() == 0) {
        std::printf("no test samples in %s\n", o.data.c_str());
        return;
    }
    const auto [test_loss, report] = train::evaluate(net, test_set, loss, 64);
    std::printf("test split of %s (loss %.4f)\n%s", o.data.c_str(), test_loss, train::format_report(report, set.classes).c_str());
    if (!rec.min_score.empty()) print_unknown_effect(net, test_set, rec.min_score);
}

// Before training, not after: --out must be writable and must not be the dataset itself.
void check_out(const std::string& out, const std::string& data) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::equivalent(out, data, ec))
        throw CLI::ValidationError("--out", out + " is the --data file: the model would replace the dataset");
    if (fs::is_directory(out, ec)) throw io_error(location{out}, "is a directory, not a model file to write");
    const fs::path parent = fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path();
    if (!fs::is_directory(parent, ec))
        throw io_error(location{out}, "cannot write the model: no directory " + parent.string());
    // the file is written next to itself and renamed, or replaced: the directory must take writes
    if (::access(parent.c_str(), W_OK | X_OK) != 0)
        throw io_error(location{out}, "cannot write the model: directory " + parent.string() + ": " + std::strerror(errno));
    if (fs::exists(out, ec) && ::access(out.c_str(), W_OK) != 0)
        throw io_error(location{out}, std::string("cannot write the model: ") + std::strerror(errno));
}

void add_train_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("train", "Train the preset's network on a dataset file; write a model file");
    auto o = std::make_shared<train_options>();
    cmd->add_option("--data", o->data, "dataset file (flowpic dataset)")->required()->check(CLI::ExistingFile);
    cmd->add_option("--preset", o->preset, "the dataset's preset (checked; default: the dataset's)");
    cmd->add_option("--out", o->out, "model file to write")->required();
    add_seed_option(*cmd, o->seed, "seed of the initial weights, the batch order, dropout and augmentations");
    cmd->add_option("--augment", o->augment, "augmentations on the training packets, made anew every epoch: any of "
                                             "change_rtt,time_shift,packet_loss");
    cmd->add_option("--epochs", o->epochs, "at most this many epochs")->check(CLI::PositiveNumber)->capture_default_str();
    add_batch_option(*cmd, o->batch, "batch size (default: the preset's, 128 for shapira2019, 32 otherwise)");
    cmd->add_option("--lr", o->lr, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--patience", o->patience, "stop after this many epochs without a lower validation loss (0: never)")
        ->capture_default_str();
    cmd->add_option("--min-delta", o->min_delta, "a lower validation loss must be lower by more than this")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--class-weights", o->class_weights, "none, or balanced: each class weighted n / (classes x n_class)")
        ->check(CLI::IsMember({"none", "balanced"}))
        ->capture_default_str();
    cmd->add_option("--unknown-quantile", o->unknown_quantile,
                    "per class, the score threshold for unknown is the one this fraction of the class's correctly "
                    "classified validation samples fall below (0: no thresholds)")
        ->check(CLI::Range(0.0, 0.5))
        ->capture_default_str();
    add_threads_option(*cmd, o->threads);
    cmd->add_flag("--quiet", o->quiet, "no progress on stderr");
    auto* ck = cmd->add_option("--checkpoint", o->checkpoint, "after every epoch, write the run's state to this file");
    cmd->add_flag("--resume", o->resume, "continue from the --checkpoint file (same data and options) to the model "
                                        "the uninterrupted run makes")
        ->needs(ck);
    cmd->callback([o] {
        const auto limit = thread_limit(o->threads);
        if (o->resume && !std::filesystem::exists(o->checkpoint))
            throw CLI::ValidationError("--resume", "no checkpoint " + o->checkpoint);
        try {
            train::parse_augmentations(o->augment);
        } catch (const std::invalid_argument& e) {
            throw CLI::ValidationError("--augment", e.what());
        }
        check_out(o->out, o->data);
        train::dataset_read_options ro;
        ro.preset = o->preset;
        const train::picture_set set = train::read_dataset(o->data, ro);
        if (set.indices(train::split::train).empty())
            throw format_error(location{o->data}, "the dataset has no training samples");
        presets::visit(set.preset, [&](auto p) {
            using P = decltype(p);
            const std::size_t k = set.classes.size();
            // a classifier needs two classes, also where one sigmoid output stands for them
            std::string problem = presets::class_count_problem<P>(k);
            if (problem.empty() && k < 2) problem = "a classifier needs at least 2 classes";
            if (!problem.empty())
                throw format_error(location{o->data}, "the dataset has " + std::to_string(k) + " classes; " + problem);
            presets::visit_network<P>(k, [&](auto& net) { train_net<P>(net, set, *o); });
        });
    });
}

const registrar reg_train{"train", 72, &add_train_command};

}  // namespace

}  // namespace flowpic::tool
