// Model files and weight directories: round trips, and every way a file can be wrong (other
// architecture, truncation at any length, a flipped byte, bad magic or version) ending in a
// flowpic::format_error that names the file and offset, never a crash.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "flowpic/nn/model_file.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/nn/weights_npy.hpp"
#include "format_error_of.hpp"

using namespace flowpic;
using namespace flowpic::nn;

namespace {

std::string temp_path(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "flowpic_test_nn";
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

std::vector<char> read_all(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& p, const std::vector<char>& d) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(d.data(), static_cast<std::streamsize>(d.size()));
}

using small_net = networks::mini_flowpic<3>;

}  // namespace

TEST_CASE("model file round trip: parameters, classes and predictions") {
    small_net a(init_scheme::kaiming_uniform, 1);
    const auto path = temp_path("round_trip.fpm");
    save_model(path, a, "mini_flowpic", {"youtube", "bilibili", "twitch"});
    const auto info = read_model_info(path);
    CHECK(info.preset == "mini_flowpic");
    CHECK(info.signature == small_net::signature());
    CHECK(info.classes == std::vector<std::string>{"youtube", "bilibili", "twitch"});
    small_net b;
    load_model(path, b);
    CHECK(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
    std::vector<float> x(small_net::input_shape.size(), 0.5f), pa(3), pb(3);
    a.predict(x.data(), 1, pa.data());
    b.predict(x.data(), 1, pb.data());
    CHECK(pa == pb);
}

TEST_CASE("a model file refuses another architecture") {
    networks::mini_flowpic<4> four(init_scheme::glorot_uniform, 2);
    const auto path = temp_path("four.fpm");
    save_model(path, four, "mini_flowpic", {"a", "b", "c", "d"});
    small_net three;
    const auto msg = test::format_error_of([&] { load_model(path, three); });
    CHECK(msg.find("four.fpm") != std::string::npos);
    CHECK(msg.find("different network") != std::string::npos);
    CHECK(msg.find("dense(4)") != std::string::npos);
    networks::mini_flowpic<4, 64> wider;
    CHECK(!test::format_error_of([&] { load_model(path, wider); }).empty());
}

TEST_CASE("truncated, corrupt and foreign model files are format errors with an offset") {
    small_net a(init_scheme::kaiming_uniform, 3);
    const auto path = temp_path("good.fpm");
    save_model(path, a, "mini_flowpic", {"x", "y", "z"});
    const auto good = read_all(path);
    const auto bad = temp_path("bad.fpm");
    small_net b;
    // every truncation length near the ends and a sample in between
    std::vector<std::size_t> cuts;
    for (std::size_t i = 0; i < 64; ++i) cuts.push_back(i);
    for (std::size_t i = 64; i < good.size(); i += good.size() / 97 + 1) cuts.push_back(i);
    for (std::size_t i = good.size() - 16; i < good.size(); ++i) cuts.push_back(i);
    for (auto n : cuts) {
        write_all(bad, std::vector<char>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
        const auto msg = test::format_error_of([&] { load_model(bad, b); });
        INFO("truncated to " << n << " bytes: " << msg);
        CHECK(msg.find("bad.fpm") != std::string::npos);
        CHECK(msg.find("byte offset") != std::string::npos);
    }
    for (std::size_t at : {std::size_t{20}, good.size() / 2, good.size() - 9, good.size() - 1}) {
        auto d = good;
        d[at] = static_cast<char>(d[at] ^ 0x40);
        write_all(bad, d);
        const auto msg = test::format_error_of([&] { load_model(bad, b); });
        INFO("flipped byte " << at << ": " << msg);
        CHECK(msg.find("checksum") != std::string::npos);
    }
    auto d = good;
    d[0] = 'X';
    write_all(bad, d);
    CHECK(test::format_error_of([&] { load_model(bad, b); }).find("bad magic") != std::string::npos);
    d = good;
    d[8] = 9;
    write_all(bad, d);
    CHECK(test::format_error_of([&] { load_model(bad, b); }).find("version 9") != std::string::npos);
    CHECK_THROWS_AS(load_model(temp_path("does_not_exist.fpm"), b), io_error);
}

TEST_CASE("weight directories: PyTorch layout round trip and shape checks") {
    networks::shapira2019<5, 100> a(init_scheme::kaiming_uniform, 4);
    const auto dir = temp_path("weights");
    std::filesystem::remove_all(dir);
    export_weights(a, dir);
    const auto w0 = flowpic::npy::load_as<float>(dir + "/0.weight.npy");
    CHECK(w0.dtype == "<f4");
    CHECK(w0.shape == std::vector<std::size_t>{10, 1, 10, 10});
    CHECK(flowpic::npy::load_as<float>(dir + "/3.bias.npy").shape == std::vector<std::size_t>{5});
    CHECK(w0.data[7] == a.params()[7]);
    networks::shapira2019<5, 100> b;
    import_weights(b, dir);
    CHECK(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
    // a dense weight of the wrong shape
    std::vector<float> z(7 * 64, 0.0f);
    flowpic::npy::save(dir + "/3.weight.npy", {7, 64}, z.data());
    const auto msg = test::format_error_of([&] { import_weights(b, dir); });
    CHECK(msg.find("3.weight.npy") != std::string::npos);
    CHECK(msg.find("PyTorch layout") != std::string::npos);
    std::filesystem::remove(dir + "/3.weight.npy");
    CHECK_THROWS_AS(import_weights(b, dir), io_error);
}

TEST_CASE(".npy reading: element types, and malformed files") {
    const auto p = temp_path("u2.npy");
    {
        // a little uint16 array written by hand, as numpy.save writes it
        std::string h = "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }";
        h.append((10 + h.size() + 1 + 63) / 64 * 64 - 10 - h.size() - 1, ' ');
        h += '\n';
        std::ofstream f(p, std::ios::binary);
        f.write("\x93NUMPY\x01\x00", 8);
        const char len[2] = {static_cast<char>(h.size()), 0};
        f.write(len, 2);
        f << h;
        const std::uint16_t v[6] = {0, 1, 2, 300, 65535, 7};
        f.write(reinterpret_cast<const char*>(v), sizeof v);
    }
    const auto t = flowpic::npy::load_as<float>(p);
    CHECK(t.shape == std::vector<std::size_t>{2, 3});
    CHECK(t.data == std::vector<float>{0, 1, 2, 300, 65535, 7});
    auto d = read_all(p);
    d.resize(d.size() - 3);
    write_all(p, d);
    const auto msg = test::format_error_of([&] { flowpic::npy::load_as<float>(p); });
    CHECK(msg.find("u2.npy: byte offset") != std::string::npos);
    write_all(p, std::vector<char>{'n', 'o', 't'});
    CHECK(test::format_error_of([&] { flowpic::npy::load_as<float>(p); }).find("bad magic") != std::string::npos);
}
