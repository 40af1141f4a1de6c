#pragma once
// Compressed captures, recognised by content (gzip: 1f 8b, zstd: 28 b5 2f fd), whatever their
// name: visit_file streams them through zlib or libzstd into a temporary file (any_file.hpp's
// spool) and reads that as the capture. Several concatenated gzip members or zstd frames read as
// one stream, as gzip -d and zstd -d read them. A stream cut short or corrupt is a format_error
// naming the file and the compressed byte offset where the decompressor stopped.

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <zlib.h>
#include <zstd.h>

#include "flowpic/core/error.hpp"

namespace flowpic::source {

enum class compression { none, gzip, zstd };

[[nodiscard]] inline const char* compression_name(compression c) noexcept {
    return c == compression::gzip ? "gzip" : c == compression::zstd ? "zstd" : "none";
}

// The compression of the bytes `head` (the first four of a file, fewer when it is shorter).
[[nodiscard]] inline compression sniff_compression(const unsigned char* head, std::size_t n) noexcept {
    if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return compression::gzip;
    if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) return compression::zstd;
    return compression::none;
}

// The compression of the file at `path` (none when it cannot be read: its reader says why).
[[nodiscard]] inline compression sniff_compression(const std::string& path) noexcept {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return compression::none;
    unsigned char head[4] = {};
    const std::size_t n = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
    return sniff_compression(head, n);
}

namespace detail {

// Writes the decompressed bytes of `in` (compressed as `c`) to `out`; `name` is the file named
// in errors. format_error at the compressed offset when the stream is cut short or corrupt,
// io_error when `out` cannot take the bytes.
inline void decompress_stream(compression c, std::FILE* in, std::FILE* out, const std::string& name) {
    std::array<unsigned char, 1 << 16> ibuf{};
    std::array<unsigned char, 1 << 17> obuf{};
    std::uint64_t consumed = 0;  // compressed bytes fed to the decompressor, all members together
    const auto put = [&](std::size_t n) {
        if (n > 0 && std::fwrite(obuf.data(), 1, n, out) != n)
            throw io_error(location{name}, "cannot write its decompressed bytes to a temporary file (disk full?)");
    };
    const auto read_error = [&] { throw io_error(location{name, consumed}, "read error"); };
    if (c == compression::gzip) {
        z_stream z{};
        if (inflateInit2(&z, 15 + 16) != Z_OK) throw io_error(location{name}, "cannot start zlib");
        const std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
        bool member_open = false;  // inside a gzip member that has not ended yet
        for (;;) {
            const std::size_t n = std::fread(ibuf.data(), 1, ibuf.size(), in);
            if (n == 0) {
                if (std::ferror(in)) read_error();
                break;
            }
            z.next_in = ibuf.data();
            z.avail_in = static_cast<uInt>(n);
            while (z.avail_in > 0) {
                const uInt before = z.avail_in;
                z.next_out = obuf.data();
                z.avail_out = static_cast<uInt>(obuf.size());
                const int rc = inflate(&z, Z_NO_FLUSH);
                consumed += before - z.avail_in;
                const std::size_t produced = obuf.size() - z.avail_out;
                put(produced);
                if (rc == Z_STREAM_END) {
                    member_open = false;
                    if (inflateReset(&z) != Z_OK) throw io_error(location{name}, "cannot restart zlib");
                    continue;
                }
                if (rc != Z_OK && rc != Z_BUF_ERROR)
                    throw format_error(location{name, consumed},
                                       std::string("corrupt gzip data: ") + (z.msg ? z.msg : zError(rc)));
                member_open = true;
                if (rc == Z_BUF_ERROR && before == z.avail_in && produced == 0) break;  // no progress
            }
        }
        if (member_open || consumed == 0)
            throw format_error(location{name, consumed}, "gzip stream cut short (truncated compressed file)");
        return;
    }
    const std::unique_ptr<ZSTD_DStream, std::size_t (*)(ZSTD_DStream*)> z(ZSTD_createDStream(), ZSTD_freeDStream);
    if (!z) throw io_error(location{name}, "cannot start zstd");
    std::size_t last = 0;  // 0 once a frame is complete
    for (;;) {
        const std::size_t n = std::fread(ibuf.data(), 1, ibuf.size(), in);
        if (n == 0) {
            if (std::ferror(in)) read_error();
            break;
        }
        ZSTD_inBuffer ib{ibuf.data(), n, 0};
        while (ib.pos < ib.size) {
            ZSTD_outBuffer ob{obuf.data(), obuf.size(), 0};
            const std::size_t before = ib.pos;
            last = ZSTD_decompressStream(z.get(), &ob, &ib);
            if (ZSTD_isError(last))
                throw format_error(location{name, consumed + ib.pos},
                                   std::string("corrupt zstd data: ") + ZSTD_getErrorName(last));
            put(ob.pos);
            if (ib.pos == before && ob.pos == 0) break;  // needs more input
        }
        consumed += n;
    }
    // the last frame may still hold output the input no longer pushes out
    for (;;) {
        ZSTD_inBuffer ib{nullptr, 0, 0};
        ZSTD_outBuffer ob{obuf.data(), obuf.size(), 0};
        if (last == 0) break;
        last = ZSTD_decompressStream(z.get(), &ob, &ib);
        if (ZSTD_isError(last))
            throw format_error(location{name, consumed}, std::string("corrupt zstd data: ") + ZSTD_getErrorName(last));
        put(ob.pos);
        if (ob.pos == 0) break;
    }
    if (last != 0 || consumed == 0)
        throw format_error(location{name, consumed}, "zstd stream cut short (truncated compressed file)");
}

}  // namespace detail

}  // namespace flowpic::source
