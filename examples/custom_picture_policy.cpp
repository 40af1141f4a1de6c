// A picture policy of your own: counts as sqrt(count / largest count), a gentler range than
// mini-FlowPic's clip at 255, on mini-FlowPic's 15 s windows and 64x64 cells. Writes the first
// blocks of a capture as PNG files and prints the busiest cells of the first one.
//
//   custom_picture_policy CAPTURE OUT_DIR [BLOCKS]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "flowpic/picture/histogram.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/picture/png.hpp"
#include "flowpic/presets/mini_flowpic.hpp"
#include "flowpic/train/file_blocks.hpp"

// A counts policy is a kind tag, a value type, whether it needs the picture's largest count, and
// the value of one cell (picture/counts.hpp); histogram<> checks it with the counts_policy concept.
struct sqrt_of_max {
    using policy_kind = flowpic::picture::kind::counts;
    using value_type = float;
    static constexpr bool needs_max = true;
    [[nodiscard]] static float value(std::uint32_t count, std::uint32_t max) noexcept {
        return max == 0 ? 0.0f : static_cast<float>(std::sqrt(double(count) / double(max)));
    }
};

namespace pic = flowpic::picture;

// Policies by kind, in any order; the ones not named keep their defaults.
using sqrt_picture =
    pic::histogram<pic::resolution<64, 64>, sqrt_of_max, pic::size_axis::scaled<1500, pic::overflow::clip>,
                   pic::time_axis::fixed_window<0, pic::from::window_start, pic::clock::seconds, pic::window_end::open>>;

int main(int argc, char** argv) {
    using namespace flowpic;
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s CAPTURE OUT_DIR [BLOCKS]\n", argv[0]);
        return 2;
    }
    const std::filesystem::path out = argv[2];
    const std::size_t wanted = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 4;
    try {
        std::filesystem::create_directories(out);
        pic::maker<sqrt_picture> maker;
        std::size_t done = 0;
        // the windows and flow grouping of mini_flowpic: the first 15 s of each connection
        train::for_each_block<presets::mini_flowpic>(argv[1], [&](const blocks::block& b, const train::block_origin&) {
            if (done >= wanted) return;
            const auto& p = maker.dense(b);
            const std::string file = (out / ("block-" + std::to_string(done) + ".png")).string();
            pic::write_png(file, p, false, 0, 4);
            if (done == 0) {
                std::size_t cells = 0;
                float top = 0;
                for (float v : p.data) {
                    cells += v > 0;
                    top = std::max(top, v);
                }
                std::printf("block 0: %zu packets in %zu cells, largest value %.3f\n", b.packets.size(), cells,
                            double(top));
            }
            std::printf("%s\n", file.c_str());
            ++done;
        });
        if (done == 0) {
            std::fprintf(stderr, "custom_picture_policy: no block in %s\n", argv[1]);
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "custom_picture_policy: %s\n", e.what());
        return 1;
    }
}
