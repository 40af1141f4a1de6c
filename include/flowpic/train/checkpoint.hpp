#pragma once
// Checkpoint files: a training run's state after an epoch (train::checkpoint, train/trainer.hpp),
// so that `flowpic train --resume` ends with the model the uninterrupted run makes, bit for bit.
// Layout (little-endian, docs/formats.md): "FLOWPICK", u16 version 1, the run's identity (u32
// length + text; the caller compares it), the counters, the history, the parameters, the best
// snapshot and the optimiser state as float64, and an FNV-1a checksum of everything before it.
// Written atomically (core/atomic_file.hpp), so a run killed while writing leaves the last one.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/train/trainer.hpp"

namespace flowpic::train {

inline constexpr char checkpoint_magic[8] = {'F', 'L', 'O', 'W', 'P', 'I', 'C', 'K'};
inline constexpr std::uint16_t checkpoint_format_version = 1;

inline std::vector<std::uint8_t> encode_checkpoint(const checkpoint& c, const std::string& run) {
    binary::writer w("checkpoint file");
    w.bytes(checkpoint_magic, 8);
    w.num(checkpoint_format_version);
    w.str<std::uint32_t>(run);
    w.num(static_cast<std::uint64_t>(c.epochs_done));
    w.num(c.step);
    w.num(static_cast<std::uint64_t>(c.since_best));
    w.num(static_cast<std::uint64_t>(c.result.best_epoch));
    w.num(c.result.best_val_loss);
    w.num(static_cast<std::uint8_t>(c.result.stopped_early));
    w.num(static_cast<std::uint32_t>(c.result.history.size()));
    for (const auto& e : c.result.history) {
        w.num(static_cast<std::uint64_t>(e.epoch));
        w.num(e.train_loss);
        w.num(e.val_loss);
        w.num(e.val_accuracy);
        w.num(static_cast<std::uint8_t>(e.improved));
    }
    for (const auto* v : {&c.params, &c.best, &c.m, &c.v}) {
        w.num(static_cast<std::uint64_t>(v->size()));
        for (double x : *v) w.num(x);
    }
    w.num(c.t);
    w.checksum();
    return w.release();
}

inline void write_checkpoint(const std::string& path, const checkpoint& c, const std::string& run) {
    binary::write_file(path, encode_checkpoint(c, run));
}

// The checkpoint in `path`; `run` receives the identity it was written with.
inline checkpoint read_checkpoint(const std::string& path, std::string& run) {
    const auto bytes = binary::read_file(path);
    binary::reader r(bytes, path, "checkpoint file");
    r.need(18, "header");
    if (std::memcmp(bytes.data(), checkpoint_magic, 8) != 0) r.fail(0, "not a flowpic checkpoint file (bad magic)");
    if (binary::fnv1a(bytes.data(), bytes.size() - 8) != [&] {
            std::uint64_t v = 0;
            for (int i = 7; i >= 0; --i) v = (v << 8) | bytes[bytes.size() - 8 + static_cast<std::size_t>(i)];
            return v;
        }())
        r.fail(bytes.size() - 8, "checksum mismatch: the checkpoint file is corrupt");
    r.limit(bytes.size() - 8);
    r.skip(8, "magic");
    const auto version = r.num<std::uint16_t>("version");
    if (version != checkpoint_format_version)
        r.fail(8, "checkpoint format version " + std::to_string(version) + ", this flowpic reads version 1");
    run = r.str<std::uint32_t>("run");
    checkpoint c;
    c.epochs_done = static_cast<std::size_t>(r.num<std::uint64_t>("epochs"));
    c.step = r.num<std::uint64_t>("step");
    c.since_best = static_cast<std::size_t>(r.num<std::uint64_t>("since best"));
    c.result.best_epoch = static_cast<std::size_t>(r.num<std::uint64_t>("best epoch"));
    c.result.best_val_loss = r.num<double>("best loss");
    c.result.stopped_early = r.num<std::uint8_t>("stopped") != 0;
    const auto epochs = r.num<std::uint32_t>("history");
    if (epochs > r.left() / 33) r.fail("history of " + std::to_string(epochs) + " epochs exceeds the file");
    for (std::uint32_t i = 0; i < epochs; ++i) {
        epoch_report e;
        e.epoch = static_cast<std::size_t>(r.num<std::uint64_t>("epoch"));
        e.train_loss = r.num<double>("loss");
        e.val_loss = r.num<double>("loss");
        e.val_accuracy = r.num<double>("accuracy");
        e.improved = r.num<std::uint8_t>("improved") != 0;
        c.result.history.push_back(e);
    }
    for (auto* v : {&c.params, &c.best, &c.m, &c.v}) {
        const auto n = r.num<std::uint64_t>("count");
        if (n > r.left() / 8) r.fail("an array of " + std::to_string(n) + " values exceeds the file");
        v->resize(static_cast<std::size_t>(n));
        for (double& x : *v) x = r.num<double>("value");
    }
    c.t = r.num<std::uint64_t>("optimiser step");
    if (r.left() != 0) r.fail("unexpected bytes after the optimiser state");
    return c;
}

}  // namespace flowpic::train
