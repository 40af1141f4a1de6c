#pragma once
// pcapng files, read natively. libpcap 1.10 takes the first interface's link type and snap length
// for the whole file, stops at an interface that differs, wants at least one interface and one
// byte order: half of the pcapng conformance suite is beyond it. This reader follows the format
// (and Wireshark, its reference reader) instead: per-section byte order, any number of
// interfaces, each with its own link type, snap length, if_tsresol and if_tsoffset.
//
// Blocks read: Section Header (major version 1), Interface Description, Enhanced Packet, Simple
// Packet and the obsolete Packet Block; every other block (name resolution, statistics, secrets,
// custom, unknown) is checked for its framing and skipped. Frames of a link type flowpic does
// not decode are counted in capture_stats::not_ip, as libpcap-read frames that are not IP are:
// such an interface does not stop the file.

#include <algorithm>
#include <cerrno>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowpic/config.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/fwd.hpp"
#include "flowpic/source/bpf_filter.hpp"
#include "flowpic/source/keyed_packet.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/size_policy.hpp"

namespace flowpic::source {

// One Interface Description Block, as the file states it.
struct pcapng_interface {
    int link_type = 0;                       // LINKTYPE_ value as stored (raw IP is 101, not DLT_RAW 12)
    std::uint32_t snaplen = 0;               // 0 = not limited
    std::uint64_t units_per_second = 1'000'000;  // if_tsresol: 10^n, or 2^n when its high bit is set
    std::int64_t offset_s = 0;               // if_tsoffset: seconds added to every timestamp
    std::uint32_t section = 0;               // 0-based index of its Section Header Block
};

namespace detail {

__extension__ typedef unsigned __int128 pcapng_u128;  // exact timestamp scaling at any resolution
__extension__ typedef __int128 pcapng_i128;

// An open file descriptor, closed when it goes.
struct unique_fd {
    int fd = -1;
    unique_fd() = default;
    explicit unique_fd(int f) noexcept : fd(f) {}
    unique_fd(unique_fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) {
            if (fd >= 0) ::close(fd);
            fd = std::exchange(o.fd, -1);
        }
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() {
        if (fd >= 0) ::close(fd);
    }
};

// A packet record of a pcapng file; `data` points into the reader's buffer until the next read.
struct pcapng_record {
    const std::uint8_t* data = nullptr;
    std::uint32_t caplen = 0;
    std::uint32_t wire = 0;
    std::int64_t time_ns = 0;
    int link_type = 0;
};

// Timestamp scaling of one interface: a multiply when the unit divides a nanosecond's second.
struct pcapng_clock {
    std::uint64_t units = 1'000'000;
    std::int64_t offset_s = 0;
    std::uint64_t ns_per_unit = 0;  // 0: no exact integer multiplier (the general path)
    std::uint64_t fast_max = 0;     // largest timestamp the multiplier path takes without overflow
    std::int64_t offset_ns = 0;

    static pcapng_clock make(std::uint64_t units, std::int64_t offset_s) noexcept {
        pcapng_clock c;
        c.units = units;
        c.offset_s = offset_s;
        constexpr std::int64_t max_offset_s = std::numeric_limits<std::int64_t>::max() / ns_per_second;
        if (units <= 1'000'000'000u && 1'000'000'000u % units == 0 && offset_s <= max_offset_s &&
            offset_s >= -max_offset_s) {
            c.ns_per_unit = 1'000'000'000u / units;
            c.offset_ns = offset_s * ns_per_second;
            const std::uint64_t room = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() -
                                                                  std::max<std::int64_t>(c.offset_ns, 0));
            c.fast_max = room / c.ns_per_unit;
        }
        return c;
    }

    // Nanoseconds since the epoch, rounded down as Wireshark does; false when out of int64 range.
    [[nodiscard]] FLOWPIC_ALWAYS_INLINE bool to_ns(std::uint64_t ts, std::int64_t& ns) const noexcept {
        if (FLOWPIC_LIKELY(ns_per_unit != 0 && ts <= fast_max)) {
            ns = static_cast<std::int64_t>(ts * ns_per_unit) + offset_ns;
            return true;
        }
        const pcapng_u128 frac = ts % units;
        const pcapng_i128 t = static_cast<pcapng_i128>(ts / units) * ns_per_second +
                              static_cast<pcapng_i128>(frac * 1'000'000'000u / units) +
                              static_cast<pcapng_i128>(offset_s) * ns_per_second;
        if (t > std::numeric_limits<std::int64_t>::max() || t < std::numeric_limits<std::int64_t>::min()) return false;
        ns = static_cast<std::int64_t>(t);
        return true;
    }
};

// The file, its buffer and the block parser; the source template adds frame decoding on top.
class pcapng_reader {
public:
    static constexpr std::size_t chunk_bytes = std::size_t{1} << 20;      // the buffer: one read() at a time
    static constexpr std::uint32_t max_block_bytes = std::uint32_t{16} << 20;  // for blocks held whole

    explicit pcapng_reader(std::string path) : path_(std::move(path)) {
        struct stat st {};
        if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            throw io_error(location{path_}, "is a directory, not a capture file");
        fd_ = unique_fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd_.fd < 0) throw io_error(location{path_}, std::string("cannot open: ") + std::strerror(errno));
        // a small file gets a buffer of its size (it grows for larger blocks, should the file grow)
        cap_ = chunk_bytes;
        if (::fstat(fd_.fd, &st) == 0 && S_ISREG(st.st_mode))
            cap_ = std::clamp<std::size_t>(static_cast<std::size_t>(st.st_size), 4096, chunk_bytes);
        buf_ = std::make_unique_for_overwrite<std::uint8_t[]>(cap_);
        if (!fill(1)) fail(0, "empty file");
        if (!fill(4) || load_raw(buf_.get()) != shb_type)
            fail(0, "not a pcapng file: it does not start with a Section Header Block");
        // The first section's header and the blocks up to the first packet, so that link_type()
        // is known from the start.
        pcapng_record ignored;
        (void)next_block(ignored);
        while (fill(8) && !is_packet_block(block_type(buf_.get() + pos_))) (void)next_block(ignored);
    }

    // The next packet record; false at a clean end of the file (after a whole block).
    bool next(pcapng_record& r) {
        if (FLOWPIC_UNLIKELY(failure_ != nullptr)) std::rethrow_exception(failure_);
        try {
            for (;;) {
                const int got = next_block(r);
                if (got == block_packet) return true;
                if (got == block_eof) return false;
            }
        } catch (...) {
            failure_ = std::current_exception();  // a later call repeats the error, never garbage
            throw;
        }
    }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::span<const pcapng_interface> interfaces() const noexcept { return ifaces_; }
    [[nodiscard]] std::uint32_t sections() const noexcept { return sections_; }

private:
    static constexpr std::uint32_t shb_type = 0x0A0D0D0A;  // the same in both byte orders
    static constexpr std::uint32_t bom = 0x1A2B3C4D;
    static constexpr std::uint32_t idb_type = 1, pb_type = 2, spb_type = 3, epb_type = 6;
    static constexpr int block_eof = 0, block_packet = 1, block_other = 2;

    [[nodiscard]] static bool is_packet_block(std::uint32_t t) noexcept {
        return t == epb_type || t == spb_type || t == pb_type;
    }
    [[nodiscard]] static const char* block_name(std::uint32_t t) noexcept {
        switch (t) {
            case shb_type: return "Section Header Block";
            case idb_type: return "Interface Description Block";
            case pb_type: return "Packet Block";
            case spb_type: return "Simple Packet Block";
            case 4: return "Name Resolution Block";
            case 5: return "Interface Statistics Block";
            case epb_type: return "Enhanced Packet Block";
            case 10: return "Decryption Secrets Block";
            case 0x00000BAD: case 0x40000BAD: return "Custom Block";
            default: return "block";
        }
    }
    // Smallest total length of each block type we parse (header, fixed fields, trailer).
    [[nodiscard]] static std::uint32_t min_length(std::uint32_t t) noexcept {
        switch (t) {
            case shb_type: return 28;
            case idb_type: return 20;
            case epb_type: case pb_type: return 32;
            case spb_type: return 16;
            default: return 12;
        }
    }

    [[nodiscard]] static std::uint32_t load_raw(const std::uint8_t* p) noexcept {
        std::uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }
    [[nodiscard]] std::uint32_t u32(const std::uint8_t* p) const noexcept {
        const std::uint32_t v = load_raw(p);
        return swap_ ? __builtin_bswap32(v) : v;
    }
    [[nodiscard]] std::uint16_t u16(const std::uint8_t* p) const noexcept {
        std::uint16_t v;
        std::memcpy(&v, p, 2);
        return swap_ ? __builtin_bswap16(v) : v;
    }
    [[nodiscard]] std::uint64_t u64(const std::uint8_t* p) const noexcept {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        return swap_ ? __builtin_bswap64(v) : v;
    }
    [[nodiscard]] std::uint32_t block_type(const std::uint8_t* p) const noexcept {
        const std::uint32_t raw = load_raw(p);
        return raw == shb_type ? raw : u32(p);
    }

    [[nodiscard]] std::size_t avail() const noexcept { return end_ - pos_; }
    [[nodiscard]] std::uint64_t offset() const noexcept { return base_ + pos_; }

    [[noreturn]] void fail(std::uint64_t at, const std::string& why) const {
        throw format_error(location{path_, at}, why);
    }

    // Makes n bytes available from pos_ on; false when the file ends first.
    bool fill(std::size_t n) {
        if (FLOWPIC_LIKELY(avail() >= n)) return true;
        if (n > cap_) {  // a block larger than the buffer (bounded by max_block_bytes)
            auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(n);
            std::memcpy(bigger.get(), buf_.get() + pos_, avail());
            buf_ = std::move(bigger);
            cap_ = n;
            base_ += pos_;
            end_ -= pos_;
            pos_ = 0;
        } else if (pos_ + n > cap_) {
            std::memmove(buf_.get(), buf_.get() + pos_, avail());
            base_ += pos_;
            end_ -= pos_;
            pos_ = 0;
        }
        while (avail() < n && !eof_) {
            const ssize_t got = ::read(fd_.fd, buf_.get() + end_, cap_ - end_);
            if (got > 0) {
                end_ += static_cast<std::size_t>(got);
            } else if (got == 0) {
                eof_ = true;
            } else if (errno != EINTR) {
                throw io_error(location{path_, base_ + end_}, std::string("read error: ") + std::strerror(errno));
            }
        }
        return avail() >= n;
    }

    // `length` 0: not known yet.
    [[noreturn]] void truncated(std::uint64_t at, std::uint32_t type, std::uint64_t length) const {
        fail(at, std::string("the file ends inside a ") + block_name(type) +
                     (length ? " of " + std::to_string(length) + " bytes" : std::string()) + " (" +
                     std::to_string(base_ + end_ - at) + " bytes left)");
    }

    // Reads one block at pos_: a packet record into r, or a header block into the state.
    int next_block(pcapng_record& r) {
        const std::uint64_t at = offset();
        if (!fill(8)) {
            if (avail() == 0) return block_eof;
            fail(at, "the file ends inside a block header (" + std::to_string(avail()) + " of 8 bytes)");
        }
        const std::uint8_t* p = buf_.get() + pos_;
        if (load_raw(p) == shb_type) return section_header(at);
        const std::uint32_t type = u32(p);
        const std::uint32_t len = u32(p + 4);
        check_length(at, type, len);
        if (!is_packet_block(type) && type != idb_type) {
            skip(at, type, len);
            return block_other;
        }
        if (FLOWPIC_UNLIKELY(len > cap_)) reserve(at, type, len);
        if (FLOWPIC_UNLIKELY(!fill(len))) truncated(at, type, len);
        p = buf_.get() + pos_;
        check_trailer(at, type, len, p);
        if (type == idb_type) {
            interface_description(at, p, len);
            consume(len);
            return block_other;
        }
        packet_block(at, type, p, len, r);
        consume(len);
        return block_packet;
    }

    void consume(std::size_t n) noexcept { pos_ += n; }

    void check_length(std::uint64_t at, std::uint32_t type, std::uint32_t len) const {
        if (FLOWPIC_UNLIKELY(len % 4 != 0 || len < min_length(type))) {
            if (len % 4 != 0)
                fail(at, std::string(block_name(type)) + " length " + std::to_string(len) + " is not a multiple of 4");
            fail(at, std::string(block_name(type)) + " length " + std::to_string(len) + " is below its minimum of " +
                         std::to_string(min_length(type)) + " bytes");
        }
    }
    void check_trailer(std::uint64_t at, std::uint32_t type, std::uint32_t len, const std::uint8_t* p) const {
        const std::uint32_t trailer = u32(p + len - 4);
        if (FLOWPIC_UNLIKELY(trailer != len))
            fail(at, std::string(block_name(type)) + ": the trailing length " + std::to_string(trailer) +
                         " differs from the leading length " + std::to_string(len));
    }
    // A block we must hold whole but that is larger than the buffer.
    void reserve(std::uint64_t at, std::uint32_t type, std::uint32_t len) {
        struct stat st {};
        if (::fstat(fd_.fd, &st) == 0 && S_ISREG(st.st_mode) && at + len > static_cast<std::uint64_t>(st.st_size))
            truncated(at, type, len);
        if (len > max_block_bytes)
            fail(at, std::string(block_name(type)) + " of " + std::to_string(len) + " bytes is larger than the " +
                         std::to_string(max_block_bytes >> 20) + " MiB flowpic accepts for a block");
    }
    // Skips a block we do not read, checking that it is whole and its trailer matches.
    void skip(std::uint64_t at, std::uint32_t type, std::uint32_t len) {
        if (len <= cap_) {
            if (!fill(len)) truncated(at, type, len);
            check_trailer(at, type, len, buf_.get() + pos_);
            consume(len);
            return;
        }
        std::uint64_t rest = len - 4;
        while (rest > 0) {
            if (avail() == 0 && !fill(1)) truncated(at, type, len);
            const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(rest, avail()));
            consume(k);
            rest -= k;
        }
        if (!fill(4)) truncated(at, type, len);
        const std::uint32_t trailer = u32(buf_.get() + pos_);
        if (trailer != len)
            fail(at, std::string(block_name(type)) + ": the trailing length " + std::to_string(trailer) +
                         " differs from the leading length " + std::to_string(len));
        consume(4);
    }

    int section_header(std::uint64_t at) {
        if (!fill(12)) truncated(at, shb_type, 0);
        const std::uint8_t* p = buf_.get() + pos_;
        const std::uint32_t magic = load_raw(p + 8);
        bool swap = false;
        if (magic == __builtin_bswap32(bom)) swap = true;
        else if (magic != bom)
            fail(at, "Section Header Block with byte-order magic 0x" + hex(magic) + ", not 0x1A2B3C4D in either byte order");
        swap_ = swap;
        const std::uint32_t len = u32(p + 4);
        check_length(at, shb_type, len);
        if (len > cap_) reserve(at, shb_type, len);
        if (!fill(len)) truncated(at, shb_type, len);
        p = buf_.get() + pos_;
        check_trailer(at, shb_type, len, p);
        const std::uint16_t major = u16(p + 12), minor = u16(p + 14);
        if (major != 1)  // a new major version may change any block's layout
            fail(at, "pcapng version " + std::to_string(major) + "." + std::to_string(minor) +
                         " is not supported (flowpic reads version 1.x)");
        ++sections_;
        section_first_ = ifaces_.size();
        consume(len);
        return block_other;
    }

    void interface_description(std::uint64_t at, const std::uint8_t* p, std::uint32_t len) {
        pcapng_interface ifc;
        ifc.link_type = u16(p + 8);
        ifc.snaplen = u32(p + 12);
        ifc.section = sections_ - 1;
        // options: code, length, value padded to 4 bytes; opt_endofopt (0) or the block's end stops
        const std::uint8_t* o = p + 16;
        const std::uint8_t* const end = p + len - 4;
        while (end - o >= 4) {
            const std::uint16_t code = u16(o), olen = u16(o + 2);
            if (code == 0) break;
            const std::size_t padded = (std::size_t{olen} + 3) & ~std::size_t{3};
            if (padded > static_cast<std::size_t>(end - o - 4))
                fail(at, "Interface Description Block: option " + std::to_string(code) + " of " +
                             std::to_string(olen) + " bytes runs past the end of the block");
            const std::uint8_t* v = o + 4;
            if (code == 9 && olen == 1) {  // if_tsresol (another length is ignored, as by Wireshark)
                const unsigned e = v[0] & 0x7Fu;
                if (v[0] & 0x80u) {
                    if (e > 63) fail(at, "if_tsresol of 2^-" + std::to_string(e) + " s is finer than 64-bit timestamps hold");
                    ifc.units_per_second = std::uint64_t{1} << e;
                } else {
                    if (e > 19) fail(at, "if_tsresol of 10^-" + std::to_string(e) + " s is finer than 64-bit timestamps hold");
                    ifc.units_per_second = 1;
                    for (unsigned i = 0; i < e; ++i) ifc.units_per_second *= 10;
                }
            } else if (code == 14 && olen == 8) {  // if_tsoffset
                ifc.offset_s = static_cast<std::int64_t>(u64(v));
            }
            o += 4 + padded;
        }
        ifaces_.push_back(ifc);
        clocks_.push_back(pcapng_clock::make(ifc.units_per_second, ifc.offset_s));
    }

    void packet_block(std::uint64_t at, std::uint32_t type, const std::uint8_t* p, std::uint32_t len,
                      pcapng_record& r) {
        const std::size_t in_section = ifaces_.size() - section_first_;
        if (type == spb_type) {  // no interface id (always 0), no timestamp, no captured length
            if (FLOWPIC_UNLIKELY(in_section == 0))
                fail(at, "Simple Packet Block before any Interface Description Block of its section");
            const pcapng_interface& ifc = ifaces_[section_first_];
            const std::uint32_t wire = u32(p + 8);
            std::uint32_t cap = std::min(wire, len - 16);
            if (ifc.snaplen != 0) cap = std::min(cap, ifc.snaplen);
            r = {p + 12, cap, wire, 0, ifc.link_type};  // time 0, as Wireshark shows it
            return;
        }
        const std::uint32_t id = type == epb_type ? u32(p + 8) : u16(p + 8);
        if (FLOWPIC_UNLIKELY(id >= in_section))
            fail(at, std::string(block_name(type)) + " for interface " + std::to_string(id) + ", but its section has " +
                         std::to_string(in_section) + (in_section == 1 ? " interface" : " interfaces"));
        const std::uint64_t ts = (std::uint64_t{u32(p + 12)} << 32) | u32(p + 16);
        const std::uint32_t cap = u32(p + 20);
        if (FLOWPIC_UNLIKELY(cap > len - 32))
            fail(at, std::string(block_name(type)) + ": captured length " + std::to_string(cap) + " exceeds the " +
                         std::to_string(len - 32) + " bytes the block holds");
        std::int64_t ns = 0;
        if (FLOWPIC_UNLIKELY(!clocks_[section_first_ + id].to_ns(ts, ns)))
            fail(at, std::string(block_name(type)) + ": timestamp " + std::to_string(ts) + " in units of 1/" +
                         std::to_string(clocks_[section_first_ + id].units) +
                         " s is outside the int64 nanosecond range (years 1678 to 2262)");
        r = {p + 28, cap, u32(p + 24), ns, ifaces_[section_first_ + id].link_type};
    }

    [[nodiscard]] static std::string hex(std::uint32_t v) {
        static constexpr char digits[] = "0123456789ABCDEF";
        std::string s(8, '0');
        for (int i = 7; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 0xF];
        return s;
    }

    std::string path_;
    unique_fd fd_;
    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t cap_ = 0;
    std::size_t pos_ = 0;     // next unread byte in buf_
    std::size_t end_ = 0;     // end of the bytes read into buf_
    std::uint64_t base_ = 0;  // file offset of buf_[0]
    bool eof_ = false;
    bool swap_ = false;       // the current section's byte order differs from the host's
    std::uint32_t sections_ = 0;
    std::size_t section_first_ = 0;  // index in ifaces_ of the current section's interface 0
    std::vector<pcapng_interface> ifaces_;
    std::vector<pcapng_clock> clocks_;
    std::exception_ptr failure_;
};

}  // namespace detail

// Reads a pcapng file: the same interface as pcap_file, plus the interfaces and sections seen.
// link_type() is the first interface's (-1 without one). Timestamps are integer nanoseconds,
// rounded down from the interface's resolution as Wireshark does; Simple Packet Blocks carry none
// and read as time 0, as in Wireshark.
template <class Size, class Protocols>
class pcapng_file {
    static_assert(size::size_policy<Size>,
                  "pcapng_file<Size, Protocols>: Size must be a size policy such as size::ip_length, "
                  "size::wire_length or size::transport_payload");
    static_assert(requires { { Protocols::keep_all } -> std::convertible_to<bool>; },
                  "pcapng_file<Size, Protocols>: Protocols must be protocols::tcp_udp or protocols::any_ip");

public:
    using size_policy = Size;
    static constexpr bool time_ordered = true;

    explicit pcapng_file(std::string path) : reader_(std::move(path)) {}

    // Fills `out` with the next packet the policies keep; false at the end of the file.
    bool next(keyed_packet& out) {
        detail::pcapng_record r;
        while (reader_.next(r)) {
            if (!filter_.empty() && !filter_.matches(r.link_type, r.data, r.caplen, r.wire)) continue;
            ++stats_.frames;
            if (detail::frame_to_packet<Size, Protocols>(r.link_type, r.data, r.caplen, r.wire, r.time_ns, stats_, out, tunnels_))
                return true;
        }
        return false;
    }

    [[nodiscard]] int link_type() const noexcept {
        return reader_.interfaces().empty() ? -1 : reader_.interfaces().front().link_type;
    }
    [[nodiscard]] const std::string& path() const noexcept { return reader_.path(); }
    [[nodiscard]] const capture_stats& stats() const noexcept { return stats_; }
    // GRE and GTP-U: the outer packet (default) or the tunnelled one is the flow's (decode/frame.hpp).
    void set_tunnels(decode::tunnel_mode m) noexcept { tunnels_ = m; }
    // Only the frames this BPF expression passes, compiled for each interface's link type
    // (bpf_filter.hpp); format_error when invalid.
    void set_filter(const std::string& expression) {
        filter_ = bpf_filter(expression, path(), link_type() >= 0 ? link_type() : DLT_EN10MB);
    }
    [[nodiscard]] const std::string& filter() const noexcept { return filter_.expression(); }
    // Every interface read so far, all sections together, in file order.
    [[nodiscard]] std::span<const pcapng_interface> interfaces() const noexcept { return reader_.interfaces(); }
    // Section Header Blocks read so far.
    [[nodiscard]] std::uint32_t sections() const noexcept { return reader_.sections(); }

private:
    detail::pcapng_reader reader_;
    capture_stats stats_;
    decode::tunnel_mode tunnels_ = decode::tunnel_mode::outer;
    bpf_filter filter_;
};

}  // namespace flowpic::source
