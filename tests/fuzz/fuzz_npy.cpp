// libFuzzer target: the .npy reader (core/npy.hpp, picture/npy.hpp) through a file. The
// finiteness oracle: an array that loads holds only finite values; a picture that loads (values
// within picture::max_abs_value) gives finite probabilities through a network within
// nn::max_abs_weight.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/nn/init.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/sequential.hpp"
#include "flowpic/picture/npy.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

namespace {
// mini-FlowPic's layers without its dropouts (clang 14 takes no double template arguments)
using net_type = nn::sequential<nn::input<1, 32, 32>, nn::conv2d<6, 5>, nn::relu, nn::max_pool2d<2>, nn::conv2d<16, 5>,
                                nn::relu, nn::max_pool2d<2>, nn::flatten, nn::dense<120>, nn::relu, nn::dense<84>,
                                nn::relu, nn::dense<2>, nn::softmax>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::input_file file;
    const std::string& path = file.write(data, size);
    try {
        const npy::array<float> a = npy::load_as<float>(path);
        std::size_t n = 1;
        for (auto d : a.shape) n *= d;
        FLOWPIC_FUZZ_EXPECT(a.data.size() == n);
        for (const float v : a.data) FLOWPIC_FUZZ_EXPECT(std::isfinite(v));
    } catch (const flowpic::error&) {
    }
    picture::dense_picture<float> p;
    try {
        p = picture::load_npy_picture<float>(path);
    } catch (const flowpic::error&) {
        return 0;
    }
    FLOWPIC_FUZZ_EXPECT(p.data.size() == p.channels * p.height * p.width);
    // the picture's values, as many as the network takes, through a network at its weight bound
    static net_type net = [] {
        net_type n(nn::init_scheme::kaiming_uniform, 1);
        for (float& v : n.params()) v = std::copysign(nn::max_abs_weight, v) / 1e3f;
        return n;
    }();
    std::vector<float> x(net_type::input_shape.size(), 0.0f);
    std::copy_n(p.data.begin(), std::min(x.size(), p.data.size()), x.begin());
    float out[2];
    net.predict(x.data(), 1, out, backend::scalar{});
    FLOWPIC_FUZZ_EXPECT(std::isfinite(out[0]) && std::isfinite(out[1]));
    return 0;
}
