#pragma once
// Mini-batch training with the Keras/tcbench recipe: seeded shuffling each epoch, class weights,
// an optimiser step per batch, validation after each epoch, early stopping on validation loss
// with patience (keeping the best weights). The next batch is written while the current one
// computes. Deterministic for a seed: the order, the dropout masks (counter-based, see
// nn/dropout.hpp) and the sums (fixed chunks) do not depend on timing or thread count.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <type_traits>
#include <utility>
#include <span>
#include <vector>

#include <oneapi/tbb/task_group.h>

#include "flowpic/backend/backend.hpp"
#include "flowpic/dist/communicator.hpp"
#include "flowpic/nn/cuda_network.hpp"
#include "flowpic/nn/executor/sparse.hpp"
#include "flowpic/nn/loss.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/random.hpp"
#include "flowpic/train/data_parallel.hpp"
#include "flowpic/train/dataset.hpp"
#include "flowpic/train/metrics.hpp"

namespace flowpic::train {

struct checkpoint;

struct fit_options {
    std::size_t epochs = 50;
    std::size_t batch = 32;
    std::uint64_t seed = 0;
    std::size_t patience = 5;           // epochs without improvement before stopping; 0: never stop
    double min_delta = 0.0;             // an improvement must lower the validation loss by more
    bool restore_best = true;           // end with the weights of the best validation loss
    std::vector<double> class_weights;  // empty: every class 1
    // called after every optimiser step with (epoch, batch, batches, the batch's loss); may be empty
    std::function<void(std::size_t, std::size_t, std::size_t, double)> on_batch;
    // called after every epoch with the state to continue from (train/checkpoint.hpp writes it);
    // may be empty. Every rank calls it; one rank writes.
    std::function<void(const checkpoint&)> on_checkpoint;
    // when set: continue from this state (its epochs are done) instead of starting; the run then
    // ends as the uninterrupted one would have, bit for bit
    const checkpoint* resume = nullptr;
};

struct epoch_report {
    std::size_t epoch = 0;
    double train_loss = 0;       // mean over the epoch's batches, as Keras reports it
    double val_loss = std::numeric_limits<double>::quiet_NaN();
    double val_accuracy = std::numeric_limits<double>::quiet_NaN();
    bool improved = false;
};

struct fit_result {
    std::vector<epoch_report> history;
    std::size_t best_epoch = 0;
    double best_val_loss = std::numeric_limits<double>::infinity();
    bool stopped_early = false;
};

// Where a run stands after an epoch: enough to finish it as if it had not stopped.
struct checkpoint {
    std::size_t epochs_done = 0;
    std::uint64_t step = 0;            // optimiser steps so far (dropout's counter)
    std::size_t since_best = 0;
    fit_result result;                 // the epochs so far
    std::vector<double> params, best;  // the network's parameters now, and the best-weights snapshot
    std::vector<double> m, v;          // the optimiser's state (nn::adam: moments; nn::sgd: v momentum)
    std::uint64_t t = 0;               // nn::adam's step count
};

// The seed of sample i's picture in an epoch (augmentations draw from it).
[[nodiscard]] inline std::uint64_t draw_seed(std::uint64_t seed, std::size_t epoch, std::size_t i) {
    return nn::mix64(nn::mix64(seed ^ 0xa11ce) + epoch * nn::golden_gamma + i);
}

// Seeded Fisher-Yates with flowpic's own generator: the same order on every platform.
inline std::vector<std::size_t> epoch_order(std::size_t n, std::uint64_t seed, std::size_t epoch) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    nn::rng r(nn::mix64(seed + 0x5bd1e995 * (epoch + 1)));
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(r.below(i))]);
    return order;
}

namespace detail {

// A batch as dense floats (x) or, when sparse, as the samples' cells (sx).
struct batch_buffer {
    std::vector<float> x;
    nn::sparse_batch sx;
    bool sparse = false;
    std::vector<std::int32_t> labels;
    std::size_t n = 0;
};

// Whether batches of `data` for Net on backend K go sparse: large pictures, a network whose
// first convolution the sparse kernels run, a backend that has them, a dataset that can.
template <class Net, backend::backend_tag K, dataset D>
bool sparse_batches(const D& data) {
    if constexpr (nn::sparse_backend(K{})) {
        if constexpr (nn::prefers_sparse_input<Net> && sparse_samples<D>) return data.sparse_ready();
    }
    return false;
}

template <dataset D>
void fill_batch(const D& data, std::span<const std::size_t> idx, std::uint64_t seed, std::size_t epoch,
                batch_buffer& b, bool sparse = false) {
    const std::size_t sz = data.sample_size();
    b.n = idx.size();
    b.sparse = sparse;
    b.labels.resize(b.n);
    if constexpr (sparse_samples<D>) {
        if (sparse) {
            b.sx.clear();
            for (std::size_t k = 0; k < b.n; ++k) {
                data.fill_sparse(idx[k], b.sx, draw_seed(seed, epoch, idx[k]));
                b.labels[k] = data.label(idx[k]);
            }
            return;
        }
    }
    if (b.x.size() < b.n * sz) b.x.resize(b.n * sz);
    for (std::size_t k = 0; k < b.n; ++k) {
        data.fill(idx[k], b.x.data() + k * sz, draw_seed(seed, epoch, idx[k]));
        b.labels[k] = data.label(idx[k]);
    }
}

// Every label, but only the pictures this process computes on (needs(k, n)).
template <dataset D, class Needs>
void fill_batch(const D& data, std::span<const std::size_t> idx, std::uint64_t seed, std::size_t epoch,
                batch_buffer& b, const Needs& needs) {
    const std::size_t sz = data.sample_size();
    b.n = idx.size();
    if (b.x.size() < b.n * sz) b.x.resize(b.n * sz);
    b.labels.resize(b.n);
    for (std::size_t k = 0; k < b.n; ++k) {
        if (needs(k, b.n)) data.fill(idx[k], b.x.data() + k * sz, draw_seed(seed, epoch, idx[k]));
        b.labels[k] = data.label(idx[k]);
    }
}

}  // namespace detail

// Probabilities (the network's outputs) for every sample of a dataset, in order; `done(n, total)`
// after each batch, when given (progress).
template <class Net, dataset D, backend::backend_tag K = backend::default_backend>
std::vector<float> predict_all(Net& net, const D& data, std::size_t batch = 64, K tag = {},
                               const std::function<void(std::size_t, std::size_t)>& done = {}) {
    constexpr std::size_t out = Net::output_shape.size();
    std::vector<float> probs(data.size() * out);
    std::vector<std::size_t> idx(data.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    detail::batch_buffer b;
    const bool sparse = detail::sparse_batches<Net, K>(data);
    for (std::size_t s = 0; s < data.size(); s += batch) {
        const std::size_t m = std::min(batch, data.size() - s);
        detail::fill_batch(data, std::span<const std::size_t>(idx).subspan(s, m), 0, 0, b, sparse);
        bool sparse_done = false;
        if constexpr (requires { net.predict(b.sx, probs.data(), tag); }) {  // a network that takes sparse batches
            if (b.sparse) {
                net.predict(b.sx, probs.data() + s * out, tag);
                sparse_done = true;
            }
        }
        if (!sparse_done) net.predict(b.x.data(), m, probs.data() + s * out, tag);
        if (done) done(s + m, data.size());
    }
    return probs;
}

// Mean loss over a dataset (dropout off, weighted as in training), and the metrics of its
// predictions.
template <class Net, dataset D, nn::loss_function Loss, backend::backend_tag K = backend::default_backend>
std::pair<double, classification_report> evaluate(Net& net, const D& data, const Loss& loss, std::size_t batch = 64,
                                                  std::span<const double> class_weights = {}, K tag = {}) {
    constexpr std::size_t out = Net::output_shape.size();
    std::vector<float> probs(data.size() * out);
    std::vector<std::int32_t> labels(data.size());
    for (std::size_t i = 0; i < data.size(); ++i) labels[i] = data.label(i);
    std::vector<std::size_t> idx(data.size());
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    detail::batch_buffer b;
    const bool sparse = detail::sparse_batches<Net, K>(data);
    double total = 0, norm = 0;
    for (std::size_t s = 0; s < data.size(); s += batch) {
        const std::size_t m = std::min(batch, data.size() - s);
        detail::fill_batch(data, std::span<const std::size_t>(idx).subspan(s, m), 0, 0, b, sparse);
        const nn::targets t{std::span<const std::int32_t>(labels).subspan(s, m), class_weights};
        const double w = Loss::normalizer(t, m);
        double l = 0;
        if constexpr (requires { net.loss(b.sx, t, loss, probs.data(), nn::run_context{}, tag); }) {
            l = b.sparse ? net.loss(b.sx, t, loss, probs.data() + s * out, nn::run_context{}, tag)
                         : net.loss(b.x.data(), m, t, loss, probs.data() + s * out, nn::run_context{}, tag);
        } else {
            l = net.loss(b.x.data(), m, t, loss, probs.data() + s * out, nn::run_context{}, tag);
        }
        total += w * l;
        norm += w;
    }
    return {norm > 0 ? total / norm : 0.0, classification_metrics(probs, labels, out)};
}

namespace detail {

// Where the steps of fit() run. On the CPU backends the network computes its gradient and the
// optimiser object steps its parameters. On backend::cuda a device twin keeps parameters,
// gradients and the optimiser's moments on the GPU for the whole run (the optimiser object only
// lends its settings); parameters come back for the best-weights snapshot and at the end.
template <class Net, class Optimizer, class K>
struct host_session {
    Net& net;
    Optimizer& opt;
    K tag;

    template <class Loss>
    double step(const batch_buffer& b, const nn::targets& t, const Loss& loss, const nn::run_context& ctx) {
        const double l = b.sparse ? net.gradient(b.sx, t, loss, ctx, tag) : net.gradient(b.x.data(), b.n, t, loss, ctx, tag);
        opt.step(net.params(), std::span<const typename Net::value_type>(net.grads()));
        return l;
    }
    Net& evaluator() { return net; }
    void snapshot(std::vector<typename Net::value_type>& best) {
        const auto p = std::as_const(net).params();
        best.assign(p.begin(), p.end());
    }
    void finish(const std::vector<typename Net::value_type>* best) {
        if (best) std::copy(best->begin(), best->end(), net.params().begin());
    }
};

template <class Net, class Optimizer>
struct device_session {
    static_assert(std::is_same_v<Optimizer, nn::adam> || std::is_same_v<Optimizer, nn::sgd>,
                  "train::fit with backend::cuda steps nn::adam or nn::sgd on the device");
    Net& net;
    Optimizer& opt;
    nn::cuda_network<Net> dev;

    device_session(Net& n, Optimizer& o) : net(n), opt(o), dev(n) {}

    template <class Loss>
    double step(const batch_buffer& b, const nn::targets& t, const Loss& loss, const nn::run_context& ctx) {
        const double l = dev.gradient(b.x.data(), b.n, t, loss, ctx);
        dev.step(opt.settings());
        return l;
    }
    nn::cuda_network<Net>& evaluator() { return dev; }
    void snapshot(std::vector<float>& best) { best = dev.params_host(); }
    void finish(const std::vector<float>* best) {
        if (best) std::copy(best->begin(), best->end(), net.params().begin());
        else dev.download(net);
    }
};

// The parameters and optimiser state into a checkpoint and back (CPU sessions; optimisers with
// state() and restore(), as nn::adam and nn::sgd).
template <class Session>
void save_state(Session& s, checkpoint& c) {
    if constexpr (requires { s.opt.state(); }) {
        const auto p = std::as_const(s.net).params();
        c.params.assign(p.begin(), p.end());
        auto st = s.opt.state();
        c.m = std::move(st.m);
        c.v = std::move(st.v);
        c.t = st.t;
    } else {
        throw std::invalid_argument("fit: checkpoints need an optimiser with state() and restore()");
    }
}
template <class Session>
void load_state(Session& s, const checkpoint& c) {
    using value_type = typename std::remove_cvref_t<decltype(s.net)>::value_type;
    if constexpr (requires { s.opt.state(); }) {
        auto p = s.net.params();
        if (c.params.size() != p.size()) throw std::invalid_argument("fit: the checkpoint is of another network");
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<value_type>(c.params[i]);
        typename std::remove_cvref_t<decltype(s.opt)>::state_type st;
        st.m = c.m;
        st.v = c.v;
        st.t = static_cast<std::size_t>(c.t);
        s.opt.restore(std::move(st));
    } else {
        throw std::invalid_argument("fit: checkpoints need an optimiser with state() and restore()");
    }
}
template <class Net, class Optimizer>
void save_state(device_session<Net, Optimizer>&, checkpoint&) {
    throw std::invalid_argument("fit: checkpoints need a CPU backend (the optimiser state is on the GPU)");
}
template <class Net, class Optimizer>
void load_state(device_session<Net, Optimizer>&, const checkpoint&) {
    throw std::invalid_argument("fit: checkpoints need a CPU backend (the optimiser state is on the GPU)");
}

// The session of backend K, chosen by overload on the tag.
template <class K, class Net, class Optimizer>
host_session<Net, Optimizer, K> make_session(Net& net, Optimizer& opt, backend::requires_backend<backend::scalar>) {
    return {net, opt, K{}};
}
template <class K, class Net, class Optimizer>
device_session<Net, Optimizer> make_session(Net& net, Optimizer& opt, backend::requires_backend<backend::cuda>) {
    return device_session<Net, Optimizer>(net, opt);
}

template <class Session, dataset D, dataset V, nn::loss_function Loss, class K>
fit_result fit_loop(Session& session, const D& train, const V* val, const Loss& loss, const fit_options& o,
                    const std::function<void(const epoch_report&)>& on_epoch, K tag) {
    using value_type = typename std::remove_cvref_t<decltype(session.net)>::value_type;
    fit_result result;
    std::vector<value_type> best;
    session.snapshot(best);
    std::size_t since_best = 0, first_epoch = 0;
    std::uint64_t step = 0;
    if (o.resume) {
        const checkpoint& c = *o.resume;
        if (c.best.size() != best.size()) throw std::invalid_argument("fit: the checkpoint is of another network");
        load_state(session, c);
        result = c.result;
        since_best = c.since_best;
        step = c.step;
        first_epoch = result.stopped_early ? o.epochs : c.epochs_done;
        best.assign(c.best.begin(), c.best.end());
    }
    const auto needs = [&](std::size_t k, std::size_t n) {
        if constexpr (requires { session.needs(k, n); }) return session.needs(k, n);
        else return true;
    };
    batch_buffer buf[2];
    // sparse batches where one process takes them, whole on every rank; a data-parallel session
    // fills only its share of a dense batch
    constexpr bool shared = requires { session.needs(std::size_t{0}, std::size_t{0}); };
    const bool sparse = sparse_batches<std::remove_cvref_t<decltype(session.net)>, K>(train);
    const auto fill = [&](std::span<const std::size_t> idx, std::size_t e, batch_buffer& into) {
        if constexpr (shared) {
            if (!sparse) return fill_batch(train, idx, o.seed, e, into, needs);
        }
        fill_batch(train, idx, o.seed, e, into, sparse);
    };
    oneapi::tbb::task_group prep;
    for (std::size_t epoch = first_epoch; epoch < o.epochs; ++epoch) {
        const auto order = epoch_order(train.size(), o.seed, epoch);
        const std::size_t batches = (train.size() + o.batch - 1) / o.batch;
        auto slice = [&](std::size_t b) {
            const std::size_t s = b * o.batch;
            return std::span<const std::size_t>(order).subspan(s, std::min(o.batch, order.size() - s));
        };
        double sum = 0;
        if (batches) fill(slice(0), epoch, buf[0]);
        for (std::size_t b = 0; b < batches; ++b) {
            auto& cur = buf[b % 2];
            if (b + 1 < batches) prep.run([&, b] { fill(slice(b + 1), epoch, buf[(b + 1) % 2]); });
            const nn::run_context ctx{true, o.seed, step++, 0, 0};
            double l = 0;
            try {
                l = session.step(cur, nn::targets{cur.labels, o.class_weights}, loss, ctx);
            } catch (...) {
                prep.wait();  // the next batch is being written: let it finish before unwinding
                throw;
            }
            sum += l;
            prep.wait();
            if (o.on_batch) o.on_batch(epoch, b, batches, l);
        }
        epoch_report rep;
        rep.epoch = epoch;
        rep.train_loss = batches ? sum / static_cast<double>(batches) : 0.0;
        if (val && val->size()) {
            const auto [vl, metrics] =
                evaluate(session.evaluator(), *val, loss, std::max<std::size_t>(o.batch, 64), o.class_weights, tag);
            rep.val_loss = vl;
            rep.val_accuracy = metrics.accuracy;
            if (vl < result.best_val_loss - o.min_delta) {
                rep.improved = true;
                result.best_val_loss = vl;
                result.best_epoch = epoch;
                since_best = 0;
                session.snapshot(best);
            } else {
                ++since_best;
            }
        }
        result.history.push_back(rep);
        if (on_epoch) on_epoch(rep);
        const bool stop = val && o.patience && since_best >= o.patience;
        if (stop) result.stopped_early = true;
        if (o.on_checkpoint) {
            checkpoint c;
            c.epochs_done = epoch + 1;
            c.step = step;
            c.since_best = since_best;
            c.result = result;
            save_state(session, c);
            c.best.assign(best.begin(), best.end());
            o.on_checkpoint(c);
        }
        if (stop) break;
    }
    const bool restore = val && o.restore_best && !result.history.empty() && std::isfinite(result.best_val_loss);
    session.finish(restore ? &best : nullptr);
    return result;
}

}  // namespace detail

// Trains net on `train`, validating on `val` (may be null: no early stopping) after each epoch.
// `on_epoch` (may be empty) sees every epoch's report. With backend::cuda the whole run stays on
// the GPU (see detail::device_session); the same seed gives the same batches and dropout masks.
// With no tag it runs on backend::default_backend.
template <class Net, dataset D, dataset V, nn::loss_function Loss, class Optimizer,
          backend::backend_tag K = backend::default_backend>
fit_result fit(Net& net, const D& train, const V* val, const Loss& loss, Optimizer& opt, const fit_options& o,
               const std::function<void(const epoch_report&)>& on_epoch = {}, K tag = {}) {
    if (train.sample_size() != Net::input_shape.size())
        throw std::invalid_argument("fit: the dataset's samples do not have the network's input size");
    if (o.batch == 0) throw std::invalid_argument("fit: the batch size must be positive");
    auto session = detail::make_session<K>(net, opt, tag);
    return detail::fit_loop(session, train, val, loss, o, on_epoch, tag);
}

// The same on the ranks of a communicator (dist/communicator.hpp), synchronous and data-parallel
// (train/data_parallel.hpp): every rank calls it with the same network, data and options, each
// computes its share of every batch's gradient, and all end with the model one process makes,
// bit for bit. One rank is fit() itself. Validation runs on every rank.
template <class Net, dataset D, dataset V, nn::loss_function Loss, class Optimizer, backend::backend_tag K,
          dist::communicator C>
fit_result fit(Net& net, const D& train, const V* val, const Loss& loss, Optimizer& opt, const fit_options& o,
               const std::function<void(const epoch_report&)>& on_epoch, K tag, C& comm) {
    if (comm.size() <= 1) return fit(net, train, val, loss, opt, o, on_epoch, tag);
    if (train.sample_size() != Net::input_shape.size())
        throw std::invalid_argument("fit: the dataset's samples do not have the network's input size");
    if (o.batch == 0) throw std::invalid_argument("fit: the batch size must be positive");
    if constexpr (std::is_base_of_v<backend::cuda, K>) {
        throw std::invalid_argument("fit: data-parallel training runs on the CPU backends");
    } else {
        detail::data_parallel_session<Net, Optimizer, K, C> session{net, opt, tag, comm, {}, {}, {}};
        return detail::fit_loop(session, train, val, loss, o, on_epoch, tag);
    }
}

}  // namespace flowpic::train
