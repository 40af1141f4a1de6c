// The traffic lab's WAN link model (tools/link_emulator/link_model.hpp): delay, serialisation at
// the rate, the queue's tail drop, loss within binomial bounds, Gilbert bursts, reordering,
// jitter bounds, same seed same decisions, and the SPEC parser's errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "link_model.hpp"

namespace le = flowpic::link_emulator;

namespace {

constexpr le::nanoseconds ms = 1'000'000;

// the fraction of n frames of size 100 every 1 ms that the model drops for loss
double loss_fraction(const le::link_spec& s, std::uint64_t seed, int n) {
    le::link_model m(s, seed);
    int lost = 0;
    for (int i = 0; i < n; ++i) lost += m.offer(i * ms, 100).what == le::verdict::drop_loss;
    return static_cast<double>(lost) / n;
}

}  // namespace

TEST_CASE("link model: the delay is exact without jitter, rate or loss") {
    le::link_spec s;
    s.delay = 30 * ms;
    le::link_model m(s, 1);
    for (int i = 0; i < 100; ++i) {
        const auto d = m.offer(i * 7 * ms + 13, 1500);
        CHECK(d.what == le::verdict::forward);
        CHECK(d.depart == i * 7 * ms + 13 + 30 * ms);
        CHECK_FALSE(d.reordered);
    }
}

TEST_CASE("link model: the rate serialises, departures spaced by size*8/rate") {
    le::link_spec s;
    s.rate = 8e6;        // 1 byte per microsecond
    s.delay = 10 * ms;
    s.queue_bytes = 1'000'000;
    le::link_model m(s, 1);
    // a burst at t=0: the k-th 1000-byte frame leaves after (k+1) ms of serialisation
    for (int k = 0; k < 20; ++k) {
        const auto d = m.offer(0, 1000);
        REQUIRE(d.what == le::verdict::forward);
        CHECK(d.depart == (k + 1) * ms + 10 * ms);
    }
    // an idle link: a frame waits only for its own serialisation
    CHECK(m.offer(100 * ms, 500).depart == 100 * ms + 500'000 + 10 * ms);
    CHECK(m.serialisation(1500) == 1'500'000);
}

TEST_CASE("link model: a full queue tail-drops, and drains at the rate") {
    le::link_spec s;
    s.rate = 8e6;             // 1000 bytes per ms
    s.queue_time = 10 * ms;   // 10000 bytes
    CHECK(s.queue_limit_bytes() == 10000);
    le::link_model m(s, 1);
    int forwarded = 0, dropped = 0;
    for (int k = 0; k < 30; ++k) {
        const auto d = m.offer(0, 1000);
        (d.what == le::verdict::forward ? forwarded : dropped) += 1;
        if (k >= 10) CHECK(d.what == le::verdict::drop_queue);
    }
    CHECK(forwarded == 10);
    CHECK(dropped == 20);
    // 5 ms later 5 frames have left: room for 5 more, not 6
    for (int k = 0; k < 5; ++k) CHECK(m.offer(5 * ms, 1000).what == le::verdict::forward);
    CHECK(m.offer(5 * ms, 1000).what == le::verdict::drop_queue);

    le::link_spec bytes;
    bytes.rate = 1e6;
    bytes.queue_bytes = 4000;
    le::link_model b(bytes, 1);
    for (int k = 0; k < 4; ++k) CHECK(b.offer(0, 1000).what == le::verdict::forward);
    CHECK(b.offer(0, 1000).what == le::verdict::drop_queue);
    CHECK(b.offer(0, 1).what == le::verdict::drop_queue);

    le::link_spec fallback;  // no queue given: 100 ms at the rate
    fallback.rate = 8e6;
    CHECK(fallback.queue_limit_bytes() == 100'000);
}

TEST_CASE("link model: Bernoulli loss within binomial bounds, for several seeds") {
    le::link_spec s;
    s.loss = 0.05;
    const int n = 20000;
    const double sd = std::sqrt(s.loss * (1 - s.loss) / n);
    for (std::uint64_t seed : {1ULL, 2ULL, 99ULL}) {
        const double f = loss_fraction(s, seed, n);
        CHECK(std::abs(f - s.loss) < 4 * sd);
    }
    s.loss = 0;
    CHECK(loss_fraction(s, 1, 1000) == 0);
    s.loss = 1;
    CHECK(loss_fraction(s, 1, 1000) == 1);
}

TEST_CASE("link model: Gilbert bursts keep the mean loss and lengthen the runs") {
    le::link_spec s;
    s.loss = 0.02;
    s.burst = 5;
    le::link_model m(s, 7);
    const int n = 200000;
    int lost = 0, runs = 0;
    bool prev = false;
    for (int i = 0; i < n; ++i) {
        const bool l = m.offer(i * ms, 100).what == le::verdict::drop_loss;
        lost += l;
        runs += l && !prev;
        prev = l;
    }
    CHECK(std::abs(static_cast<double>(lost) / n - 0.02) < 0.004);
    const double mean_run = static_cast<double>(lost) / runs;
    CHECK(mean_run > 4.0);
    CHECK(mean_run < 6.0);
}

TEST_CASE("link model: the same seed makes the same decisions; another seed others") {
    le::link_spec s;
    s.delay = 20 * ms;
    s.jitter = 5 * ms;
    s.loss = 0.1;
    s.reorder = 0.05;
    s.rate = 2e6;
    s.queue_time = 50 * ms;
    const auto run = [&](std::uint64_t seed) {
        le::link_model m(s, seed);
        std::vector<le::nanoseconds> out;
        for (int i = 0; i < 2000; ++i) {
            const auto d = m.offer(i * ms / 2, 200 + (i * 37) % 1300);
            out.push_back(d.what == le::verdict::forward ? d.depart : -1 - static_cast<int>(d.what));
        }
        return out;
    };
    CHECK(run(42) == run(42));
    CHECK(run(42) != run(43));
    CHECK(le::direction_seed(42, 0) != le::direction_seed(42, 1));
    CHECK(le::direction_seed(42, 0) == le::direction_seed(42, 0));
}

TEST_CASE("link model: jitter stays within +-jitter and never reorders") {
    le::link_spec s;
    s.delay = 30 * ms;
    s.jitter = 5 * ms;
    le::link_model m(s, 3);
    le::nanoseconds lo = 1 << 30, hi = 0, last = 0;
    for (int i = 0; i < 5000; ++i) {
        const le::nanoseconds t = i * 20 * ms;  // far apart: no ordering clamp
        const auto d = m.offer(t, 100);
        lo = std::min(lo, d.depart - t);
        hi = std::max(hi, d.depart - t);
        CHECK(d.depart >= last);
        last = d.depart;
    }
    CHECK(lo >= 25 * ms);
    CHECK(hi <= 35 * ms);
    CHECK(lo < 26 * ms);  // the whole range is used
    CHECK(hi > 34 * ms);
    // close together, jitter would reorder: the model keeps the order instead
    le::link_model c(s, 3);
    last = 0;
    for (int i = 0; i < 5000; ++i) {
        const auto d = c.offer(i * ms / 10, 100);
        CHECK(d.depart >= last);
        last = d.depart;
    }
}

TEST_CASE("link model: reordering with the configured probability") {
    le::link_spec s;
    s.delay = 20 * ms;
    s.reorder = 0.1;
    le::link_model m(s, 5);
    const int n = 20000;
    int reordered = 0, overtakes = 0;
    le::nanoseconds last_in_order = 0;
    for (int i = 0; i < n; ++i) {
        const le::nanoseconds t = i * ms;  // 20 frames in flight
        const auto d = m.offer(t, 100);
        if (d.reordered) {
            ++reordered;
            CHECK(d.depart == t);  // no delay
            overtakes += d.depart < last_in_order;
        } else {
            CHECK(d.depart == t + 20 * ms);
            last_in_order = d.depart;
        }
    }
    const double sd = std::sqrt(0.1 * 0.9 / n);
    CHECK(std::abs(static_cast<double>(reordered) / n - 0.1) < 4 * sd);
    CHECK(overtakes >= reordered - 1);  // each overtakes the frames in flight (not the first)
}

TEST_CASE("link model: SPEC parsing, and errors that name the key and the value") {
    const auto s = le::parse_spec("delay=40ms,jitter=500us,loss=1%,rate=8mbit,queue=100ms,reorder=0.002,burst=3");
    CHECK(s.delay == 40 * ms);
    CHECK(s.jitter == 500'000);
    CHECK(s.loss == doctest::Approx(0.01));
    CHECK(s.rate == doctest::Approx(8e6));
    CHECK(s.queue_time == 100 * ms);
    CHECK(s.queue_limit_bytes() == 100'000);
    CHECK(s.reorder == doctest::Approx(0.002));
    CHECK(s.burst == doctest::Approx(3));
    CHECK(le::parse_spec("queue=64kb,rate=512kbit").queue_bytes == 64000);
    CHECK(le::parse_spec("rate=0").rate == 0);
    CHECK(le::parse_spec("").delay == 0);
    CHECK(le::parse_spec("delay=1s").delay == 1000 * ms);

    const auto message = [](const char* text) {
        try {
            (void)le::parse_spec(text);
        } catch (const le::spec_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message("delay=40") == "delay: bad value '40' (a time: e.g. 40ms, 500us, 1s)");
    CHECK(message("loss=2") == "loss: bad value '2' (a probability: e.g. 0.01 or 1%)");
    CHECK(message("loss=-0.1") == "loss: bad value '-0.1' (a probability: e.g. 0.01 or 1%)");
    CHECK(message("rate=8mbps") == "rate: bad value '8mbps' (a rate: e.g. 8mbit, 512kbit, 0)");
    CHECK(message("queue=big") == "queue: bad value 'big' (a time or a size: e.g. 100ms, 64kb)");
    CHECK(message("burst=0.5") == "burst: bad value '0.5' (mean frames per loss run, >= 1)");
    CHECK(message("latency=4ms") == "unknown key 'latency' (delay, jitter, loss, burst, rate, queue, reorder)");
    CHECK(message("delay") == "'delay': expected key=value (delay, jitter, loss, burst, rate, queue, reorder)");
}
