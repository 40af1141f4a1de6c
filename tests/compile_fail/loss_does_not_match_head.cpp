// Binary cross-entropy on a softmax network.
#include <vector>
#include "flowpic/nn/loss.hpp"
#include "flowpic/nn/networks.hpp"
using namespace flowpic::nn;
int main() {
    networks::mini_flowpic<3> net;
    std::vector<float> x(net.input_shape.size());
    std::vector<std::int32_t> labels{0};
    return static_cast<int>(net.gradient(x.data(), 1, targets{labels}, binary_crossentropy{}, run_context{}));
}
