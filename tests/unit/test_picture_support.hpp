#pragma once
// Shared by the picture tests: the numpy fixtures of tests/fixtures/pictures (made by
// scripts/make_picture_fixtures.py) and the histogram policy of each fixture variant.

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "flowpic/blocks/block.hpp"
#include "flowpic/flows/flow.hpp"
#include "flowpic/picture/histogram.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/picture/npy.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/picture/sparse_picture.hpp"
#include "picture_compare.hpp"
#include "test_histograms.hpp"
#include "shared_data.hpp"

namespace flowpic::test {

namespace pic = flowpic::picture;

template <class F>
void visit_variant(const std::string& name, F&& f) {
    if (name == "a1") f(std::type_identity<a1>{});
    else if (name == "a1_tps60") f(std::type_identity<a1_tps60>{});
    else if (name == "a1_log1p") f(std::type_identity<a1_log1p>{});
    else if (name == "a1_bydir") f(std::type_identity<a1_bydir>{});
    else if (name == "a2_32") f(std::type_identity<a2_32>{});
    else if (name == "a2_64") f(std::type_identity<a2_64>{});
    else if (name == "a2_1500") f(std::type_identity<a2_1500>{});
    else if (name == "a3") f(std::type_identity<a3>{});
    else if (name == "a3_f32") f(std::type_identity<a3_f32>{});
    else FAIL("unknown fixture variant " << name);
}

inline std::vector<std::string> split_csv_line(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (char c : line) {
        if (c == '\r') continue;
        if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) out.emplace_back();
        else out.back() += c;
    }
    return out;
}

inline std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path);
    std::string line;
    std::getline(in, line);
    const auto header = split_csv_line(line);
    std::vector<std::map<std::string, std::string>> rows;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto v = split_csv_line(line);
        REQUIRE(v.size() == header.size());
        std::map<std::string, std::string> r;
        for (std::size_t i = 0; i < v.size(); ++i) r[header[i]] = v[i];
        rows.push_back(std::move(r));
    }
    return rows;
}

inline std::string fixture_dir() { return repo("tests/fixtures/pictures"); }

// One fixture block: its packets, its owner flow (for the session start) and the expected cells.
struct fixture_block {
    std::string name;
    std::vector<packet> packets;
    flows::flow owner;
    std::int64_t window_start_ns = 0, window_end_ns = 0;
    std::map<std::string, std::string> row;
    // variant id -> rows of (cell, value0, value1)
    std::map<int, std::vector<std::array<double, 3>>> expected;

    [[nodiscard]] blocks::block block() const {
        return blocks::block{&owner, std::span<const packet>(packets), window_start_ns, window_end_ns, 0};
    }
};


// numpy's recorded output, which may hold NaN where the reference divides by zero (npy::load
// refuses non-finite values, as a picture or weight must be finite): read as stored.
inline flowpic::npy::array<double> load_reference_f8(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    REQUIRE(f);
    f.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(f.tellg());
    f.seekg(0);
    const auto h = flowpic::npy::read_header(f, size, path);
    REQUIRE(h.descr == "<f8");
    std::size_t n = 1;
    for (const auto d : h.shape) n *= d;
    flowpic::npy::array<double> a;
    a.shape = h.shape;
    a.dtype = h.descr;
    a.data.resize(n);
    f.seekg(static_cast<std::streamoff>(h.data_offset));
    f.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(n * sizeof(double)));
    REQUIRE(f);
    return a;
}

inline std::vector<fixture_block> load_fixture_blocks() {
    std::vector<fixture_block> out;
    for (const auto& r : read_csv(fixture_dir() + "/blocks.csv")) {
        fixture_block b;
        b.name = r.at("name");
        b.row = r;
        b.owner.first_ns = std::stoll(r.at("session_start_ns"));
        b.window_start_ns = std::stoll(r.at("window_start_ns"));
        b.window_end_ns = std::stoll(r.at("window_end_ns"));
        const auto pk = flowpic::npy::load<std::int64_t>(fixture_dir() + "/" + b.name + ".packets.npy");
        const std::size_t n = pk.shape.empty() ? 0 : pk.shape[0];
        REQUIRE(n == std::stoull(r.at("packets")));
        for (std::size_t i = 0; i < n; ++i)
            b.packets.push_back(packet{pk.data[i * 3], static_cast<std::uint32_t>(pk.data[i * 3 + 1]),
                                       pk.data[i * 3 + 2] ? direction::reverse : direction::forward});
        if (n) b.owner.last_ns = b.packets.back().time_ns;
        const auto ex = load_reference_f8(fixture_dir() + "/" + b.name + ".expected.npy");
        const std::size_t rows = ex.shape.empty() ? 0 : ex.shape[0];
        for (std::size_t i = 0; i < rows; ++i)
            b.expected[static_cast<int>(ex.data[i * 4])].push_back({ex.data[i * 4 + 1], ex.data[i * 4 + 2], ex.data[i * 4 + 3]});
        out.push_back(std::move(b));
    }
    return out;
}

// Compares a sparse picture with a fixture's expected rows; returns the number of mismatches.
template <class T>
std::size_t compare_sparse(const pic::sparse_picture<T>& p, const std::vector<std::array<double, 3>>& ex) {
    std::size_t bad = 0;
    if (p.nnz() != ex.size()) {
        MESSAGE("non-zero cells: got " << p.nnz() << ", numpy " << ex.size());
        return 1 + (p.nnz() > ex.size() ? p.nnz() - ex.size() : ex.size() - p.nnz());
    }
    for (std::size_t i = 0; i < ex.size(); ++i) {
        bool ok = p.cells[i] == static_cast<std::uint32_t>(ex[i][0]);
        for (std::size_t c = 0; c < p.channels; ++c) ok = ok && same_bits(static_cast<double>(p.values[i * p.channels + c]), ex[i][1 + c]);
        if (!ok && bad++ < 5)
            MESSAGE("cell " << p.cells[i] << " value " << static_cast<double>(p.values[i * p.channels]) << " vs numpy cell "
                            << ex[i][0] << " value " << ex[i][1]);
    }
    return bad;
}

// The dense picture numpy's expected rows describe.
template <class T>
pic::dense_picture<T> expected_dense(const std::vector<std::array<double, 3>>& ex, std::size_t channels, std::size_t h,
                                     std::size_t w, std::span<const T> background) {
    pic::dense_picture<T> d(channels, h, w);
    for (std::size_t c = 0; c < channels; ++c) std::fill_n(d.data.begin() + static_cast<std::ptrdiff_t>(c * h * w), h * w, background[c]);
    for (const auto& e : ex)
        for (std::size_t c = 0; c < channels; ++c) d.data[c * h * w + static_cast<std::size_t>(e[0])] = static_cast<T>(e[1 + c]);
    return d;
}

}  // namespace flowpic::test
