// libFuzzer target: the model file reader (nn/model_file.hpp) on a small network. The input is a
// model file without its trailing checksum (the target appends the right one, so that inputs reach
// the structure). The finiteness oracle: a model that loads holds only finite weights within
// nn::max_abs_weight, and gives finite probabilities on pictures within picture::max_abs_value.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/sequential.hpp"
#include "flowpic/picture/npy.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

namespace {
// corpus/model_file/tiny.fpm is this network, saved by nn::save_model, its checksum cut off
using tiny_net = nn::sequential<nn::input<1, 8, 8>, nn::conv2d<2, 3>, nn::relu, nn::max_pool2d<2>, nn::flatten,
                                nn::dense<3>, nn::softmax>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    binary::writer w("model file");
    w.bytes(data, size);
    w.checksum();
    tiny_net net;
    try {
        nn::load_model(std::span<const std::uint8_t>(w.data()), "fuzz.fpm", net);
    } catch (const flowpic::error&) {
        return 0;
    }
    for (const float v : net.params()) FLOWPIC_FUZZ_EXPECT(std::isfinite(v) && std::fabs(v) <= nn::max_abs_weight);
    // pictures at the bounds: zeros, the largest values, and a mix of signs
    std::vector<float> x(3 * tiny_net::input_shape.size());
    for (std::size_t i = 0; i < x.size() / 3; ++i) {
        x[x.size() / 3 + i] = static_cast<float>(picture::max_abs_value);
        x[2 * x.size() / 3 + i] = static_cast<float>((i % 2 ? -1 : 1) * picture::max_abs_value);
    }
    std::vector<float> out(3 * tiny_net::output_shape.size());
    net.predict(x.data(), 3, out.data(), backend::scalar{});
    for (const float p : out) FLOWPIC_FUZZ_EXPECT(std::isfinite(p));
    return 0;
}
