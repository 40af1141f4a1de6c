// Every backend against numpy: the pictures of tests/fixtures/pictures were made by
// scripts/make_picture_fixtures.py with numpy.histogram2d exactly as reference.md defines each
// variant, on real blocks of ../shared/data and on edge cases (one packet, zero span, empty
// block, sizes 0/1500/1501/65535, times on bin edges, window ends, sub-microsecond times).
#include <doctest/doctest.h>

#include <atomic>

#include "flowpic/backend/backend.hpp"
#include "flowpic/picture/many_blocks.hpp"
#include "flowpic/picture/maker.hpp"
#include "test_picture_support.hpp"

using namespace flowpic;
namespace pic = flowpic::picture;

namespace {

using expected_rows = std::vector<std::array<double, 3>>;

const expected_rows& expected_of(const test::fixture_block& fb, int variant) {
    static const expected_rows none;
    const auto it = fb.expected.find(variant);
    return it == fb.expected.end() ? none : it->second;
}

// Makers of every backend and both step-3 paths, each reused over all blocks (as in a real run:
// the dense buffer keeps the previous block's cells until the next call resets them).
template <class H>
void check_variant(const std::vector<test::fixture_block>& blocks, int variant) {
    using T = typename H::value_type;
    pic::maker<H, backend::scalar> s_grid, s_sort;
    pic::maker<H, backend::simd> v_grid, v_sort;
    pic::maker<H, backend::tbb> t_grid, t_sort;
    s_grid.force_path(pic::maker<H, backend::scalar>::path::grid);
    s_sort.force_path(pic::maker<H, backend::scalar>::path::sort);
    v_grid.force_path(pic::maker<H, backend::simd>::path::grid);
    v_sort.force_path(pic::maker<H, backend::simd>::path::sort);
    t_grid.force_path(pic::maker<H, backend::tbb>::path::grid);
    t_sort.force_path(pic::maker<H, backend::tbb>::path::sort);
    pic::dense_picture<T> d;
    for (const auto& fb : blocks) {
        CAPTURE(fb.name);
        const auto& ex = expected_of(fb, variant);
        const auto want = test::expected_dense<T>(ex, H::channel_count, H::height, H::width, s_grid.background());
        auto check = [&](auto& m, const char* what) {
            CAPTURE(what);
            CHECK(test::compare_sparse(m.sparse(fb.block()), ex) == 0);
            CHECK((m.dense(fb.block()) == want));  // the maker's reused buffer
        };
        check(s_grid, "scalar, grid");
        check(s_sort, "scalar, sort");
        check(v_grid, "simd, grid");
        check(v_sort, "simd, sort");
        check(t_grid, "tbb, grid");
        check(t_sort, "tbb, sort");
        v_sort.dense(fb.block(), d);  // into a caller's picture
        CHECK((d == want));
        CHECK((v_grid.sparse(fb.block()).densify() == want));
    }
}

}  // namespace

TEST_CASE("picture fixtures: every variant, backend and output equals numpy bit for bit") {
    const auto variants = test::read_csv(test::fixture_dir() + "/variants.csv");
    REQUIRE(variants.size() == 9);
    const auto blocks = test::load_fixture_blocks();
    REQUIRE(blocks.size() >= 16);
    for (const auto& v : variants) {
        CAPTURE(v.at("name"));
        test::visit_variant(v.at("name"), [&](auto tag) { check_variant<typename decltype(tag)::type>(blocks, std::stoi(v.at("id"))); });
    }
}

TEST_CASE("picture fixtures: many blocks at once (tbb) give each block's numpy picture") {
    const auto blocks = test::load_fixture_blocks();
    std::vector<blocks::block> bl;
    for (const auto& fb : blocks) bl.push_back(fb.block());
    // variant 0 = a1, 4 = a2_32 (see variants.csv)
    const auto stack = pic::make_sparse_stack<test::a1, backend::tbb>(bl);
    const auto stack32 = pic::make_sparse_stack<test::a2_32, backend::tbb>(bl);
    REQUIRE(stack.size() == bl.size());
    for (std::size_t i = 0; i < bl.size(); ++i) {
        CAPTURE(blocks[i].name);
        const auto a = blocks[i].expected.count(0) ? blocks[i].expected.at(0) : std::vector<std::array<double, 3>>{};
        pic::sparse_picture<std::uint16_t> p;
        p.channels = 1;
        p.height = p.width = 1500;
        p.cells.assign(stack[i].cells.begin(), stack[i].cells.end());
        p.values.assign(stack[i].values.begin(), stack[i].values.end());
        CHECK(test::compare_sparse(p, a) == 0);
        const auto b = blocks[i].expected.count(4) ? blocks[i].expected.at(4) : std::vector<std::array<double, 3>>{};
        pic::sparse_picture<float> q;
        q.height = q.width = 32;
        q.cells.assign(stack32[i].cells.begin(), stack32[i].cells.end());
        q.values.assign(stack32[i].values.begin(), stack32[i].values.end());
        CHECK(test::compare_sparse(q, b) == 0);
    }
    std::vector<int> seen(bl.size(), 0);
    std::atomic<int> bad{0};
    pic::for_each_dense<test::a2_32, backend::tbb>(bl, [&](std::size_t i, const pic::dense_picture<float>& d) {
        ++seen[i];
        if (!(d == stack32[i].densify())) ++bad;
    });
    CHECK(bad.load() == 0);
    for (int s : seen) CHECK(s == 1);
}
