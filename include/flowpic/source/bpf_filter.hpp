#pragma once
// A BPF capture filter (tcpdump's expression syntax, e.g. "tcp port 443") over the frames of a
// capture file, applied before a frame is decoded, so the flow table never sees what it drops.
// libpcap compiles the expression once per link type met (a pcapng file may have several) and
// runs it with pcap_offline_filter, as tcpdump -r does. Frames it drops are counted nowhere,
// as a live capture's kernel filter never delivers them.
//
//   source::bpf_filter f("tcp port 443", "x.pcap");   // format_error naming both when invalid
//   if (f.matches(link_type, data, caplen, wire)) ...

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pcap/pcap.h>

#include "flowpic/core/error.hpp"

namespace flowpic::source {

class bpf_filter {
public:
    bpf_filter() = default;
    // `where`: the file or interface named in errors. An invalid expression is a format_error
    // at the first link type compiled (DLT_EN10MB until `first_link_type` says otherwise).
    explicit bpf_filter(std::string expression, std::string where = {}, int first_link_type = DLT_EN10MB)
        : expr_(std::move(expression)), where_(std::move(where)) {
        if (!expr_.empty()) (void)program_for(first_link_type);
    }

    [[nodiscard]] bool empty() const noexcept { return expr_.empty(); }
    [[nodiscard]] const std::string& expression() const noexcept { return expr_; }

    // Whether the frame passes (every frame without an expression). `link_type`: a DLT_ or a
    // pcapng LINKTYPE_ value.
    [[nodiscard]] bool matches(int link_type, const std::uint8_t* data, std::uint32_t caplen, std::uint32_t wire) {
        if (expr_.empty()) return true;
        pcap_pkthdr h{};
        h.caplen = caplen;
        h.len = wire;
        return pcap_offline_filter(&program_for(link_type), &h, data) != 0;
    }

private:
    struct compiled {
        int link_type = 0;
        bpf_program prog{};
        compiled() = default;
        compiled(const compiled&) = delete;
        compiled& operator=(const compiled&) = delete;
        ~compiled() { pcap_freecode(&prog); }
    };

    // pcapng stores LINKTYPE_ values; libpcap compiles for DLT_ ones (they differ for raw IP only
    // among the link types flowpic decodes).
    [[nodiscard]] static int dlt_of(int link_type) noexcept { return link_type == 101 ? DLT_RAW : link_type; }

    const bpf_program& program_for(int link_type) {
        for (const auto& c : programs_)
            if (c->link_type == link_type) return c->prog;
        pcap_t* dead = pcap_open_dead(dlt_of(link_type), 262144);
        if (!dead) throw io_error(location{where_}, "cannot compile capture filter \"" + expr_ + "\": out of memory");
        auto c = std::make_unique<compiled>();
        c->link_type = link_type;
        const int rc = pcap_compile(dead, &c->prog, expr_.c_str(), 1, PCAP_NETMASK_UNKNOWN);
        const std::string why = rc != 0 ? pcap_geterr(dead) : "";
        pcap_close(dead);
        if (rc != 0) {
            c->prog = bpf_program{};  // nothing to free
            throw format_error(location{where_}, "invalid capture filter \"" + expr_ + "\": " + why);
        }
        programs_.push_back(std::move(c));
        return programs_.back()->prog;
    }

    std::string expr_;
    std::string where_;
    std::vector<std::unique_ptr<compiled>> programs_;
};

// source::set_filter(src, expr, name): the capture sources (pcap_file, pcapng_file) read only the
// frames the BPF expression passes; any other source (CSV formats, flow records) refuses one with
// an error naming `name`, since it has no frames to filter. An empty expression changes nothing.
template <class S>
void set_filter(S& src, const std::string& expression, const std::string& name) {
    if (expression.empty()) return;
    if constexpr (requires { src.set_filter(expression); }) {
        src.set_filter(expression);
    } else {
        throw format_error(location{name}, "a capture filter (\"" + expression +
                                               "\") applies to pcap and pcapng captures only; this input has no "
                                               "frames to filter");
    }
}

}  // namespace flowpic::source
