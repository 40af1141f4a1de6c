// Distribution (dist/, train/data_parallel.hpp, train/checkpoint.hpp) without MPI: ranks as
// threads of this process behind a communicator of their own, so that CI checks on every build
// that N ranks give one process's results bit for bit: the gradient's groups summed in order, a
// data-parallel fit, a sharded dataset, and a run resumed from a checkpoint (tests/mpi runs the
// tool under mpirun for the same properties).
#include <doctest/doctest.h>

#include <algorithm>
#include <barrier>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "flowpic/dist/any_communicator.hpp"
#include "flowpic/dist/collectives.hpp"
#include "flowpic/dist/mpi.hpp"
#include "flowpic/dist/single_process.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/random.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/checkpoint.hpp"
#include "flowpic/train/dataset.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/trainer.hpp"
#include "shared_data.hpp"

using namespace flowpic;

namespace {

// N ranks as N threads: each collective is a write to the rank's slot between two barriers.
struct thread_world {
    explicit thread_world(int n) : size(n), sync(n), slots(static_cast<std::size_t>(n)) {}
    int size;
    std::barrier<> sync;
    std::vector<std::vector<std::byte>> slots;
};

class thread_rank {
public:
    static constexpr const char* name = "threads";
    thread_rank(thread_world& w, int r) : w_(&w), rank_(r) {}
    [[nodiscard]] int rank() const noexcept { return rank_; }
    [[nodiscard]] int size() const noexcept { return w_->size; }
    void all_gather(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes) {
        exchange(mine, all, sizes, true);
    }
    void gather(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes, int root) {
        exchange(mine, all, sizes, rank_ == root);
        if (rank_ != root) {
            all.clear();
            sizes.clear();
        }
    }
    void broadcast(std::vector<std::byte>& data, int root) {
        if (rank_ == root) w_->slots[static_cast<std::size_t>(root)] = data;
        w_->sync.arrive_and_wait();
        data = w_->slots[static_cast<std::size_t>(root)];
        w_->sync.arrive_and_wait();
    }
    void barrier() { w_->sync.arrive_and_wait(); }

private:
    thread_world* w_;
    int rank_;
    void exchange(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes, bool read) {
        w_->slots[static_cast<std::size_t>(rank_)].assign(mine.begin(), mine.end());
        w_->sync.arrive_and_wait();
        all.clear();
        sizes.clear();
        if (read)
            for (const auto& s : w_->slots) {
                all.insert(all.end(), s.begin(), s.end());
                sizes.push_back(s.size());
            }
        w_->sync.arrive_and_wait();
    }
};
static_assert(dist::communicator<thread_rank>);

// f(comm) on n ranks at once; the results in rank order.
template <class F>
auto on_ranks(int n, F f) {
    thread_world w(n);
    std::vector<decltype(f(std::declval<thread_rank&>()))> out(static_cast<std::size_t>(n));
    std::vector<std::thread> threads;
    for (int r = 0; r < n; ++r)
        threads.emplace_back([&, r] {
            thread_rank c(w, r);
            out[static_cast<std::size_t>(r)] = f(c);
        });
    for (auto& t : threads) t.join();
    return out;
}

train::dense_dataset noise_set(std::size_t n, std::uint64_t seed) {
    nn::rng r(seed);
    std::vector<float> x(n * 32 * 32);
    std::vector<std::int32_t> y(n);
    for (std::size_t i = 0; i < n; ++i) {
        y[i] = static_cast<std::int32_t>(i % 3);
        for (std::size_t k = 0; k < 24; ++k) x[i * 1024 + r.below(1024)] += 0.25f * float(1 + y[i]);
    }
    return train::dense_dataset(32 * 32, std::move(x), std::move(y));
}

bool same(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

using net_t = nn::networks::mini_flowpic<3>;

// Fits Net on one process and on 2 and 3 ranks: every rank ends with one process's parameters
// and last training loss, bit for bit.
template <class Net, class D>
void fits_as_one_process(const D& data, const D& val, const train::fit_options& o) {
    auto run = [&](auto& comm) {
        Net net(nn::init_scheme::kaiming_uniform, 9);
        nn::adam opt;
        const auto r = train::fit(net, data, &val, nn::categorical_crossentropy{}, opt, o, {}, backend::tbb{}, comm);
        std::vector<float> p(net.params().begin(), net.params().end());
        p.push_back(static_cast<float>(r.history.back().train_loss));
        return p;
    };
    dist::single_process one;
    const auto ref = run(one);
    for (int n : {2, 3}) {
        const auto got = on_ranks(n, [&](thread_rank& c) { return run(c); });
        for (const auto& g : got) CHECK(same(g, ref));
    }
}


}  // namespace

TEST_CASE("communicators: the concept, one process, rank-order gathers") {
    static_assert(dist::communicator<dist::single_process>);
    static_assert(dist::communicator<dist::any_communicator>);
    dist::any_communicator one;
    CHECK(one.rank() == 0);
    CHECK(one.size() == 1);
    const std::vector<int> v{1, 2, 3};
    CHECK(dist::all_gather<int>(one, v) == v);
    CHECK(dist::mine(4, 1, 3));
    CHECK_FALSE(dist::mine(4, 0, 3));
    const auto got = on_ranks(3, [](thread_rank& c) {
        const std::vector<int> mine(static_cast<std::size_t>(c.rank() + 1), c.rank());
        std::vector<std::size_t> counts;
        auto all = dist::all_gather<int>(c, mine, &counts);
        return all;
    });
    for (const auto& g : got) CHECK(g == std::vector<int>{0, 1, 1, 2, 2, 2});
}

TEST_CASE("the gradient's groups, computed apart and summed in group order, are the gradient") {
    const auto data = noise_set(40, 3);
    net_t net(nn::init_scheme::kaiming_uniform, 5);
    std::vector<float> x(40 * 1024);
    std::vector<std::int32_t> labels(40);
    for (std::size_t i = 0; i < 40; ++i) {
        data.fill(i, x.data() + i * 1024, 0);
        labels[i] = data.label(i);
    }
    const nn::targets t{labels, {}};
    const nn::run_context ctx{true, 1, 0, 0, 0};
    const double l = net.gradient(x.data(), 40, t, nn::categorical_crossentropy{}, ctx);
    const std::vector<float> whole(net.grads().begin(), net.grads().end());
    using ex_t = nn::executor_t<net_t, backend::tbb>;
    const std::size_t G = ex_t::group_count(40), chunks = ex_t::chunks_of(40);
    REQUIRE(G > 1);
    std::vector<float> parts(G * net_t::param_count);
    std::vector<double> losses(chunks);
    const double norm = nn::categorical_crossentropy::normalizer(t, 40);
    auto& ex = nn::executor_for(net, backend::tbb{});
    for (std::size_t g = G; g-- > 0;) {  // one at a time, in reverse: the order of computing does not matter
        const std::size_t which[1] = {g};
        ex.group_gradients(net, x.data(), 40, t, nn::categorical_crossentropy{}, norm, ctx, which,
                           parts.data() + g * net_t::param_count, losses.data(), backend::tbb{});
    }
    std::vector<float> sum(net_t::param_count, 0.0f);
    for (std::size_t g = 0; g < G; ++g)
        for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += parts[g * net_t::param_count + i];
    CHECK(same(sum, whole));
    double ls = 0;
    for (double v : losses) ls += v;
    CHECK(ls / norm == l);
}

TEST_CASE("data-parallel fit on 2 and 3 ranks ends with one process's model, bit for bit") {
    const auto data = noise_set(60, 4), val = noise_set(15, 6);
    train::fit_options o;
    o.epochs = 2;
    o.batch = 24;  // the last batch is short: 60 = 24 + 24 + 12
    o.seed = 3;
    fits_as_one_process<net_t>(data, val, o);
}

TEST_CASE("data-parallel fit of sparse pictures on 2 and 3 ranks ends with one process's model, bit for bit") {
    // 256x256 pictures go to the sparse executor in one process; the ranks must take its tree too
    using sparse_net = nn::networks::shapira2019<3, 256, 256, 1>;
    static_assert(nn::prefers_sparse_input<sparse_net>);
    auto make = [](std::size_t n, std::uint64_t seed) {
        nn::rng r(seed);
        picture::sparse_stack<std::uint16_t> stack(1, 256, 256, {0});
        std::vector<std::int32_t> y(n);
        for (std::size_t i = 0; i < n; ++i) {
            y[i] = static_cast<std::int32_t>(i % 3);
            std::vector<std::uint32_t> cells;
            for (std::size_t k = 0; k < 40 + 20 * std::size_t(y[i]); ++k)
                cells.push_back(static_cast<std::uint32_t>(r.below(256) * 256 + r.below(64) + 64 * std::size_t(y[i])));
            std::sort(cells.begin(), cells.end());
            cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
            std::vector<std::uint16_t> values(cells.size());
            for (auto& v : values) v = static_cast<std::uint16_t>(1 + r.below(4));
            const std::uint16_t bg[1] = {0};
            stack.push_back(picture::sparse_view<std::uint16_t>{1, 256, 256, cells, values, bg});
        }
        return train::sparse_dataset<std::uint16_t>(std::move(stack), std::move(y));
    };
    const auto data = make(45, 11), val = make(9, 12);
    REQUIRE(train::detail::sparse_batches<sparse_net, backend::tbb>(data));
    train::fit_options o;
    o.epochs = 2;
    o.batch = 20;  // 45 = 20 + 20 + 5
    o.seed = 5;
    fits_as_one_process<sparse_net>(data, val, o);
}

TEST_CASE("a run resumed from its checkpoint file ends as the uninterrupted run") {
    const auto data = noise_set(30, 7), val = noise_set(9, 8);
    train::fit_options o;
    o.epochs = 3;
    o.batch = 8;
    o.seed = 2;
    const std::string path = (std::filesystem::temp_directory_path() / "flowpic_test_dist.ckpt").string();
    net_t a(nn::init_scheme::kaiming_uniform, 1);
    nn::adam oa;
    o.on_checkpoint = [&](const train::checkpoint& c) {
        if (c.epochs_done == 1) train::write_checkpoint(path, c, "run");
    };
    const auto ra = train::fit(a, data, &val, nn::categorical_crossentropy{}, oa, o);
    o.on_checkpoint = {};
    std::string run;
    const train::checkpoint c = train::read_checkpoint(path, run);
    CHECK(run == "run");
    CHECK(c.epochs_done == 1);
    net_t b(nn::init_scheme::kaiming_uniform, 99);  // other weights: the checkpoint's replace them
    nn::adam ob;
    o.resume = &c;
    const auto rb = train::fit(b, data, &val, nn::categorical_crossentropy{}, ob, o);
    CHECK(same(a.params(), b.params()));
    REQUIRE(rb.history.size() == ra.history.size());
    CHECK(rb.history.back().val_loss == ra.history.back().val_loss);
    CHECK(rb.best_epoch == ra.best_epoch);
    // a damaged file is refused
    auto bytes = binary::read_file(path);
    bytes[bytes.size() / 2] ^= 1;
    binary::write_file(path, bytes);
    CHECK_THROWS_AS(train::read_checkpoint(path, run), format_error);
    std::filesystem::remove(path);
}

TEST_CASE("a dataset sharded over 2 and 3 ranks is one process's, byte for byte") {
    namespace fs = std::filesystem;
    const fs::path root = fs::temp_directory_path() / "flowpic_test_dist_tree";
    fs::remove_all(root);
    const std::string sample = test::repo("data/sample/sample.pcap");
    for (const char* f : {"a/1.pcap", "a/2.pcap", "b/x/3.pcap", "b/4.pcap", "c/5.pcap"}) {
        fs::create_directories((root / f).parent_path());
        fs::copy_file(sample, root / f);
    }
    train::build_options o;
    o.preset = "mini_flowpic";
    o.window = presets::every_window(presets::mini_flowpic::window);
    o.window->min_packets = 2;
    o.split.seed = 4;
    dist::single_process one;
    train::build_report r1;
    const auto ref = train::encode_dataset(train::build_dataset({root.string()}, o, &r1, one));
    for (int n : {2, 3}) {
        const auto got = on_ranks(n, [&](thread_rank& c) {
            train::build_report r;
            const auto set = train::build_dataset({root.string()}, o, &r, c);
            return c.rank() == 0 ? train::encode_dataset(set) : std::vector<std::uint8_t>{};
        });
        CHECK(got[0] == ref);
    }
    fs::remove_all(root);
}

