// Picture output and workload input: .npy round trips and bad files, PNG checked with zlib's own
// inflate and CRC (loaded at run time, so nothing links against it), FLOWPIC1 parsing and errors.
#include <doctest/doctest.h>
#include <png.h>

#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/picture/npy.hpp"
#include "flowpic/picture/png.hpp"
#include "flowpic/picture/svg.hpp"
#include "flowpic/train/confusion_svg.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/flowpic1.hpp"

using namespace flowpic;
namespace pic = flowpic::picture;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
    const fs::path d = fs::temp_directory_path() / ("flowpic_test_picture_io_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
}

std::vector<unsigned char> read_all(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_all(const fs::path& p, const std::vector<unsigned char>& d) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(d.data()), static_cast<std::streamsize>(d.size()));
}

template <class T>
void put(std::vector<unsigned char>& v, T x) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &x, sizeof(T));
    v.insert(v.end(), b, b + sizeof(T));
}

// zlib, found at run time: the independent decoder of our PNG encoder's output.
struct zlib_api {
    void* h = nullptr;
    int (*uncompress)(unsigned char*, unsigned long*, const unsigned char*, unsigned long) = nullptr;
    unsigned long (*crc32)(unsigned long, const unsigned char*, unsigned) = nullptr;
    zlib_api() {
        h = dlopen("libz.so.1", RTLD_NOW);
        if (!h) return;
        uncompress = reinterpret_cast<decltype(uncompress)>(dlsym(h, "uncompress"));
        crc32 = reinterpret_cast<decltype(crc32)>(dlsym(h, "crc32"));
    }
    ~zlib_api() {
        if (h) dlclose(h);
    }
    explicit operator bool() const { return uncompress && crc32; }
};

std::uint32_t be32(const unsigned char* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

}  // namespace

TEST_CASE("npy: one picture, a stack and a sparse stack round-trip, and bad files are format errors") {
    const auto dir = temp_dir();
    const std::int64_t t0 = 1'600'000'000'000'000'000;
    std::vector<packet> pk;
    for (int i = 0; i < 500; ++i) pk.push_back({t0 + i * 100'000'000LL, static_cast<std::uint32_t>((i * 97) % 1500), direction(i & 1)});
    const blocks::block b{nullptr, pk, t0, t0 + 60'000'000'000, 0};

    pic::maker<presets::network_stats::picture> m3;
    const auto d3 = m3.dense(b);
    pic::save_npy((dir / "a3.npy").string(), d3);
    CHECK((pic::load_npy_picture<float>((dir / "a3.npy").string()) == d3));
    const auto raw = flowpic::npy::load<float>((dir / "a3.npy").string());
    CHECK(raw.shape == std::vector<std::size_t>{2, 1500, 1500});

    pic::maker<presets::mini_flowpic::picture> m2;
    const auto d2 = m2.dense(b);
    pic::save_npy((dir / "a2.npy").string(), d2);
    const auto r2 = flowpic::npy::load<float>((dir / "a2.npy").string());
    CHECK(r2.shape == std::vector<std::size_t>{32, 32});  // one channel: (H, W)
    const auto bytes = read_all(dir / "a2.npy");
    const std::string header(bytes.begin() + 10, bytes.begin() + 10 + 60);
    CHECK(header.find("'descr': '<f4'") != std::string::npos);
    CHECK(header.find("'shape': (32, 32)") != std::string::npos);

    std::vector<pic::dense_picture<float>> stack{d2, d2, pic::dense_picture<float>(1, 32, 32)};
    pic::save_npy((dir / "stack.npy").string(), std::span<const pic::dense_picture<float>>(stack));
    const auto rs = flowpic::npy::load<float>((dir / "stack.npy").string());
    CHECK(rs.shape == std::vector<std::size_t>{3, 1, 32, 32});
    CHECK(std::equal(d2.data.begin(), d2.data.end(), rs.data.begin() + 1024));

    pic::sparse_stack<float> ss;
    ss.push_back(m2.sparse(b));
    ss.push_back(m2.sparse(blocks::block{nullptr, {}, t0, t0 + 1, 0}));
    pic::save_npy((dir / "sparse.npy").string(), ss);
    const auto rss = flowpic::npy::load<float>((dir / "sparse.npy").string());
    CHECK(rss.shape == std::vector<std::size_t>{2, 1, 32, 32});
    CHECK(std::equal(d2.data.begin(), d2.data.end(), rss.data.begin()));

    // wrong element type, truncated data, not an .npy
    CHECK_THROWS_AS(flowpic::npy::load<double>((dir / "a2.npy").string()), format_error);
    REQUIRE(bytes.size() > 10);
    const std::vector<unsigned char> cut(bytes.begin(), bytes.end() - 10);
    write_all(dir / "cut.npy", cut);
    try {
        (void)flowpic::npy::load<float>((dir / "cut.npy").string());
        FAIL("truncated .npy accepted");
    } catch (const format_error& e) {
        CHECK(e.where().file == (dir / "cut.npy").string());
        CHECK(e.where().offset == cut.size());
    }
    write_all(dir / "junk.npy", {'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 0, 0});
    CHECK_THROWS_AS(flowpic::npy::load<float>((dir / "junk.npy").string()), format_error);
    write_all(dir / "empty.npy", {});
    CHECK_THROWS_AS(flowpic::npy::load<float>((dir / "empty.npy").string()), format_error);
    CHECK_THROWS_AS(pic::save_npy((dir / "no" / "such" / "dir.npy").string(), d2), io_error);
    fs::remove_all(dir);
}

TEST_CASE("png: zlib inflates our stream to the rows, CRCs match, grey levels follow log1p") {
    zlib_api z;
    if (!z) {
        MESSAGE("libz.so.1 not found: PNG decoding not checked");
        return;
    }
    pic::dense_picture<std::uint16_t> p(1, 40, 70);
    p.at(0, 0, 0) = 1;        // smallest size, first time: bottom left
    p.at(0, 39, 69) = 1000;   // largest size, last time: top right, black
    p.at(0, 10, 5) = 31;
    for (std::size_t c = 20; c < 60; ++c) p.at(0, 25, c) = 7;  // a run
    const auto img = pic::render_grey(p, false, 0, 3);
    CHECK(img.width == 210);
    CHECK(img.height == 120);
    CHECK(img.pixels[0 * 210 + 207] == 0);                                  // top right
    CHECK(img.pixels[119 * 210 + 0] == 255 - std::lround(255 * std::log1p(1.0) / std::log1p(1000.0)));
    CHECK(img.pixels[60 * 210 + 100] == 255);                               // empty
    const auto png = pic::encode_png(img);
    REQUIRE(png.size() > 8 + 25 + 12 + 12);
    CHECK(std::memcmp(png.data(), "\x89PNG\r\n\x1a\n", 8) == 0);
    std::size_t off = 8;
    std::vector<unsigned char> idat;
    std::vector<std::string> types;
    while (off + 12 <= png.size()) {
        const std::uint32_t len = be32(&png[off]);
        const std::string type(reinterpret_cast<const char*>(&png[off + 4]), 4);
        types.push_back(type);
        const unsigned long crc = z.crc32(0, &png[off + 4], len + 4);
        CHECK(crc == be32(&png[off + 8 + len]));
        if (type == "IHDR") {
            CHECK(be32(&png[off + 8]) == 210);
            CHECK(be32(&png[off + 12]) == 120);
            CHECK(png[off + 16] == 8);
            CHECK(png[off + 17] == 0);
        }
        if (type == "IDAT") idat.insert(idat.end(), png.begin() + static_cast<long>(off + 8), png.begin() + static_cast<long>(off + 8 + len));
        off += 12 + len;
    }
    CHECK(off == png.size());
    REQUIRE(types.size() >= 3);
    CHECK(types.front() == "IHDR");
    CHECK(types.back() == "IEND");
    // zlib inflates the IDAT stream to 120 rows of a filter byte + 210 pixels
    std::vector<unsigned char> raw(121 * 211 + 64);
    unsigned long raw_len = raw.size();
    REQUIRE(z.uncompress(raw.data(), &raw_len, idat.data(), idat.size()) == 0);
    CHECK(raw_len == 120 * 211);
    CHECK(idat.size() < raw_len / 10);  // a mostly white image compresses well
    // libpng's decoder gives back every pixel
    png_image im{};
    im.version = PNG_IMAGE_VERSION;
    REQUIRE(png_image_begin_read_from_memory(&im, png.data(), png.size()));
    im.format = PNG_FORMAT_GRAY;
    std::vector<std::uint8_t> decoded(PNG_IMAGE_SIZE(im));
    REQUIRE(png_image_finish_read(&im, nullptr, decoded.data(), 0, nullptr));
    CHECK(im.width == 210);
    CHECK(im.height == 120);
    CHECK(decoded == img.pixels);

    // a transposed picture (rows = time) is drawn the same way
    pic::dense_picture<std::uint16_t> t(1, 70, 40);
    for (std::size_t r = 0; r < 40; ++r)
        for (std::size_t c = 0; c < 70; ++c) t.at(0, c, r) = p.at(0, r, c);
    CHECK(pic::render_grey(t, true, 0, 3).pixels == img.pixels);
}

TEST_CASE("FLOWPIC1: a synthetic workload round-trips through the file format") {
    const auto w = source::flowpic1_workload::synthetic(50, 3);
    CHECK(w.block_count() == 50);
    CHECK(w.offsets().back() == w.packet_count());
    std::vector<unsigned char> f;
    f.insert(f.end(), {'F', 'L', 'O', 'W', 'P', 'I', 'C', '1'});
    put<std::uint32_t>(f, 1);
    put<std::uint32_t>(f, 50);
    put<std::uint64_t>(f, w.packet_count());
    put<double>(f, 60.0);
    put<double>(f, 1.6e9);
    put<std::uint32_t>(f, 3);
    put<std::uint32_t>(f, 0);
    for (std::size_t b = 0; b < 50; ++b)
        for (std::size_t i = w.offsets()[b]; i < w.offsets()[b + 1]; ++i) {
            const packet& p = w.packets()[i];
            put<std::uint32_t>(f, static_cast<std::uint32_t>(b));
            // whole seconds + nanoseconds as the float64 nearest to the packet's time
            put<double>(f, static_cast<double>(p.time_ns / 1'000'000'000) + static_cast<double>(p.time_ns % 1'000'000'000) * 1e-9);
            put<std::uint16_t>(f, static_cast<std::uint16_t>(p.size));
            put<std::uint8_t>(f, p.dir == direction::reverse ? 1 : 0);
        }
    f.insert(f.end(), w.labels().begin(), w.labels().end());
    const auto r = source::flowpic1_workload::from_bytes(f.data(), f.size(), "mem");
    REQUIRE(r.packet_count() == w.packet_count());
    CHECK(r.offsets() == w.offsets());
    CHECK(r.labels() == w.labels());
    std::size_t far = 0;
    for (std::size_t i = 0; i < r.packet_count(); ++i) {
        const auto d = r.packets()[i].time_ns - w.packets()[i].time_ns;
        far += (d > 256 || d < -256);  // float64 seconds near 1.6e9 resolve 238 ns
        CHECK(r.packets()[i].size == w.packets()[i].size);
        CHECK(r.packets()[i].dir == w.packets()[i].dir);
    }
    CHECK(far == 0);
    CHECK(r.block(7).window_start_ns == 1'600'000'420'000'000'000);
    CHECK(r.block(7).window_end_ns == 1'600'000'480'000'000'000);

    // as a packet source: one session per block, direction known
    const auto dir = temp_dir();
    write_all(dir / "w.bin", f);
    CHECK(source::is_flowpic1((dir / "w.bin").string()));
    source::flowpic1_file src((dir / "w.bin").string());
    keyed_packet kp;
    std::size_t n = 0;
    while (src.next(kp)) {
        CHECK(kp.direction_known);
        if (n == w.offsets()[1]) CHECK(kp.key.session == 1);
        ++n;
    }
    CHECK(n == w.packet_count());
    fs::remove_all(dir);
}

TEST_CASE("FLOWPIC1: malformed files name the byte offset") {
    std::vector<unsigned char> f{'F', 'L', 'O', 'W', 'P', 'I', 'C', '1'};
    put<std::uint32_t>(f, 1);
    put<std::uint32_t>(f, 2);   // blocks
    put<std::uint64_t>(f, 3);   // packets
    put<double>(f, 60.0);
    put<double>(f, 1.6e9);
    put<std::uint32_t>(f, 0);
    put<std::uint32_t>(f, 0);
    auto rec = [&](std::vector<unsigned char>& v, std::uint32_t b, double t, std::uint16_t s, std::uint8_t d) {
        put(v, b);
        put(v, t);
        put(v, s);
        put(v, d);
    };
    auto good = f;
    rec(good, 0, 1.6e9 + 1, 100, 0);
    rec(good, 0, 1.6e9 + 2, 1500, 1);
    rec(good, 1, 1.6e9 + 61, 40, 0);
    good.push_back(0);
    good.push_back(3);
    const auto ok = source::flowpic1_workload::from_bytes(good.data(), good.size());
    CHECK(ok.block(0).size() == 2);
    CHECK(ok.block(1).size() == 1);

    auto offset_of = [](std::vector<unsigned char> v) -> std::uint64_t {
        try {
            (void)source::flowpic1_workload::from_bytes(v.data(), v.size(), "bad.bin");
        } catch (const format_error& e) {
            CHECK(e.where().file == "bad.bin");
            CHECK(std::string(e.what()).find("bad.bin") != std::string::npos);
            return e.where().offset;
        }
        FAIL("accepted a malformed FLOWPIC1 file");
        return 0;
    };
    CHECK(offset_of({'F', 'L', 'O'}) == 3);
    auto v = good;
    v[0] = 'X';
    CHECK(offset_of(v) == 0);
    v = good;
    v[8] = 2;
    CHECK(offset_of(v) == 8);
    v = good;
    v.pop_back();
    CHECK(offset_of(v) == v.size());                    // ends early
    v = good;
    v.push_back(0);
    CHECK(offset_of(v) == good.size());                 // trailing bytes
    v = good;
    v[48 + 15] = 5;                                     // second record: block 5 of 2
    CHECK(offset_of(v) == 48 + 15);
    v = good;
    std::memcpy(&v[48 + 15 + 4], &good[48 + 4], 8);    // same time as record 0: fine
    CHECK(source::flowpic1_workload::from_bytes(v.data(), v.size()).packet_count() == 3);
    const double earlier = 1.6e9;
    std::memcpy(&v[48 + 15 + 4], &earlier, 8);          // time goes back within block 0
    CHECK(offset_of(v) == 48 + 15 + 4);
    v = good;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::memcpy(&v[48 + 4], &nan, 8);
    CHECK(offset_of(v) == 48 + 4);
    v = good;
    v[48 + 14] = 7;                                     // direction 7
    CHECK(offset_of(v) == 48 + 14);
    v = good;
    std::memcpy(&v[24], &nan, 8);                       // block_seconds
    CHECK(offset_of(v) == 24);
    v = good;
    v[12] = 0;                                          // 0 blocks: record 0's block id 0 >= 0
    v.resize(48 + 45);
    CHECK(offset_of(v) == 48);
    CHECK_THROWS_AS(source::flowpic1_workload("/nonexistent/flowpic1.bin"), io_error);
}

namespace {
std::vector<std::uint8_t> unbase64(const std::string& s) {
    std::vector<std::uint8_t> out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : s) {
        const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char* at = std::strchr(table, c);
        if (c == '=' || !at || !c) break;
        acc = (acc << 6) | static_cast<std::uint32_t>(at - table);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
        }
    }
    return out;
}
std::vector<std::uint8_t> decode_png(const std::vector<std::uint8_t>& png, std::size_t& w, std::size_t& h) {
    png_image im{};
    im.version = PNG_IMAGE_VERSION;
    REQUIRE(png_image_begin_read_from_memory(&im, png.data(), png.size()));
    im.format = PNG_FORMAT_GRAY;
    std::vector<std::uint8_t> px(PNG_IMAGE_SIZE(im));
    REQUIRE(png_image_finish_read(&im, nullptr, px.data(), 0, nullptr));
    w = im.width;
    h = im.height;
    return px;
}
std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}
}  // namespace

TEST_CASE("svg figure: the embedded PNG is the picture, shrunk keeping the darkest pixel, with axes, scale and title") {
    // 1500 x 1500 with three packets: shrunk by 4 (1500 -> 375), each packet still one dark pixel
    pic::dense_picture<std::uint16_t> p(1, 1500, 1500);
    p.at(0, 0, 0) = 1;
    p.at(0, 1499, 1499) = 9;
    p.at(0, 700, 3) = 2;
    pic::figure_labels l;
    l.title = "10.0.0.1:443 <-> \"x\" & y";
    l.time_span_s = 60;
    l.max_size = 1500;
    const std::string svg = pic::figure_svg(p, false, l);
    CHECK(svg.find("10.0.0.1:443 &lt;-&gt; &quot;x&quot; &amp; y") != std::string::npos);
    const auto b = svg.find("base64,");
    REQUIRE(b != std::string::npos);
    std::size_t w = 0, h = 0;
    const auto px = decode_png(unbase64(svg.substr(b + 7, svg.find('"', b) - b - 7)), w, h);
    CHECK(w == 375);
    CHECK(h == 375);
    const auto full = pic::render_grey(p, false, 0, 1, 8);  // 8 x 8 squares, 2 x 2 once shrunk
    CHECK(pic::shrink_darkest(full, 4).pixels == px);
    CHECK(px[0 * 375 + 374] == 0);                       // the busiest cell, top right, black
    CHECK(px[374 * 375 + 0] < 255);                       // one packet at the bottom left still shows
    CHECK(px[(374 - 700 / 4) * 375 + 0] < 255);           // and the one in the middle of the left edge
    std::size_t dark = 0;
    for (const auto v : px) dark += v < 255;
    CHECK(dark >= 3);
    CHECK(dark <= 3 * 9);  // each packet at most a 3 x 3 square
    // ticks every 10 s on 0..60 and every 200 bytes on 0..1500 (a fifth, 300, rounded to 1, 2 or 5 x 10^k)
    for (const char* t : {">0<", ">10<", ">60<", ">1400<"}) CHECK(svg.find(t) != std::string::npos);
    CHECK(svg.find("arrival time in the window (s)") != std::string::npos);
    CHECK(svg.find("packet size (bytes)") != std::string::npos);
    CHECK(svg.find(">9</text>") != std::string::npos);  // the colour scale ends at the maximum count
    CHECK(svg.find(">0.778</text>") != std::string::npos);  // expm1(log1p(9) / 4): marks even on the log scale
    CHECK(pic::svg::ticks(60) == std::vector<double>{0, 10, 20, 30, 40, 50, 60});
    CHECK(pic::svg::ticks(1500) == std::vector<double>{0, 200, 400, 600, 800, 1000, 1200, 1400});
    CHECK(pic::svg::base64({'M', 'a', 'n', 'y'}) == "TWFueQ==");

    // a 32 x 32 picture is scaled up (15 x), not shrunk
    pic::dense_picture<std::uint16_t> small(1, 32, 32);
    small.at(0, 3, 4) = 5;
    const std::string s2 = pic::figure_svg(small, false, l);
    const auto b2 = s2.find("base64,");
    const auto px2 = decode_png(unbase64(s2.substr(b2 + 7, s2.find('"', b2) - b2 - 7)), w, h);
    CHECK(w == 480);
    CHECK(px2 == pic::render_grey(small, false, 0, 15).pixels);
}

TEST_CASE("svg confusion matrix: names on both axes, counts, row shares and recall") {
    train::classification_report r;
    r.classes = 3;
    r.samples = 10;
    r.confusion = {4, 1, 0,   // video: 4 of 5 right
                   0, 3, 0,   // chat
                   0, 0, 2};
    r.accuracy = 0.9;
    r.macro_f1 = 0.9;
    const std::string s = train::confusion_svg(r, {"video", "chat", "voip & co"}, "t");
    CHECK(count(s, ">video<") == 2);
    CHECK(count(s, ">voip &amp; co<") == 2);
    CHECK(s.find(">80 %<") != std::string::npos);
    CHECK(s.find(">20 %<") != std::string::npos);
    CHECK(count(s, ">100 %<") == 4);  // chat and voip cells, and their recall
    CHECK(s.find("#333333") != std::string::npos);  // 80 %: grey 51
    CHECK(s.find("10 samples, accuracy 90.0 %") != std::string::npos);
    CHECK_THROWS_AS((void)train::confusion_svg(r, {"a", "b"}), std::invalid_argument);
}
