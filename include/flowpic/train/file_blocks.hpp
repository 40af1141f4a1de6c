#pragma once
// The blocks of one input file under a preset (flowpic/presets/): the preset's windows
// and flow grouping, and where each block came from. What `flowpic dataset` and `flowpic eval`
// share with `flowpic render`:
//
//   train::for_each_block<presets::mini_flowpic>("x.fpr",
//       [](const blocks::block& b, const train::block_origin& o) { /* o.capture, o.vpn */ });
//
// Flow grouping: the preset's flow key policy (flows::all_flows, A.3, mixes the flows of one
// capture into one stream). Lab flow records (.fpr) hold the flows of many captures one after the
// other, each one direction of a 5-tuple; there each flow's lab capture is its origin, and each
// capture's packets meet the grouping in time order, as the capture's own would: a bidirectional
// grouping joins the two directions of a connection, all_flows mixes the capture's flows.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "flowpic/blocks/block.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/presets/preset.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/bpf_filter.hpp"
#include "flowpic/source/damage.hpp"
#include "flowpic/source/flow_records.hpp"
#include "flowpic/source/memory.hpp"
#include "flowpic/source/tunnel_option.hpp"

namespace flowpic::train {

// Where a block came from.
struct block_origin {
    std::string_view capture;      // .fpr: the flow's lab capture; otherwise empty (the file itself)
    int vpn = -1;                  // .fpr: 0 or 1; otherwise -1 (unknown)
    std::string_view application;  // .fpr only
    bool keyed = true;             // false under flows::all_flows: the block has no 5-tuple
};

// Packets whose time went backwards within their flow (docs/formats.md, "Time order"), summed
// over the file's flow tables.
struct time_order_counts {
    std::uint64_t backwards = 0;     // earlier than their flow's previous packet
    std::uint64_t late_packets = 0;  // of them: before every open window, in no block
};

struct file_block_options {
    std::optional<blocks::window_spec> window;  // instead of the preset's windows
    bool bidirectional = false;                 // both directions in one flow whatever the preset says
    // null: a damaged record throws format_error; else the blocks of every record before it are
    // handed out and the damage is kept here (source/damage.hpp)
    std::optional<source::damage>* stop_at_damage = nullptr;
    decode::tunnel_mode tunnels = decode::tunnel_mode::outer;  // GRE and GTP-U: the outer or the inner flows
    time_order_counts* time_order = nullptr;                    // when set: the file's counts added here
    std::string filter;  // BPF expression (source/bpf_filter.hpp) for pcap and pcapng files; empty: every frame
};

namespace detail {

template <class Key, class Source, class F>
void blocks_of(Source& src, const blocks::window_spec& w, F& on_block, std::optional<source::damage>* damage = nullptr,
               time_order_counts* order = nullptr) {
    blocks::windowed_table<Key> table({}, w);
    flows::callback_sink sink{[&](const blocks::block& b) { on_block(b); }, flows::ignore{}};
    source::until_damage<Source> until(src, damage ? source::on_damage::stop : source::on_damage::refuse);
    table.consume(until, sink);
    if (damage && until.damage()) *damage = until.damage();  // (the null check for GCC -O3 -Wnonnull)
    if (order) {
        order->backwards += table.stats().backwards;
        order->late_packets += table.stage().stats().late_packets;
    }
}

template <class Key, class Source, class F>
void blocks_of_file(Source& src, const blocks::window_spec& w, F& f, std::optional<source::damage>* damage,
                    time_order_counts* order) {
    if constexpr (std::is_same_v<Source, source::flow_records>) {
        // Per lab capture, its packets in time order with the flow index (key.session) cleared, so
        // that the preset's grouping meets them as it meets a capture's: the records hold one
        // direction of a 5-tuple each, which a bidirectional grouping joins into the connection,
        // and all_flows mixes into one stream.
        std::vector<std::string_view> names;
        std::unordered_map<std::string_view, std::size_t> index;
        std::vector<std::vector<keyed_packet>> per_capture;
        std::vector<int> vpn;
        std::vector<std::string_view> app;  // a lab session runs one application
        keyed_packet kp;
        source::until_damage<Source> until(src, damage ? source::on_damage::stop : source::on_damage::refuse);
        while (until.next(kp)) {
            const auto& rec = src.flow(src.current_flow());
            auto [it, fresh] = index.try_emplace(rec.capture, names.size());
            if (fresh) {
                names.push_back(rec.capture);
                per_capture.emplace_back();
                vpn.push_back(rec.vpn ? 1 : 0);
                app.push_back(rec.application);
            }
            kp.key.session = 0;
            per_capture[it->second].push_back(kp);
        }
        if (damage && until.damage()) *damage = until.damage();
        for (std::size_t c = 0; c < names.size(); ++c) {
            auto& v = per_capture[c];
            std::stable_sort(v.begin(), v.end(),
                             [](const keyed_packet& a, const keyed_packet& b) { return a.pkt.time_ns < b.pkt.time_ns; });
            const block_origin origin{names[c], vpn[c], app[c], Key::keyed};
            auto cb = [&](const blocks::block& b) { f(b, origin); };
            source::memory mem(v);
            blocks_of<Key>(mem, w, cb, nullptr, order);
            std::vector<keyed_packet>().swap(v);
        }
    } else {
        const block_origin origin{{}, -1, {}, Key::keyed};
        auto cb = [&](const blocks::block& b) { f(b, origin); };
        blocks_of<Key>(src, w, cb, damage, order);
    }
}

}  // namespace detail

// Calls f(block, origin) for every block of the file at `path` (anything source::visit_file
// opens, "-" for standard input) under Preset's windows and flow grouping, only the frames that
// o.filter passes. Blocks are valid only during the call.
// A damaged record throws format_error, or with o.stop_at_damage ends the file there.
template <class Preset, class F>
void for_each_block(const std::string& path, F&& f, const file_block_options& o = {}) {
    const blocks::window_spec w = o.window.value_or(Preset::window);
    source::visit_file(path, [&](auto& src) {
        source::set_tunnels(src, o.tunnels);
        source::set_filter(src, o.filter, path);
        if (o.bidirectional) detail::blocks_of_file<flows::bidirectional>(src, w, f, o.stop_at_damage, o.time_order);
        else detail::blocks_of_file<typename Preset::flow_key>(src, w, f, o.stop_at_damage, o.time_order);
    });
}

}  // namespace flowpic::train
