// Pictures of real traffic: captures of ../shared/data through the pcap source and the flow
// table, (1) every backend equal to the scalar oracle on every block, (2) the blocks the numpy
// fixtures were cut from (tests/fixtures/pictures) found again, with the same packets and the
// same pictures as numpy's.
#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "../unit/test_picture_support.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/picture/many_blocks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;
namespace pic = flowpic::picture;

namespace {

// Blocks copied out of the flow table's callbacks (their spans die with the callback).
struct kept_blocks {
    std::deque<std::vector<packet>> packets;
    std::deque<flows::flow> owners;  // key and first packet time only
    std::vector<blocks::block> blocks;

    template <class Key, class Source>
    void collect(Source& src, const blocks::window_spec& w) {
        blocks::windowed_table<Key> table({}, w);
        flows::callback_sink out{[&](const blocks::block& b) {
                                     packets.emplace_back(b.packets.begin(), b.packets.end());
                                     flows::flow o;
                                     o.key = b.owner->key;
                                     o.first_ns = b.owner->first_ns;
                                     owners.push_back(o);
                                     blocks.push_back(blocks::block{&owners.back(), packets.back(), b.window_start_ns,
                                                                    b.window_end_ns, b.index});
                                 },
                                 flows::ignore{}};
        table.consume(src, out);
    }
};

template <class H>
void check_all_backends(const std::vector<blocks::block>& bl) {
    const auto ref = pic::make_sparse_stack<H, backend::scalar>(bl);
    const auto simd = pic::make_sparse_stack<H, backend::simd>(bl);
    const auto par = pic::make_sparse_stack<H, backend::tbb>(bl);
    REQUIRE(simd.size() == ref.size());
    REQUIRE(par.size() == ref.size());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const auto a = ref[i], b = simd[i], c = par[i];
        bad += !(test::same_sparse(a, b) && test::same_sparse(a, c));
    }
    CHECK(bad == 0);
    std::size_t dense_bad = 0;
    pic::for_each_dense<H, backend::tbb>(bl, [&](std::size_t i, const pic::dense_picture<typename H::value_type>& d) {
        if (!test::same_dense(d, ref[i].densify())) ++dense_bad;  // counted from the workers: a data race only when failing
    });
    CHECK(dense_bad == 0);
}

}  // namespace

TEST_CASE("requet captures: every backend equals the scalar oracle on every real block") {
    std::size_t total = 0;
    for (const char* rel : {"fixtures/requet_youtube_C_exp343.pcap", "requet-youtube-b2/baseline_May03_exp_288.pcap",
                            "requet-youtube-b2/baseline_May03_exp_300.pcap", "requet-youtube-b2/baseline_May03_exp_311.pcap"}) {
        CAPTURE(rel);
        kept_blocks a1, a2, ov;
        {
            source::pcap_file<> src(test::shared(rel));
            a1.collect<flows::unidirectional>(src, presets::shapira2019::window);
        }
        {
            source::pcap_file<> src(test::shared(rel));
            a2.collect<flows::bidirectional>(src, presets::mini_flowpic::window);
        }
        {
            source::pcap_file<> src(test::shared(rel));
            ov.collect<flows::bidirectional>(src, blocks::specs::counted15);
        }
        CHECK(!a1.blocks.empty());
        CHECK(!a2.blocks.empty());
        total += a1.blocks.size() + a2.blocks.size() + ov.blocks.size();
        check_all_backends<presets::shapira2019::picture>(a1.blocks);
        check_all_backends<test::a1_bydir>(ov.blocks);
        check_all_backends<presets::mini_flowpic::picture>(a2.blocks);
        check_all_backends<presets::mini_flowpic64::picture>(ov.blocks);
        check_all_backends<presets::mini_flowpic1500::picture>(a2.blocks);
        check_all_backends<presets::network_stats::picture>(ov.blocks);
    }
    MESSAGE("real blocks compared: " << total);
    CHECK(total > 200);
}

TEST_CASE("the numpy fixture blocks come out of the pcap source and flow table unchanged") {
    const auto fixtures = test::load_fixture_blocks();
    std::size_t matched = 0;
    for (const auto& fb : fixtures) {
        const std::string origin = fb.row.at("origin");
        if (origin != "authors_window" && origin != "first_15s_bidirectional") continue;
        CAPTURE(fb.name);
        const bool bidir = origin == "first_15s_bidirectional";
        kept_blocks k;
        source::pcap_file<> src(test::shared(fb.row.at("capture")));
        if (bidir) k.collect<flows::bidirectional>(src, presets::mini_flowpic::window);
        else k.collect<flows::unidirectional>(src, presets::shapira2019::window);
        const blocks::block* found = nullptr;
        for (const auto& b : k.blocks) {
            const auto& key = b.owner->key;
            if (key.src.str() == fb.row.at("src") && key.dst.str() == fb.row.at("dst") &&
                std::to_string(key.sport) == fb.row.at("sport") && std::to_string(key.dport) == fb.row.at("dport") &&
                std::to_string(key.proto) == fb.row.at("proto") && std::to_string(b.index) == fb.row.at("index"))
                found = &b;
        }
        REQUIRE_MESSAGE(found != nullptr, "the flow table did not cut the block numpy's script cut");
        ++matched;
        CHECK(found->owner->first_ns == fb.owner.first_ns);
        CHECK(found->window_start_ns == fb.window_start_ns);
        REQUIRE(found->packets.size() == fb.packets.size());
        for (std::size_t i = 0; i < fb.packets.size(); ++i) {
            CHECK(found->packets[i].time_ns == fb.packets[i].time_ns);
            CHECK(found->packets[i].size == fb.packets[i].size);
            if (bidir) CHECK(found->packets[i].dir == fb.packets[i].dir);
        }
        auto against = [&](auto tag, int variant) {
            using H = typename decltype(tag)::type;
            const auto it = fb.expected.find(variant);
            REQUIRE(it != fb.expected.end());
            pic::maker<H, backend::simd> m;
            CHECK(test::compare_sparse(m.sparse(*found), it->second) == 0);
        };
        if (bidir) {
            against(std::type_identity<test::a2_32>{}, 4);
            against(std::type_identity<test::a2_64>{}, 5);
            against(std::type_identity<test::a2_1500>{}, 6);
        } else {
            against(std::type_identity<test::a1>{}, 0);
            against(std::type_identity<test::a1_tps60>{}, 1);
        }
    }
    CHECK(matched == 7);
}
