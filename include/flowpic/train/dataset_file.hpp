#pragma once
// The dataset file (.fpd): a train::picture_set on disk. Little-endian, versioned, checksummed;
// the layout is documented in docs/formats.md ("The dataset file"). In short:
//
//   header (64 B)  "FLOWPICD", u16 version (1, or 2 with a label map), u16 header size 64, u8 value type (1 uint16,
//                  2 float32), u8 0, u16 channels, u32 height, u32 width, u64 split seed,
//                  u32 classes, u32 captures, u64 samples, u64 packets, u64 file size
//   metadata       str preset; f64 x 3 split fractions; the window spec; f32 background per
//                  channel; str class names; captures (str name, u32 label, i8 vpn, u8 split);
//                  version 2: the label map (u32 length + text)
//   samples        u32 label, u8 split, u32 capture, the flow key (43 B), i64 window start and
//                  end (ns), u32 packets, u32 cells, then the packets (varint time deltas in ns,
//                  varint size << 1 | direction), the cells (varint deltas of flat indices) and
//                  their values (value type, channels per cell)
//   u64 FNV-1a of every byte before it         (str = u16 length + UTF-8 bytes)
//
// Reading checks every field and names the byte offset of the first bad one
// (flowpic::format_error); the checksum is checked last, so that damage inside the structure is
// reported where it is.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/train/picture_set.hpp"

namespace flowpic::train {

inline constexpr char dataset_magic[8] = {'F', 'L', 'O', 'W', 'P', 'I', 'C', 'D'};
// Version 2 adds the label map; a set without one is written as version 1, as before it.
inline constexpr std::uint16_t dataset_format_version = 2;
inline constexpr std::size_t dataset_header_size = 64;

// What a preset's pictures look like: checked against a file's header.
struct picture_geometry {
    std::uint8_t value_type = 2;  // 1 uint16, 2 float32
    std::size_t channels = 1, height = 0, width = 0;
    std::vector<float> background;
    blocks::window_spec window;
};

// std::invalid_argument for presets not in Presets.
template <class Presets = presets::builtin>
picture_geometry geometry_of(const std::string& preset) {
    return presets::visit<Presets>(preset, [](auto p) {
        using P = decltype(p);
        using H = typename P::picture;
        picture_geometry g;
        g.value_type = std::is_same_v<typename H::value_type, std::uint16_t> ? 1 : 2;
        g.channels = H::channel_count;
        g.height = H::height;
        g.width = H::width;
        for (std::size_t c = 0; c < H::channel_count; ++c)
            g.background.push_back(static_cast<float>(H::channels_type::template background<typename H::value_type>(c)));
        g.window = P::window;
        return g;
    });
}

namespace detail::fpd {

using writer = binary::writer;
using reader = binary::reader;

inline writer make_writer() { return writer("dataset file"); }
inline reader make_reader(const std::uint8_t* p, std::size_t n, const std::string& name) {
    return reader({p, n}, name, "dataset file", reader::truncation::counted_bytes);
}

inline std::uint64_t zigzag(std::int64_t v) noexcept {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) noexcept {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

inline void write_key(writer& w, const flow_key& k) {
    w.num(static_cast<std::uint8_t>(k.src.family));
    w.bytes(k.src.bytes.data(), k.src.bytes.size());
    w.num(static_cast<std::uint8_t>(k.dst.family));
    w.bytes(k.dst.bytes.data(), k.dst.bytes.size());
    w.num(k.sport);
    w.num(k.dport);
    w.num(k.proto);
    w.num(k.session);
}

inline flow_key read_key(reader& r) {
    flow_key k;
    for (ip_address* a : {&k.src, &k.dst}) {
        const std::size_t at = r.offset();
        const auto fam = r.num<std::uint8_t>("flow key");
        if (fam != 0 && fam != 4 && fam != 6) r.fail(at, "address family " + std::to_string(fam) + " (not 0, 4 or 6)");
        a->family = static_cast<ip_family>(fam);
        for (auto& b : a->bytes) b = r.num<std::uint8_t>("flow key");
    }
    k.sport = r.num<std::uint16_t>("flow key");
    k.dport = r.num<std::uint16_t>("flow key");
    k.proto = r.num<std::uint8_t>("flow key");
    k.session = r.num<std::uint32_t>("flow key");
    return k;
}

}  // namespace detail::fpd

// The file's bytes; the set's preset is looked up in Presets.
template <class Presets = presets::builtin>
std::vector<std::uint8_t> encode_dataset(const picture_set& set) {
    namespace d = detail::fpd;
    const picture_geometry g = geometry_of<Presets>(set.preset);
    if (set.pictures.size() != set.samples.size()) throw std::invalid_argument("dataset file: pictures and samples differ in count");
    if (!set.samples.empty() &&
        (set.pictures.channels() != g.channels || set.pictures.height() != g.height || set.pictures.width() != g.width))
        throw std::invalid_argument("dataset file: the pictures do not have the geometry of preset " + set.preset);
    auto w = d::make_writer();
    w.bytes(dataset_magic, 8);
    const bool has_map = !set.label_map.empty();
    w.num(has_map ? dataset_format_version : std::uint16_t{1});
    w.num(static_cast<std::uint16_t>(dataset_header_size));
    w.num(g.value_type);
    w.num(std::uint8_t{0});
    w.num(static_cast<std::uint16_t>(g.channels));
    w.num(static_cast<std::uint32_t>(g.height));
    w.num(static_cast<std::uint32_t>(g.width));
    w.num(set.seed);
    w.num(static_cast<std::uint32_t>(set.classes.size()));
    w.num(static_cast<std::uint32_t>(set.captures.size()));
    w.num(static_cast<std::uint64_t>(set.samples.size()));
    w.num(static_cast<std::uint64_t>(set.packets.size()));
    w.num(std::uint64_t{0});  // file size, set at the end
    w.str<std::uint16_t>(set.preset);
    for (double f : set.fractions) w.num(f);
    const auto& win = set.window;
    w.num(win.length_ns);
    w.num(win.stride_ns);
    w.num(win.min_packets);
    w.num(win.min_span_ns);
    w.num(static_cast<std::uint8_t>(win.inclusive_end));
    w.num(static_cast<std::uint8_t>(win.ends));
    w.num(static_cast<std::uint8_t>(win.first_only));
    for (float b : g.background) w.num(b);
    for (const auto& c : set.classes) w.str<std::uint16_t>(c);
    for (const auto& c : set.captures) {
        w.str<std::uint16_t>(c.name);
        w.num(c.label);
        w.num(c.vpn);
        w.num(static_cast<std::uint8_t>(c.part));
    }
    if (has_map) w.str<std::uint32_t>(set.label_map);
    for (std::size_t i = 0; i < set.samples.size(); ++i) {
        const auto& s = set.samples[i];
        w.num(s.label);
        w.num(static_cast<std::uint8_t>(s.part));
        w.num(s.capture);
        d::write_key(w, s.key);
        w.num(s.block_start_ns);
        w.num(s.block_end_ns);
        const auto pic = set.pictures[i];
        w.num(s.packets);
        w.num(static_cast<std::uint32_t>(pic.cells.size()));
        std::int64_t prev = s.block_start_ns;
        for (const packet& p : set.packets_of(i)) {
            w.varint(d::zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(p.time_ns) - static_cast<std::uint64_t>(prev))));
            w.varint((static_cast<std::uint64_t>(p.size) << 1) | static_cast<std::uint64_t>(p.dir == direction::reverse));
            prev = p.time_ns;
        }
        std::uint32_t cell = 0;
        for (std::size_t k = 0; k < pic.cells.size(); ++k) {
            w.varint(k == 0 ? pic.cells[k] : pic.cells[k] - cell);
            cell = pic.cells[k];
        }
        for (float v : pic.values) {
            if (g.value_type == 1) {
                if (!(v >= 0 && v <= 65535 && v == std::floor(v)))
                    throw std::invalid_argument("dataset file: a count of preset " + set.preset + " is not a uint16");
                w.num(static_cast<std::uint16_t>(v));
            } else {
                w.num(v);
            }
        }
    }
    w.put<std::uint64_t>(56, static_cast<std::uint64_t>(w.size() + 8));
    w.checksum();
    return w.release();
}

template <class Presets = presets::builtin>
void write_dataset(const std::string& path, const picture_set& set) {
    binary::write_file(path, encode_dataset<Presets>(set));
}

struct dataset_read_options {
    std::string preset;          // when not empty: the preset the file must hold
    bool verify_checksum = true; // the fuzzer turns it off to reach the structure
};

// Parses a dataset file held in memory; `name` is what errors call it. Its preset must be one of
// Presets.
template <class Presets = presets::builtin>
picture_set decode_dataset(const std::uint8_t* data, std::size_t size, const std::string& name,
                                  const dataset_read_options& o = {}) {
    namespace d = detail::fpd;
    auto r = d::make_reader(data, size, name);
    r.need(dataset_header_size, "header");
    if (std::memcmp(data, dataset_magic, 8) != 0) r.fail(0, "not a flowpic dataset file (bad magic)");
    r.num<std::uint64_t>("magic");
    const auto version = r.num<std::uint16_t>("version");
    if (version != 1 && version != dataset_format_version)
        r.fail(8, "dataset format version " + std::to_string(version) + ", this flowpic reads versions 1 to " +
                      std::to_string(dataset_format_version));
    if (r.num<std::uint16_t>("header size") != dataset_header_size) r.fail(10, "header size is not 64");
    const auto value_type = r.num<std::uint8_t>("value type");
    if (value_type != 1 && value_type != 2) r.fail(12, "value type " + std::to_string(value_type) + " (not 1 or 2)");
    if (r.num<std::uint8_t>("reserved") != 0) r.fail(13, "reserved byte is not 0");
    const std::size_t channels = r.num<std::uint16_t>("channels");
    const std::size_t height = r.num<std::uint32_t>("height");
    const std::size_t width = r.num<std::uint32_t>("width");
    picture_set set;
    set.seed = r.num<std::uint64_t>("split seed");
    const auto nclasses = r.num<std::uint32_t>("class count");
    const auto ncaptures = r.num<std::uint32_t>("capture count");
    const auto nsamples = r.num<std::uint64_t>("sample count");
    const auto npackets = r.num<std::uint64_t>("packet count");
    const auto declared = r.num<std::uint64_t>("file size");
    if (declared != size)
        r.fail(std::min<std::uint64_t>(declared, size), "file size is " + std::to_string(size) + " bytes, the header says " +
                                                            std::to_string(declared) + " (truncated or padded)");
    if (size < dataset_header_size + 8) r.fail(size, "truncated dataset file: no checksum");
    auto body = d::make_reader(data, size - 8, name);  // the checksum is not part of the structure
    body.skip(dataset_header_size, "header");

    std::size_t at = body.offset();
    set.preset = body.str<std::uint16_t>("preset name");
    picture_geometry g;
    try {
        g = geometry_of<Presets>(set.preset);
    } catch (const std::invalid_argument&) {
        body.fail(at, "unknown preset '" + set.preset + "' (known: " + presets::names_list<Presets>() + ")");
    }
    if (!o.preset.empty() && o.preset != set.preset)
        body.fail(at, "the dataset holds pictures of preset " + set.preset + ", not " + o.preset);
    if (value_type != g.value_type || channels != g.channels || height != g.height || width != g.width)
        body.fail(12, "picture geometry " + std::to_string(channels) + "x" + std::to_string(height) + "x" +
                          std::to_string(width) + " (value type " + std::to_string(value_type) + ") is not preset " +
                          set.preset + "'s " + std::to_string(g.channels) + "x" + std::to_string(g.height) + "x" +
                          std::to_string(g.width) + " (value type " + std::to_string(g.value_type) + ")");
    for (auto& f : set.fractions) {
        at = body.offset();
        f = body.num<double>("split fraction");
        if (!(f >= 0 && f <= 1e9)) body.fail(at, "split fraction out of range");
    }
    auto& win = set.window;
    at = body.offset();
    win.length_ns = body.num<std::int64_t>("window");
    win.stride_ns = body.num<std::int64_t>("window");
    win.min_packets = body.num<std::uint32_t>("window");
    win.min_span_ns = body.num<std::int64_t>("window");
    const auto inclusive = body.num<std::uint8_t>("window");
    const auto ends = body.num<std::uint8_t>("window");
    const auto first_only = body.num<std::uint8_t>("window");
    if (win.length_ns <= 0 || win.stride_ns < 0 || win.min_span_ns < 0 || inclusive > 1 || ends > 2 || first_only > 1)
        body.fail(at, "bad window spec");
    win.inclusive_end = inclusive == 1;
    win.ends = static_cast<blocks::end_rule>(ends);
    win.first_only = first_only == 1;
    win.min_flow_packets = g.window.min_flow_packets;  // not stored: the preset's session rule
    std::vector<float> background(channels);
    for (auto& b : background) {
        at = body.offset();
        b = body.num<float>("background");
        if (!std::isfinite(b)) body.fail(at, "background value is not finite");
    }
    // every class name, capture and sample takes at least 2, 8 and 76 bytes: counts beyond what
    // is left are damage, caught before anything is allocated for them
    if (nclasses > body.left() / 2) body.fail(32, "class count " + std::to_string(nclasses) + " exceeds the file");
    if (nclasses == 0 && nsamples > 0) body.fail(32, "samples but no class");
    for (std::uint32_t c = 0; c < nclasses; ++c) set.classes.push_back(body.str<std::uint16_t>("class name"));
    if (ncaptures > body.left() / 8) body.fail(36, "capture count " + std::to_string(ncaptures) + " exceeds the file");
    set.captures.resize(ncaptures);
    for (auto& c : set.captures) {
        c.name = body.str<std::uint16_t>("capture name");
        at = body.offset();
        c.label = body.num<std::uint32_t>("capture label");
        if (c.label >= nclasses) body.fail(at, "capture label " + std::to_string(c.label) + " out of range");
        at = body.offset();
        c.vpn = body.num<std::int8_t>("capture vpn flag");
        if (c.vpn < -1 || c.vpn > 1) body.fail(at, "capture vpn flag " + std::to_string(c.vpn) + " (not -1, 0 or 1)");
        at = body.offset();
        const auto part = body.num<std::uint8_t>("capture split");
        if (part > 2) body.fail(at, "capture split " + std::to_string(part) + " (not 0, 1 or 2)");
        c.part = static_cast<split>(part);
    }
    if (version >= 2) set.label_map = body.str<std::uint32_t>("label map");
    if (nsamples > body.left() / 76) body.fail(40, "sample count " + std::to_string(nsamples) + " exceeds the file");
    if (npackets > body.left() / 2) body.fail(48, "packet count " + std::to_string(npackets) + " exceeds the file");
    set.samples.resize(static_cast<std::size_t>(nsamples));
    set.packets.reserve(static_cast<std::size_t>(npackets));
    set.pictures = picture::sparse_stack<float>(channels, height, width, background);
    const std::size_t plane = height * width;
    const std::size_t value_bytes = value_type == 1 ? 2 : 4;
    std::vector<std::uint32_t> cells;
    std::vector<float> values;
    for (std::size_t i = 0; i < set.samples.size(); ++i) {
        auto& s = set.samples[i];
        const std::string which = "sample " + std::to_string(i);
        at = body.offset();
        s.label = body.num<std::uint32_t>("sample label");
        if (s.label >= nclasses) body.fail(at, which + ": label " + std::to_string(s.label) + " out of range");
        at = body.offset();
        const auto part = body.num<std::uint8_t>("sample split");
        if (part > 2) body.fail(at, which + ": split " + std::to_string(part) + " (not 0, 1 or 2)");
        s.part = static_cast<split>(part);
        at = body.offset();
        s.capture = body.num<std::uint32_t>("sample capture");
        if (s.capture >= ncaptures) body.fail(at, which + ": capture " + std::to_string(s.capture) + " out of range");
        const auto& cap = set.captures[s.capture];
        if (cap.label != s.label) body.fail(at, which + ": its label differs from its capture's");
        if (cap.part != s.part) body.fail(at, which + ": its split differs from its capture's");
        s.key = d::read_key(body);
        at = body.offset();
        s.block_start_ns = body.num<std::int64_t>("block start");
        s.block_end_ns = body.num<std::int64_t>("block end");
        if (s.block_end_ns < s.block_start_ns) body.fail(at, which + ": block ends before it starts");
        at = body.offset();
        s.packets = body.num<std::uint32_t>("packet count");
        const auto ncells = body.num<std::uint32_t>("cell count");
        if (s.packets > body.left() / 2 || set.packets.size() + s.packets > npackets)
            body.fail(at, which + ": packet count " + std::to_string(s.packets) + " exceeds the file");
        if (ncells > plane || ncells > body.left() / (1 + value_bytes * channels))
            body.fail(at + 4, which + ": cell count " + std::to_string(ncells) + " exceeds the picture or the file");
        s.first_packet = set.packets.size();
        std::int64_t prev = s.block_start_ns;
        for (std::uint32_t k = 0; k < s.packets; ++k) {
            packet p;
            at = body.offset();
            p.time_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(prev) +
                                                  static_cast<std::uint64_t>(d::unzigzag(body.varint("packet time"))));
            at = body.offset();
            const auto sd = body.varint("packet size");
            if ((sd >> 1) > 0xffffffffULL) body.fail(at, which + ": packet size beyond 32 bits");
            p.size = static_cast<std::uint32_t>(sd >> 1);
            p.dir = (sd & 1) ? direction::reverse : direction::forward;
            set.packets.push_back(p);
            prev = p.time_ns;
        }
        cells.resize(ncells);
        std::uint64_t cell = 0;
        for (std::uint32_t k = 0; k < ncells; ++k) {
            at = body.offset();
            const auto delta = body.varint("cell");
            if (k > 0 && delta == 0) body.fail(at, which + ": cells not strictly increasing");
            cell = k == 0 ? delta : cell + delta;
            if (delta >= plane || cell >= plane) body.fail(at, which + ": cell index beyond the picture");
            cells[k] = static_cast<std::uint32_t>(cell);
        }
        values.resize(std::size_t{ncells} * channels);
        for (auto& v : values) {
            at = body.offset();
            v = value_type == 1 ? static_cast<float>(body.num<std::uint16_t>("cell value")) : body.num<float>("cell value");
            if (!std::isfinite(v)) body.fail(at, which + ": cell value is not finite");
        }
        set.pictures.push_back(picture::sparse_view<float>{channels, height, width, cells, values, background});
    }
    if (set.packets.size() != npackets)
        body.fail(48, "the samples hold " + std::to_string(set.packets.size()) + " packets, the header says " +
                          std::to_string(npackets));
    if (body.left() != 0) body.fail(body.offset(), "unexpected bytes after the last sample");
    if (o.verify_checksum) {
        auto sum = d::make_reader(data + (size - 8), 8, name);
        if (sum.num<std::uint64_t>("checksum") != binary::fnv1a(data, size - 8))
            r.fail(size - 8, "checksum mismatch: the dataset file is corrupt");
    }
    return set;
}

template <class Presets = presets::builtin>
picture_set read_dataset(const std::string& path, const dataset_read_options& o = {}) {
    // the magic and the declared size against the file's before the rest is read
    const binary::read_limits lim{.magic = std::string_view(dataset_magic, 8), .head = dataset_header_size};
    const auto bytes = binary::read_file(path, lim, [&](std::span<const std::uint8_t> head, std::uint64_t size) {
        if (head.size() < dataset_header_size) return;  // decode_dataset says it is truncated
        auto r = detail::fpd::make_reader(head.data(), head.size(), path);
        r.skip(56, "header");
        const auto declared = r.num<std::uint64_t>("file size");
        if (size != binary::read_limits::npos && declared != size)
            r.fail(std::min<std::uint64_t>(declared, size), "file size is " + std::to_string(size) +
                                                                " bytes, the header says " + std::to_string(declared) +
                                                                " (truncated or padded)");
    });
    return decode_dataset<Presets>(bytes.data(), bytes.size(), path, o);
}

}  // namespace flowpic::train
