// flowpic::ndpi::flow_classifier: nDPI 4.x driven per flow the way ndpiReader (example/reader_util.c)
// drives it, so that the two agree on each flow's application.

#include "flowpic/ndpi/flow_classifier.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>

extern "C" {
#include <ndpi/ndpi_api.h>
}

#include "flowpic/decode/frame.hpp"

namespace flowpic::ndpi {

namespace {

struct ndpi_module_deleter {
    void operator()(ndpi_detection_module_struct* m) const noexcept { ndpi_exit_detection_module(m); }
};
struct ndpi_flow_deleter {
    void operator()(ndpi_flow_struct* f) const noexcept { ndpi_free_flow(f); }
};
using module_ptr = std::unique_ptr<ndpi_detection_module_struct, ndpi_module_deleter>;
using ndpi_flow_ptr = std::unique_ptr<ndpi_flow_struct, ndpi_flow_deleter>;

// Both directions of a connection under one key: the smaller endpoint first.
flow_key undirected(const flow_key& k) noexcept {
    const auto a = std::tie(k.src, k.sport);
    const auto b = std::tie(k.dst, k.dport);
    return b < a ? k.reversed() : k;
}

struct flow_state {
    flow_result out;
    ndpi_flow_ptr flow;       // released once detection is complete
    ndpi_protocol proto = NDPI_PROTOCOL_NULL;
    std::uint64_t whole_packets = 0;  // those nDPI was offered: its packet budget counts these
    bool completed = false;
};

}  // namespace

struct flow_classifier::impl {
    classifier_options opt;
    module_ptr module;
    std::unordered_map<flow_key, std::size_t, flow_key_hash> index;
    std::vector<flow_state> flows;

    explicit impl(const classifier_options& o) : opt(o) {
        module.reset(ndpi_init_detection_module(ndpi_no_prefs));
        if (!module) throw std::runtime_error("nDPI: ndpi_init_detection_module failed");
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(module.get(), &all);
        ndpi_finalize_initialization(module.get());
    }

    void give_up(flow_state& s) {
        if (s.completed || !s.flow) return;
        std::uint8_t guessed = 0;
        s.proto = ndpi_detection_giveup(module.get(), s.flow.get(), opt.guess ? 1 : 0, &guessed);
        s.completed = true;
    }

    void name(flow_state& s) {
        char buf[128];
        s.out.application = ndpi_protocol2name(module.get(), s.proto, buf, sizeof buf);
        const char* cat = ndpi_category_get_name(module.get(), s.proto.category);
        s.out.category = cat ? cat : "";
        s.out.master_id = s.proto.master_protocol;
        s.out.app_id = s.proto.app_protocol;
    }
};

flow_classifier::flow_classifier() : flow_classifier(classifier_options{}) {}
flow_classifier::flow_classifier(const classifier_options& opt) : impl_(std::make_unique<impl>(opt)) {}
flow_classifier::~flow_classifier() = default;
flow_classifier::flow_classifier(flow_classifier&&) noexcept = default;
flow_classifier& flow_classifier::operator=(flow_classifier&&) noexcept = default;

bool flow_classifier::add(std::int64_t time_ns, std::span<const std::uint8_t> ip) {
    decode::decoded d;
    if (ip.empty() || decode::detail::ip_by_version(ip.data(), static_cast<std::int64_t>(ip.size()), d) != decode::status::ok)
        return false;
    if (!d.tcp_udp) return false;
    auto& m = *impl_;
    const flow_key u = undirected(d.key);
    auto [it, fresh] = m.index.try_emplace(u, m.flows.size());
    if (fresh) {
        flow_state s;
        s.out.key = d.key;  // the first packet's sender is the initiator
        s.out.first_ns = time_ns;
        auto* f = static_cast<ndpi_flow_struct*>(ndpi_flow_malloc(SIZEOF_FLOW_STRUCT));
        if (!f) throw std::bad_alloc();
        std::memset(f, 0, SIZEOF_FLOW_STRUCT);
        s.flow.reset(f);
        m.flows.push_back(std::move(s));
    }
    flow_state& s = m.flows[it->second];
    s.out.last_ns = std::max(s.out.last_ns, time_ns);
    ++s.out.packets;
    if (s.completed) return true;
    // ndpiReader hands nDPI only whole IP packets (the captured bytes cover the IP length) and
    // never a later fragment.
    if (ip.size() < d.ip_length || (d.fragment && !d.first_fragment)) return true;
    const std::uint64_t n = ++s.whole_packets;
    bool enough = (d.key.proto == 17 && n > m.opt.max_udp_packets) || (d.key.proto == 6 && n > m.opt.max_tcp_packets);
    const auto len = static_cast<unsigned short>(std::min<std::size_t>(ip.size(), 0xffff));
    // milliseconds from the microseconds a pcap header holds, as ndpiReader computes them
    const std::int64_t us = time_ns >= 0 ? time_ns / 1000 : -((-time_ns + 999) / 1000);
    const auto ms = static_cast<std::uint64_t>(us / 1000);
    s.proto = ndpi_detection_process_packet(m.module.get(), s.flow.get(), ip.data(), len, ms);
    enough = enough || s.flow->fail_with_unknown;
    if (enough || s.proto.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
        if (!enough && ndpi_extra_dissection_possible(m.module.get(), s.flow.get())) return true;  // e.g. a certificate to come
        if (s.proto.app_protocol == NDPI_PROTOCOL_UNKNOWN) m.give_up(s);
        s.completed = true;
        m.name(s);
        s.flow.reset();
    }
    return true;
}

std::vector<flow_result> flow_classifier::finish() {
    auto& m = *impl_;
    std::vector<flow_result> out;
    out.reserve(m.flows.size());
    for (auto& s : m.flows) {
        if (!s.completed) {
            m.give_up(s);
            m.name(s);
        }
        out.push_back(std::move(s.out));
    }
    m.flows.clear();
    m.index.clear();
    return out;  // already in first-packet order: flows are appended as they start
}

std::size_t flow_classifier::flow_count() const noexcept { return impl_->flows.size(); }

std::string flow_classifier::ndpi_version() {
    const char* v = ndpi_revision();
    return v ? v : "";
}

}  // namespace flowpic::ndpi
