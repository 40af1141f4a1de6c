// Inputs that must not turn into wrong output: every flipped byte and truncation of a model, NaN
// and out-of-range values, forged headers, .npy headers numpy would not write, huge and endless
// files, pipes and directories given as captures, time going backwards within a flow, and
// limits that cut windows (issues 19 and 20).
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/nn/sequential.hpp"
#include "flowpic/nn/weights_npy.hpp"
#include "flowpic/picture/npy.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "format_error_of.hpp"

using namespace flowpic;

namespace {

std::string temp_path(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "flowpic_test_hostile";
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

void write_bytes(const std::string& p, const std::vector<std::uint8_t>& d) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(d.data()), static_cast<std::streamsize>(d.size()));
}

void write_text(const std::string& p, const std::string& s) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << s;
}

// A sparse file of `size` zero bytes (no disk used), optionally starting with `head`.
void sparse_file(const std::string& p, std::uint64_t size, const std::vector<std::uint8_t>& head = {}) {
    write_bytes(p, head);
    std::filesystem::resize_file(p, size);
}

using tiny_net = nn::sequential<nn::input<1, 3, 3>, nn::flatten, nn::dense<2>, nn::softmax>;

std::vector<std::uint8_t> tiny_model(const std::string& path) {
    tiny_net net(nn::init_scheme::glorot_uniform, 1);
    nn::save_model(path, net, "tiny", {"a", "b"}, {{"k", "v"}});
    return binary::read_file(path);
}

// The bytes with a new checksum: a forged file that passes the checksum.
std::vector<std::uint8_t> resum(std::vector<std::uint8_t> d) {
    d.resize(d.size() - 8);
    binary::writer w("model file");
    w.bytes(d.data(), d.size());
    w.checksum();
    return w.release();
}

std::string any_error_of(const auto& f) {
    try {
        f();
    } catch (const flowpic::error& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("every flipped byte and every truncation of a model file is an error naming the file") {
    const auto path = temp_path("tiny.fpm");
    const auto good = tiny_model(path);
    tiny_net net;
    CHECK(nn::load_model(std::span<const std::uint8_t>(good), "tiny.fpm", net).classes.size() == 2);
    for (std::size_t i = 0; i < good.size(); ++i) {
        auto d = good;
        d[i] = static_cast<std::uint8_t>(d[i] ^ 0xff);
        const auto msg = test::format_error_of([&] { nn::load_model(std::span<const std::uint8_t>(d), "tiny.fpm", net); });
        INFO("byte " << i << ": " << msg);
        CHECK(msg.rfind("tiny.fpm: byte offset ", 0) == 0);
    }
    for (std::size_t n = 0; n < good.size(); ++n) {
        const std::span<const std::uint8_t> cut(good.data(), n);
        const auto msg = test::format_error_of([&] { nn::load_model(cut, "tiny.fpm", net); });
        INFO("cut to " << n << ": " << msg);
        CHECK(msg.rfind("tiny.fpm: byte offset ", 0) == 0);
    }
}

TEST_CASE("a model with a NaN, an infinite or an absurd weight is refused with the tensor and offset") {
    const auto path = temp_path("nan.fpm");
    const auto good = tiny_model(path);
    tiny_net net;
    const std::size_t last = good.size() - 8 - 4;  // the last value: 1.bias[1]... of the dense layer
    for (const float v : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 1e30f}) {
        auto d = good;
        std::memcpy(d.data() + last, &v, 4);
        d = resum(d);
        const auto msg = test::format_error_of([&] { nn::load_model(std::span<const std::uint8_t>(d), "nan.fpm", net); });
        INFO(msg);
        CHECK(msg.find("nan.fpm: byte offset " + std::to_string(last) + ": tensor '0.bias' value 1 ") == 0);
        CHECK(msg.find(std::isnan(v) ? "not finite (nan)" : std::isinf(v) ? "not finite (inf)" : "beyond") != std::string::npos);
    }
}

TEST_CASE("a forged model header names the file and the field") {
    nn::networks::mini_flowpic<3> net;
    const auto unknown = temp_path("forged_preset.fpm");
    nn::save_model(unknown, net, "no_such_preset", {"a", "b", "c"});
    auto info = nn::read_model_info(unknown);
    auto msg = any_error_of([&] { presets::check_header(info, unknown); });
    CHECK(msg.find("forged_preset.fpm: byte offset 16: preset field: unknown preset 'no_such_preset'") != std::string::npos);
    const auto one = temp_path("forged_classes.fpm");
    nn::save_model(one, net, "mini_flowpic", {"a"});
    info = nn::read_model_info(one);
    msg = any_error_of([&] { presets::check_header(info, one); });
    CHECK(msg.find("forged_classes.fpm: byte offset " + std::to_string(info.classes_offset) +
                   ": class count field: network mini_flowpic is built for 2 to 10 classes, not 1") != std::string::npos);
    // a class count of zero, and one beyond the file
    auto d = binary::read_file(one);
    for (const std::uint32_t n : {0u, 0x7fffffffu}) {
        std::memcpy(d.data() + info.classes_offset, &n, 4);
        d = resum(d);
        msg = test::format_error_of([&] { nn::read_model_info(d, "forged.fpm"); });
        CHECK(msg.find("forged.fpm: byte offset " + std::to_string(info.classes_offset) + ": class count " +
                       std::to_string(n) + " is impossible") == 0);
    }
}

TEST_CASE("loaders refuse huge, endless and directory inputs by their first bytes") {
    tiny_net net;
    const auto zeros = temp_path("zeros4g.fpm");
    sparse_file(zeros, std::uint64_t{4} << 30);  // 4 GiB of zeros: only its head may be read
    auto msg = test::format_error_of([&] { nn::load_model(zeros, net); });
    CHECK(msg == zeros + ": byte offset 0: not a flowpic model file (bad magic)");
    msg = test::format_error_of([&] { train::read_dataset(zeros); });
    CHECK(msg == zeros + ": byte offset 0: not a flowpic dataset file (bad magic)");
    std::filesystem::remove(zeros);
    if (std::filesystem::exists("/dev/zero")) {
        CHECK(test::format_error_of([&] { nn::load_model("/dev/zero", net); }) ==
              "/dev/zero: byte offset 0: not a flowpic model file (bad magic)");
        CHECK(test::format_error_of([&] { train::read_dataset("/dev/zero"); }) ==
              "/dev/zero: byte offset 0: not a flowpic dataset file (bad magic)");
        CHECK_THROWS_WITH_AS(npy::load_as<float>("/dev/zero"), doctest::Contains("/dev/zero: not a regular file"), io_error);
    }
    // a dataset header whose declared size is not the file's: refused before the rest is read
    const auto big = temp_path("big.fpd");
    std::vector<std::uint8_t> head(train::dataset_header_size, 0);
    std::memcpy(head.data(), train::dataset_magic, 8);
    head[56] = 100;
    sparse_file(big, std::uint64_t{4} << 30, head);
    CHECK(test::format_error_of([&] { train::read_dataset(big); }) ==
          big + ": byte offset 100: file size is 4294967296 bytes, the header says 100 (truncated or padded)");
    std::filesystem::remove(big);
    const auto dir = temp_path("a_directory");
    std::filesystem::create_directories(dir);
    CHECK_THROWS_WITH_AS(nn::load_model(dir, net), (dir + ": is a directory, not a file").c_str(), io_error);
    CHECK_THROWS_WITH_AS(npy::load_as<float>(dir), (dir + ": is a directory, not an .npy file").c_str(), io_error);
    CHECK_THROWS_WITH_AS(source::visit_file(dir, [](auto&) {}), (dir + ": is a directory, not a capture file").c_str(),
                         io_error);
}

TEST_CASE(".npy headers: only what numpy writes, and finite values") {
    const auto p = temp_path("h.npy");
    const auto with_header = [&](const std::string& dict, const std::vector<float>& values) {
        std::string h = dict;
        h.append(64 - (10 + h.size() + 1) % 64, ' ');
        h += '\n';
        std::string out = std::string("\x93NUMPY\x01\x00", 8);
        out += static_cast<char>(h.size() & 0xff);
        out += static_cast<char>(h.size() >> 8);
        out += h;
        out.append(reinterpret_cast<const char*>(values.data()), values.size() * 4);
        write_text(p, out);
    };
    const std::vector<float> two{1.0f, 2.0f};
    // what numpy writes, and what numpy also reads
    for (const char* ok : {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
                           "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
                           "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": ( 2 , ) }"}) {
        with_header(ok, two);
        INFO(ok);
        CHECK(npy::load_as<float>(p).data == two);
    }
    const std::pair<const char*, const char*> bad[] = {
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", "'fortran_order' is True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", "expected"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "expected"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", "'shape' is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", "unexpected key 'x'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "key 'descr' twice"},
        {"{'descr': '<f4', 'shape': (2,)}", "has no 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "bytes after the dict"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", "malformed"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", "a dimension expected"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}", "Fortran-ordered"},
    };
    for (const auto& [dict, why] : bad) {
        with_header(dict, two);
        const auto msg = test::format_error_of([&] { npy::load_as<float>(p); });
        INFO(dict << " -> " << msg);
        CHECK(msg.rfind(p + ": byte offset ", 0) == 0);
        CHECK(msg.find(why) != std::string::npos);
    }
    with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", {1.0f, std::nanf("")});
    const auto at = std::filesystem::file_size(p) - 4;
    CHECK(test::format_error_of([&] { npy::load_as<float>(p); }) ==
          p + ": byte offset " + std::to_string(at) + ": value 1 is not finite (nan)");
    with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", {1.0f, 3e9f});
    CHECK(test::format_error_of([&] { picture::load_npy_picture<float>(p); }).find("picture value 1 = 3e+09 is beyond") !=
          std::string::npos);
}

TEST_CASE("import_weights refuses a NaN tensor and names its file") {
    nn::networks::mini_flowpic<3> a(nn::init_scheme::kaiming_uniform, 1);
    const auto dir = temp_path("nan_weights");
    std::filesystem::remove_all(dir);
    nn::export_weights(a, dir);
    std::vector<float> bias(3, 0.0f);
    bias[2] = std::nanf("");
    npy::save(dir + "/4.bias.npy", {3}, bias.data());
    nn::networks::mini_flowpic<3> b;
    const auto msg = test::format_error_of([&] { nn::import_weights(b, dir); });
    CHECK(msg.find("4.bias.npy: byte offset ") != std::string::npos);
    CHECK(msg.find("value 2 is not finite (nan)") != std::string::npos);
    bias[2] = 1e5f;
    npy::save(dir + "/4.bias.npy", {3}, bias.data());
    CHECK(test::format_error_of([&] { nn::import_weights(b, dir); }).find("4.bias.npy: value 2 = 100000 is beyond") !=
          std::string::npos);
}

TEST_CASE("a capture through a FIFO is read once; its errors name the FIFO") {
    const auto sample = std::filesystem::path(FLOWPIC_SOURCE_DIR) / "data/sample/sample.pcap";
    REQUIRE(std::filesystem::exists(sample));
    const auto fifo = temp_path("capture.fifo");
    std::filesystem::remove(fifo);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto count = [](const std::string& path) {
        std::size_t n = 0;
        source::visit_file(path, [&](auto& src) {
            keyed_packet kp;
            while (src.next(kp)) ++n;
        });
        return n;
    };
    const auto feed = [&](const std::string& bytes) {
        return std::thread([fifo, bytes] {
            std::ofstream out(fifo, std::ios::binary);
            out << bytes;
        });
    };
    std::ifstream in(sample, std::ios::binary);
    const std::string pcap((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto writer = feed(pcap);
    const std::size_t through_fifo = count(fifo);
    writer.join();
    CHECK(through_fifo > 0);
    CHECK(through_fifo == count(sample.string()));
    writer = feed("hello\n");  // no format: the error names the FIFO, not the temporary copy
    const auto msg = any_error_of([&] { count(fifo); });
    writer.join();
    CHECK(msg.rfind(fifo + ":", 0) == 0);
    std::filesystem::remove(fifo);
}

TEST_CASE("time going backwards within a flow: counted, first is the earliest, late packets left out") {
    flow_key k;
    k.sport = 1;
    const auto at = [&](std::int64_t s) {
        keyed_packet kp;
        kp.key = k;
        kp.pkt.time_ns = s * 1'000'000'000;
        kp.pkt.size = 100;
        return kp;
    };
    blocks::window_spec w;
    w.length_ns = 10'000'000'000;
    blocks::windowed_table<flows::unidirectional> table({}, w);
    std::vector<std::size_t> sizes;
    std::vector<flows::flow> ended;
    flows::callback_sink out{[&](const blocks::block& b) { sizes.push_back(b.packets.size()); },
                             [&](const flows::flow& f, flows::end_reason) { ended.push_back(f); }};
    // 100, 105 (window 0 = [100, 110)), 103 (back in time, in the open window: kept), 99 (before
    // every window: late), 112 (closes window 0), 101 (window 0 handed out: late), 125
    for (const std::int64_t s : {100, 105, 103, 99, 112, 101, 125}) table.add(at(s), out);
    table.finish(out);
    CHECK(table.stats().backwards == 3);
    CHECK(table.stage().stats().late_packets == 2);
    REQUIRE(ended.size() == 1);
    CHECK(ended[0].packets == 7);
    CHECK(ended[0].first_ns == 99'000'000'000);
    CHECK(ended[0].last_ns == 125'000'000'000);
    CHECK(sizes == std::vector<std::size_t>{3, 1});  // [100, 110): 100, 103, 105; [110, 120): 112
}

TEST_CASE("windows cut short by an eviction are counted, by limit") {
    blocks::window_spec w;
    w.length_ns = 60'000'000'000;
    flows::limits lim;
    lim.max_packets = 10;
    blocks::windowed_table<flows::unidirectional> table(lim, w);
    std::size_t blocks_seen = 0;
    flows::callback_sink out{[&](const blocks::block&) { ++blocks_seen; }, flows::ignore{}};
    flow_key k;
    for (std::int64_t i = 0; i < 100; ++i) {  // one flow of 100 packets in 1 s: evicted every 11 packets
        keyed_packet kp;
        kp.key = k;
        kp.pkt.time_ns = i * 10'000'000;
        kp.pkt.size = 100;
        table.add(kp, out);
    }
    table.finish(out);
    CHECK(blocks_seen == 0);
    CHECK(table.stats().evicted_max_packets == 9);
    CHECK(table.stats().evicted_max_flows == 0);
    CHECK(table.stage().stats().evicted_windows == 9);
    CHECK(table.stage().stats().evicted_packets == 99);
}
