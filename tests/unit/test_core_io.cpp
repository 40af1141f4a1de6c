// The shared codecs and buffers: core/binary_io.hpp (model and dataset files), core/npy.hpp
// (every .npy), cuda/growing_buffer.hpp (every growing CUDA buffer, here over host memory).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/cuda/growing_buffer.hpp"
#include "format_error_of.hpp"

using namespace flowpic;

namespace {

std::filesystem::path temp_file(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("flowpic_core_io_" + std::to_string(::getpid()) + "_" + name);
}

}  // namespace

TEST_CASE("binary writer and reader: little-endian numbers, varints, strings, checksum") {
    binary::writer w("test file");
    w.num(std::uint16_t{0x0102});
    w.num(-2.5f);
    w.varint(300);
    w.str<std::uint16_t>("abc");
    w.num(std::uint32_t{0});
    w.put<std::uint32_t>(w.size() - 4, 0xdeadbeef);
    const auto& d = w.data();
    REQUIRE(d.size() == 2 + 4 + 2 + 5 + 4);
    CHECK(d[0] == 0x02);
    CHECK(d[1] == 0x01);
    CHECK(d[6] == 0xac);  // 300 = 0b10'0101100
    CHECK(d[7] == 0x02);
    CHECK(d[d.size() - 4] == 0xef);
    const std::uint64_t sum = binary::fnv1a(d.data(), d.size());
    w.checksum();
    const auto bytes = w.release();

    binary::reader r(bytes, "f.bin", "test file");
    CHECK(r.num<std::uint16_t>("a") == 0x0102);
    CHECK(r.num<float>("b") == -2.5f);
    CHECK(r.varint("c") == 300);
    CHECK(r.str<std::uint16_t>("d") == "abc");
    CHECK(r.num<std::uint32_t>("e") == 0xdeadbeef);
    CHECK(r.num<std::uint64_t>("sum") == sum);
    CHECK(r.left() == 0);
    CHECK(binary::fnv1a("", 0) == 0xcbf29ce484222325ULL);
}

TEST_CASE("binary reader: truncation names the file, the offset and the field") {
    const std::vector<std::uint8_t> bytes{1, 2, 3};
    binary::reader a(bytes, "m.fpm", "model file");
    a.num<std::uint16_t>("x");
    CHECK(test::format_error_of([&] { a.num<std::uint32_t>("class count"); }) ==
          "m.fpm: byte offset 2: truncated model file: class count runs past the end");
    binary::reader b(bytes, "d.fpd", "dataset file", binary::reader::truncation::counted_bytes);
    CHECK(test::format_error_of([&] { b.num<std::uint64_t>("header"); }) ==
          "d.fpd: byte offset 0: truncated dataset file: header needs 8 bytes, 3 left");
    const std::vector<std::uint8_t> v{0x80, 0x80};
    binary::reader c(v, "d.fpd", "dataset file", binary::reader::truncation::counted_bytes);
    CHECK(test::format_error_of([&] { c.varint("cell"); }) == "d.fpd: byte offset 0: truncated dataset file: cell runs past the end");
    binary::writer w("dataset file");
    CHECK_THROWS_AS(w.str<std::uint16_t>(std::string(70000, 'x')), std::invalid_argument);
}

TEST_CASE("npy: numpy's header, exact and converting reads, errors with offsets") {
    const std::vector<std::size_t> shape{2, 3};
    const std::string h = npy::encode_header("<f4", shape);
    CHECK(h.size() % 64 == 0);
    CHECK(h.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    CHECK(h.find("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") == 10);
    CHECK(h.back() == '\n');
    CHECK(npy::encode_header("|u1", std::vector<std::size_t>{5}).find("'shape': (5,), }") != std::string::npos);
    CHECK(npy::descr<std::uint8_t>() == "|u1");
    CHECK(npy::descr<std::int64_t>() == "<i8");
    CHECK(npy::descr<double>() == "<f8");

    const auto p = temp_file("a.npy").string();
    const std::uint16_t v[6] = {0, 1, 2, 300, 65535, 7};
    npy::save(p, shape, v);
    const auto exact = npy::load<std::uint16_t>(p);
    CHECK(exact.shape == shape);
    CHECK(exact.dtype == "<u2");
    CHECK(exact.data == std::vector<std::uint16_t>(v, v + 6));
    const auto f = npy::load_as<float>(p);
    CHECK(f.data == std::vector<float>{0, 1, 2, 300, 65535, 7});
    CHECK(test::format_error_of([&] { npy::load<float>(p); }).find("element type <u2, expected <f4") != std::string::npos);
    {
        std::ofstream cut(p, std::ios::binary | std::ios::trunc);
        cut.write(h.data(), static_cast<std::streamsize>(h.size()));
        cut.write("abc", 3);
    }
    CHECK(test::format_error_of([&] { npy::load_as<float>(p); }) ==
          p + ": byte offset " + std::to_string(h.size() + 3) + ": the header promises 24 data bytes, the file holds 3");
    std::filesystem::remove(p);
    CHECK_THROWS_AS(npy::load_as<float>(p), io_error);
}

namespace {

// Host memory that counts what it hands out.
struct counting_memory {
    int* live = nullptr;
    int allocate(void** p, std::size_t bytes) {
        if (bytes > (1u << 30)) return 2;
        *p = std::malloc(bytes);
        ++*live;
        return 0;
    }
    void release(void* p) noexcept {
        std::free(p);
        --*live;
    }
};

}  // namespace

TEST_CASE("growing buffer: grows by half at least, in pages, keeps what is large enough, reports failures") {
    CHECK(cuda::grown_capacity(0, 1) == 4096);
    CHECK(cuda::grown_capacity(4096, 5000) == 8192);
    CHECK(cuda::grown_capacity(40960, 41000) == 61440);
    int live = 0;
    {
        cuda::growing_buffer<counting_memory> b(counting_memory{&live});
        CHECK(b.reserve(0) == 0);
        CHECK(b.data() != nullptr);
        CHECK(b.capacity() == 4096);
        void* first = b.data();
        CHECK(b.reserve(4000) == 0);
        CHECK(b.data() == first);
        CHECK(b.reserve(10'000) == 0);
        CHECK(b.capacity() == 12288);
        CHECK(live == 1);
        CHECK(b.reserve(std::size_t{1} << 31) == 2);
        CHECK(b.data() == nullptr);
        CHECK(live == 0);
        CHECK(b.reserve(1) == 0);
        auto moved = std::move(b);
        CHECK(b.data() == nullptr);
        CHECK(moved.capacity() == 4096);
        CHECK(live == 1);
    }
    CHECK(live == 0);
}
