#pragma once
// A capture's frames as captured (link type, bytes, time), for consumers that need the payload
// (nDPI) rather than keyed packets: pcap through libpcap, pcapng through flowpic's own reader,
// with the same checks and errors as pcap_file and pcapng_file.

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include <pcap/pcap.h>
#include <sys/stat.h>

#include "flowpic/core/error.hpp"
#include "flowpic/decode/link_type.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/damage.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/pcapng_file.hpp"

namespace flowpic::source {

struct frame {
    const std::uint8_t* data = nullptr;  // valid during the callback only
    std::uint32_t caplen = 0;
    std::uint32_t wire = 0;
    std::int64_t time_ns = 0;
    int link_type = 0;  // LINKTYPE_ / DLT_ value, as decode::decode_frame takes it
};

// Calls f(const frame&) for every frame of the pcap or pcapng file `path`, in file order; other
// formats (the CSV ones carry no payload) throw format_error naming the file. A damaged record
// throws format_error, or with `stop_at_damage` ends the file there, the damage kept in it.
// A gzip or zstd compressed capture is read decompressed (decompress.hpp), its errors naming it;
// "-" is standard input, read once, named "standard input" in errors.
template <class F>
void visit_frames(const std::string& path, F&& f, std::optional<damage>* stop_at_damage = nullptr) {
    // "-" (standard input) and compressed files through a temporary file, as visit_file reads them
    const auto spooled = [&](const detail::spooled_file& copy, const std::string& name) {
        detail::naming(copy.name(), name, [&] { visit_frames(copy.name(), f, stop_at_damage); });
        if (stop_at_damage && *stop_at_damage && (*stop_at_damage)->where.file == copy.name())
            (*stop_at_damage)->where.file = name;
    };
    if (path == "-") return spooled(detail::spooled_file("/dev/stdin"), "standard input");
    if (const compression c = sniff_compression(path); c != compression::none)
        return spooled(detail::spooled_file(path, c), path);
    const file_format fmt = sniff_format(path);
    if (fmt == file_format::pcapng) {
        detail::pcapng_reader reader(path);
        detail::pcapng_record r;
        frame fr;
        const auto next = [&] {
            if (!stop_at_damage) return reader.next(r);
            try {
                return reader.next(r);
            } catch (const format_error& e) {
                *stop_at_damage = damage::of(e);
                return false;
            }
        };
        while (next()) {
            fr.data = r.data;
            fr.caplen = r.caplen;
            fr.wire = r.wire;
            fr.time_ns = r.time_ns;
            fr.link_type = r.link_type;
            f(static_cast<const frame&>(fr));
        }
        return;
    }
    if (fmt == file_format::empty) throw format_error(location{path, 0}, "empty file");
    if (fmt != file_format::pcap && fmt != file_format::unknown)
        throw format_error(location{path, 0}, std::string("no packet payloads in a file of this format (") +
                                                  format_name(fmt) + "): a pcap or pcapng capture is needed");
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw io_error(location{path}, "is a directory, not a capture file");
    FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) {
        std::fclose(file);
        throw format_error(location{path, 0}, *err ? std::string(err) : std::string("not a pcap or pcapng file"));
    }
    detail::pcap_handle handle(p);
    const int dlt = pcap_datalink(p);
    if (!decode::supported(dlt))
        throw format_error(location{path, 0}, "unsupported " + decode::link_type_name(dlt) +
                                                  " (flowpic decodes Ethernet, loopback, raw IP, Linux cooked, PPP, Cisco HDLC, 802.11, radiotap and PPI captures)");
    constexpr std::int64_t max_seconds = std::numeric_limits<std::int64_t>::max() / ns_per_second - 5;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    frame fr;
    fr.link_type = dlt;
    const auto fail = [&](location where, const std::string& why) {
        format_error e(std::move(where), why);
        if (!stop_at_damage) throw e;
        *stop_at_damage = damage::of(e);
    };
    for (;;) {
        const int rc = pcap_next_ex(p, &h, &data);
        if (rc == PCAP_ERROR_BREAK) return;
        if (rc != 1) {
            const char* why = pcap_geterr(p);
            FILE* pf = ::pcap_file(p);
            const long pos = pf ? std::ftell(pf) : -1;
            return fail(location{path, pos < 0 ? location::npos : static_cast<std::uint64_t>(pos)},
                        why && *why ? why : "read error");
        }
        if (h->ts.tv_sec > max_seconds || h->ts.tv_sec < -max_seconds)
            return fail(location{path}, "timestamp of " + std::to_string(h->ts.tv_sec) + " s is out of range");
        fr.data = data;
        fr.caplen = h->caplen;
        fr.wire = h->len;
        fr.time_ns = static_cast<std::int64_t>(h->ts.tv_sec) * ns_per_second + static_cast<std::int64_t>(h->ts.tv_usec);
        f(static_cast<const frame&>(fr));
    }
}

}  // namespace flowpic::source
