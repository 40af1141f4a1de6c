// One direction of an emulated WAN link, as pure logic: given a frame's arrival time and size,
// its departure time or why it was dropped. No I/O, no clock: the emulator (main.cpp) and the
// unit tests (tests/unit/test_link_model.cpp) drive it with times of their own.
//
// A frame goes through, in order (netem's order; docs/lab.md "WAN emulation"):
//   1. loss: Bernoulli with probability `loss`, or, with burst > 1, a two-state Gilbert chain
//      whose mean loss is `loss` and whose mean run of losses is `burst` frames;
//   2. the rate queue: frames are serialised at `rate` bits/s (the Ethernet frame's bytes, no
//      preamble or FCS) behind those already queued; a frame that would make the queue exceed
//      `queue` (bytes, or time at the rate) is tail-dropped; rate 0 = no serialisation, no queue;
//   3. propagation: `delay` plus jitter drawn uniformly from [-jitter, +jitter] (never below 0);
//      jitter does not reorder: a frame never leaves before the one in front of it;
//   4. reordering: with probability `reorder` a frame skips step 3 (no delay, no jitter) and so
//      overtakes the frames still in flight (netem's reorder).
// Same seed, same frames, same decisions: the generator is std::mt19937_64 (its output is fixed
// by the standard) and the conversions to [0, 1) are our own.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flowpic::link_emulator {

using nanoseconds = std::int64_t;

struct link_spec {
    nanoseconds delay = 0;        // one-way propagation delay
    nanoseconds jitter = 0;       // +- uniform around delay
    double loss = 0;              // probability a frame is lost, in [0, 1]
    double burst = 1;             // mean length of a loss run (Gilbert) ; 1 = Bernoulli
    double rate = 0;              // bits/s; 0 = unlimited
    std::int64_t queue_bytes = 0; // queue limit in bytes (0 and queue_time 0: the default, 100 ms)
    nanoseconds queue_time = 0;   // queue limit as time at `rate`
    double reorder = 0;           // probability a frame skips the delay

    // The queue's limit in bytes: bytes as given, else the time at the rate, at least 2 frames.
    [[nodiscard]] std::int64_t queue_limit_bytes() const {
        if (queue_bytes > 0) return queue_bytes;
        const nanoseconds t = queue_time > 0 ? queue_time : nanoseconds{100'000'000};
        return std::max<std::int64_t>(3028, static_cast<std::int64_t>(rate * static_cast<double>(t) / 8e9));
    }
};

enum class verdict { forward, drop_loss, drop_queue };

struct decision {
    verdict what = verdict::forward;
    nanoseconds depart = 0;  // valid when what == forward
    bool reordered = false;
};

// The state of one direction: generator, Gilbert state, when the serialiser is next free, when
// the last in-order frame leaves.
class link_model {
public:
    link_model(const link_spec& spec, std::uint64_t seed) : spec_(spec), rng_(seed) {}

    decision offer(nanoseconds arrival, std::size_t frame_bytes) {
        decision d;
        if (lost()) {
            d.what = verdict::drop_loss;
            return d;
        }
        nanoseconds sent = arrival;  // when the last bit has left the serialiser
        if (spec_.rate > 0) {
            const nanoseconds start = std::max(arrival, busy_until_);
            const double backlog = static_cast<double>(start - arrival) * spec_.rate / 8e9;  // bytes ahead
            if (backlog + static_cast<double>(frame_bytes) > static_cast<double>(spec_.queue_limit_bytes())) {
                d.what = verdict::drop_queue;
                return d;
            }
            sent = start + serialisation(frame_bytes);
            busy_until_ = sent;
        }
        if (spec_.reorder > 0 && uniform() < spec_.reorder) {
            d.depart = sent;
            d.reordered = true;
            return d;
        }
        nanoseconds prop = spec_.delay;
        if (spec_.jitter > 0) {
            const double j = static_cast<double>(spec_.jitter);
            prop += static_cast<nanoseconds>(std::llround((2 * uniform() - 1) * j));
        }
        d.depart = std::max(sent + std::max<nanoseconds>(prop, 0), last_in_order_);
        last_in_order_ = d.depart;
        return d;
    }

    [[nodiscard]] nanoseconds serialisation(std::size_t frame_bytes) const {
        if (spec_.rate <= 0) return 0;
        return static_cast<nanoseconds>(std::llround(static_cast<double>(frame_bytes) * 8e9 / spec_.rate));
    }
    [[nodiscard]] const link_spec& spec() const { return spec_; }

private:
    double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

    bool lost() {
        const double p = spec_.loss;
        if (p <= 0) return false;
        if (spec_.burst <= 1) return uniform() < p;
        // Gilbert: bad state loses every frame, good none; leave bad with 1/burst, so runs of
        // losses last `burst` frames on average; enter bad so that the stationary loss is p.
        const double leave_bad = 1.0 / spec_.burst;
        const double enter_bad = p >= 1 ? 1.0 : p * leave_bad / (1 - p);
        bad_ = bad_ ? !(uniform() < leave_bad) : uniform() < enter_bad;
        return bad_;
    }

    link_spec spec_;
    std::mt19937_64 rng_;
    bool bad_ = false;
    nanoseconds busy_until_ = 0;
    nanoseconds last_in_order_ = 0;
};

// Seeds of the two directions from the one --seed: distinct streams (splitmix64).
inline std::uint64_t direction_seed(std::uint64_t seed, unsigned direction) {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (direction + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// --- parsing "delay=40ms,jitter=5ms,loss=1%,rate=8mbit,queue=100ms,reorder=0,burst=1" ---

namespace detail {

inline double number_prefix(std::string_view v, std::string_view& unit, bool& ok) {
    std::string s(v);
    char* end = nullptr;
    errno = 0;
    const double x = std::strtod(s.c_str(), &end);
    ok = end != s.c_str() && errno == 0 && std::isfinite(x) && x >= 0;
    unit = v.substr(static_cast<std::size_t>(end - s.c_str()));
    return x;
}

}  // namespace detail

// Thrown with a message naming the key and the value ("delay: bad value '4x0' (e.g. 40ms)").
struct spec_error : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

inline nanoseconds parse_time(std::string_view key, std::string_view v) {
    std::string_view unit;
    bool ok = false;
    const double x = detail::number_prefix(v, unit, ok);
    double scale = 0;
    if (unit == "ns") scale = 1;
    else if (unit == "us") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    if (!ok || scale == 0 || x * scale > 3.6e12)
        throw spec_error(std::string(key) + ": bad value '" + std::string(v) + "' (a time: e.g. 40ms, 500us, 1s)");
    return static_cast<nanoseconds>(std::llround(x * scale));
}

inline double parse_rate(std::string_view key, std::string_view v) {
    std::string_view unit;
    bool ok = false;
    const double x = detail::number_prefix(v, unit, ok);
    double scale = 0;
    if (unit == "bit") scale = 1;
    else if (unit == "kbit") scale = 1e3;
    else if (unit == "mbit") scale = 1e6;
    else if (unit == "gbit") scale = 1e9;
    else if (unit.empty() && ok && x == 0) scale = 1;  // 0: unlimited
    if (!ok || scale == 0 || x * scale > 1e12)
        throw spec_error(std::string(key) + ": bad value '" + std::string(v) + "' (a rate: e.g. 8mbit, 512kbit, 0)");
    return x * scale;
}

inline double parse_probability(std::string_view key, std::string_view v) {
    std::string_view unit;
    bool ok = false;
    double x = detail::number_prefix(v, unit, ok);
    if (unit == "%") x /= 100;
    else if (!unit.empty()) ok = false;
    if (!ok || x > 1)
        throw spec_error(std::string(key) + ": bad value '" + std::string(v) + "' (a probability: e.g. 0.01 or 1%)");
    return x;
}

inline link_spec parse_spec(std::string_view text) {
    const std::string keys = "(delay, jitter, loss, burst, rate, queue, reorder)";
    link_spec s;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        if (eq == std::string_view::npos)
            throw spec_error("'" + std::string(item) + "': expected key=value " + keys);
        const std::string_view key = item.substr(0, eq), v = item.substr(eq + 1);
        if (key == "delay") s.delay = parse_time(key, v);
        else if (key == "jitter") s.jitter = parse_time(key, v);
        else if (key == "loss") s.loss = parse_probability(key, v);
        else if (key == "reorder") s.reorder = parse_probability(key, v);
        else if (key == "rate") s.rate = parse_rate(key, v);
        else if (key == "burst") {
            std::string_view unit;
            bool ok = false;
            s.burst = detail::number_prefix(v, unit, ok);
            if (!ok || !unit.empty() || s.burst < 1)
                throw spec_error("burst: bad value '" + std::string(v) + "' (mean frames per loss run, >= 1)");
        } else if (key == "queue") {
            std::string_view unit;
            bool ok = false;
            const double x = detail::number_prefix(v, unit, ok);
            double bytes = 0;
            if (unit == "b") bytes = 1;
            else if (unit == "kb") bytes = 1e3;
            else if (unit == "mb") bytes = 1e6;
            if (ok && bytes > 0 && x * bytes >= 1 && x * bytes <= 1e10) {
                s.queue_bytes = static_cast<std::int64_t>(x * bytes);
                s.queue_time = 0;
            } else {
                nanoseconds t = 0;
                try {
                    t = parse_time(key, v);
                } catch (const spec_error&) {
                }
                if (t <= 0)
                    throw spec_error("queue: bad value '" + std::string(v) + "' (a time or a size: e.g. 100ms, 64kb)");
                s.queue_time = t;
                s.queue_bytes = 0;
            }
        } else {
            throw spec_error("unknown key '" + std::string(key) + "' " + keys);
        }
    }
    if (s.loss >= 1 && s.burst > 1) throw spec_error("loss: 1 with burst > 1 makes no chain; use burst=1");
    return s;
}

}  // namespace flowpic::link_emulator
