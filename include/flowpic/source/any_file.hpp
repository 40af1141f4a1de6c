#pragma once
// Opens a file by its content (pcap, pcapng, and the CSV and workload formats) and hands the
// matching source to a generic callable.

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <sys/stat.h>
#include <unistd.h>

#include "flowpic/core/error.hpp"
#include "flowpic/core/ip_address.hpp"
#include "flowpic/source/authors_csv.hpp"
#include "flowpic/source/csv_util.hpp"
#include "flowpic/source/decompress.hpp"
#include "flowpic/source/network_stats_csv.hpp"
#include "flowpic/source/packet_csv.hpp"
#include "flowpic/source/flow_records.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/pcapng_file.hpp"

namespace flowpic::source {

enum class file_format {
    pcap,
    pcapng,
    authors_csv,        // the original FlowPic's processed CSV: one row per flow, no header
    network_stats_csv,  // a header with packet_times, packet_sizes, packet_dirs
    packet_csv,         // per-packet session CSV: first line "session,<id>"
    flowpic1,           // the FLOWPIC1 synthetic workload (../shared/peers)
    flow_records,       // the lab's compact flow records (FPRECORD, docs/lab.md)
    unknown_text,       // text, but none of the CSV formats above
    unknown,            // binary and not recognised (libpcap is asked, to name the problem)
    empty,
};

[[nodiscard]] inline const char* format_name(file_format f) noexcept {
    switch (f) {
        case file_format::pcap: return "pcap";
        case file_format::pcapng: return "pcapng";
        case file_format::authors_csv: return "authors' FlowPic CSV";
        case file_format::network_stats_csv: return "network-stats CSV";
        case file_format::packet_csv: return "per-packet session CSV";
        case file_format::flowpic1: return "FLOWPIC1 workload";
        case file_format::flow_records: return "flow records";
        case file_format::unknown_text: return "unknown text";
        case file_format::empty: return "empty";
        default: return "unknown";
    }
}

namespace detail {

// The CSV format of a file's first line (without its line break), from its fields alone.
[[nodiscard]] inline file_format sniff_csv_line(std::string_view line) {
    if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 8) == "session,") return file_format::packet_csv;
    std::array<std::string_view, 9> f{};
    std::size_t n = 0, start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= line.size() && n < f.size(); ++i) {
        if (i < line.size() && line[i] == '"') quoted = !quoted;
        if (i == line.size() || (line[i] == ',' && !quoted)) {
            f[n++] = line.substr(start, i - start);
            start = i + 1;
        }
    }
    for (std::size_t i = 0; i < n; ++i)
        if (f[i] == "packet_times" || f[i] == "packet_sizes" || f[i] == "packet_dirs") return file_format::network_stats_csv;
    if (line.find("packet_times") != std::string_view::npos) return file_format::network_stats_csv;
    // authors' rows: name, ip, port, ip, port, proto, start_time, length, ...
    std::uint64_t u = 0;
    if (n >= 8 && ip_address::parse(f[1]) && ip_address::parse(f[3]) && parse_uint(f[2], u) && parse_uint(f[4], u) &&
        parse_uint(f[7], u))
        return file_format::authors_csv;
    return file_format::unknown_text;
}

}  // namespace detail

[[nodiscard]] inline file_format sniff_format(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
    std::array<char, 4096> head{};
    const std::size_t n = std::fread(head.data(), 1, head.size(), f);
    std::fclose(f);
    if (n == 0) return file_format::empty;
    if (n >= 4) {
        const auto* u = reinterpret_cast<const unsigned char*>(head.data());
        const std::uint32_t m = static_cast<std::uint32_t>(u[0]) | (static_cast<std::uint32_t>(u[1]) << 8) |
                                (static_cast<std::uint32_t>(u[2]) << 16) | (static_cast<std::uint32_t>(u[3]) << 24);
        switch (m) {
            case 0xa1b2c3d4: case 0xd4c3b2a1: case 0xa1b23c4d: case 0x4d3cb2a1: return file_format::pcap;
            case 0x0a0d0d0a: return file_format::pcapng;
            default: break;
        }
    }
    const std::string_view text(head.data(), n);
    if (text.substr(0, 8) == "FLOWPIC1") return file_format::flowpic1;
    if (text.substr(0, 8) == "FPRECORD") return file_format::flow_records;
    // Text: no NUL or other control bytes but tab, CR and LF in what was read.
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(head[i]);
        if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') return file_format::unknown;
        if (c == 0x7f) return file_format::unknown;
    }
    const std::size_t eol = text.find('\n');
    return detail::sniff_csv_line(text.substr(0, eol));
}

namespace detail {

// A pipe, FIFO or device can be read only once, but a capture is sniffed and then opened by its
// format's reader: its bytes are copied once into an unlinked-on-exit temporary file (in TMPDIR),
// which is then read like any file. A compressed file (decompress.hpp) is spooled decompressed.
class spooled_file {
public:
    explicit spooled_file(const std::string& from, compression c = compression::none) {
        const auto dir = std::filesystem::temp_directory_path().string();
        std::string tmpl = dir + "/flowpic-stream-XXXXXX";
        const int fd = ::mkstemp(tmpl.data());
        if (fd < 0) throw io_error(location{from}, "cannot make a temporary file in " + dir + " to read it into: " + std::strerror(errno));
        name_ = tmpl;
        FILE* out = ::fdopen(fd, "wb");
        FILE* in = std::fopen(from.c_str(), "rb");
        if (!out || !in) {
            const int e = errno;
            if (out) std::fclose(out);
            else ::close(fd);
            if (in) std::fclose(in);
            std::remove(name_.c_str());
            throw io_error(location{from}, std::string("cannot open: ") + std::strerror(e));
        }
        if (c != compression::none) {
            try {
                decompress_stream(c, in, out, from);
            } catch (...) {
                std::fclose(in);
                std::fclose(out);
                std::remove(name_.c_str());
                throw;
            }
        }
        std::array<char, 1 << 16> buf{};
        bool ok = true;
        for (std::size_t n; c == compression::none && (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;)
            if (std::fwrite(buf.data(), 1, n, out) != n) {
                ok = false;
                break;
            }
        const bool read_error = std::ferror(in) != 0;
        std::fclose(in);
        if (std::fclose(out) != 0) ok = false;
        if (read_error || !ok) {
            std::remove(name_.c_str());
            throw io_error(location{from}, read_error ? "read error" : "cannot copy it into " + name_ + " (disk full?)");
        }
    }
    ~spooled_file() { std::remove(name_.c_str()); }
    spooled_file(const spooled_file&) = delete;
    spooled_file& operator=(const spooled_file&) = delete;
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
};

// Runs f(); an error located in file `tmp` is thrown again located in `file`.
template <class F>
decltype(auto) naming(const std::string& tmp, const std::string& file, F&& f) {
    const auto moved = [&](const error& e) {
        location where = e.where();
        where.file = file;
        return where;
    };
    try {
        return f();
    } catch (const format_error& e) {
        if (e.where().file != tmp) throw;
        throw format_error(moved(e), e.reason());
    } catch (const io_error& e) {
        if (e.where().file != tmp) throw;
        throw io_error(moved(e), e.reason());
    } catch (const limit_error& e) {
        if (e.where().file != tmp) throw;
        throw limit_error(moved(e), e.reason());
    }
}

template <class Size, class F>
decltype(auto) visit_uncompressed_file(const std::string& path, F&& f) {
    switch (sniff_format(path)) {
        case file_format::authors_csv: {
            authors_csv s(path);
            return f(s);
        }
        case file_format::network_stats_csv: {
            network_stats_csv<> s(path);
            return f(s);
        }
        case file_format::packet_csv: {
            packet_csv s(path);
            return f(s);
        }
        case file_format::flow_records: {
            flow_records s(path);
            return f(s);
        }
        case file_format::flowpic1:
            throw format_error(location{path, 0}, "FLOWPIC1 workload files are read by source::flowpic1, not by visit_file yet");
        case file_format::unknown_text:
            throw format_error(location{path, location::npos, 1},
                               "not a pcap or pcapng file, nor a known CSV format (the authors' FlowPic CSV, "
                               "the network-stats CSV, or the per-packet session CSV)");
        case file_format::empty:
            throw format_error(location{path, 0}, "empty file");
        case file_format::pcapng: {  // read natively: libpcap 1.10 refuses half of the valid files
            pcapng_file<Size> s(path);
            return f(s);
        }
        case file_format::pcap:
        default: {
            pcap_file<Size> s(path);  // for unknown binary files, libpcap names what is wrong
            return f(s);
        }
    }
}

// A compressed file is read decompressed, its errors naming `path` (offsets: the decompressed file's).
template <class Size, class F>
decltype(auto) visit_regular_file(const std::string& path, F&& f) {
    if (const compression c = sniff_compression(path); c != compression::none) {
        const spooled_file plain(path, c);
        return naming(plain.name(), path, [&]() -> decltype(auto) {
            return visit_uncompressed_file<Size>(plain.name(), std::forward<F>(f));
        });
    }
    return visit_uncompressed_file<Size>(path, std::forward<F>(f));
}

}  // namespace detail

// Calls f(source&) with the source that reads `path`: pcap_file<Size> for pcap files,
// pcapng_file<Size> for pcapng files, flow_records for the lab's .fpr files, authors_csv,
// network_stats_csv<> or packet_csv for the CSV formats (which carry their sizes as written, so
// Size applies to captures only). Unrecognised files throw format_error, a directory io_error.
// A pipe, FIFO or device (/dev/stdin) is read once, to its end, into a temporary file first
// (detail::spooled_file), so rows come after its writer closes it. A gzip or zstd compressed file
// (by content, decompress.hpp) is read decompressed, through a temporary file too. "-" is standard input (as in
// tcpdump -r -), named "standard input" in errors.
template <class Size = size::ip_length, class F>
decltype(auto) visit_file(const std::string& path, F&& f) {
    if (path == "-") {
        const detail::spooled_file copy("/dev/stdin");
        return detail::naming(copy.name(), "standard input", [&]() -> decltype(auto) {
            return detail::visit_regular_file<Size>(copy.name(), std::forward<F>(f));
        });
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw io_error(location{path}, "is a directory, not a capture file");
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        const detail::spooled_file copy(path);
        return detail::naming(copy.name(), path, [&]() -> decltype(auto) {
            return detail::visit_regular_file<Size>(copy.name(), std::forward<F>(f));
        });
    }
    return detail::visit_regular_file<Size>(path, std::forward<F>(f));
}

}  // namespace flowpic::source
