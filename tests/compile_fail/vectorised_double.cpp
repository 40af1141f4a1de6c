// The simd kernels (backend::simd) on a network of doubles.
#include <vector>
#include "flowpic/nn/networks.hpp"
using namespace flowpic::nn;
int main() {
    networks::mini_flowpic<3>::rebind<double> net;
    std::vector<double> x(net.input_shape.size()), p(3);
    net.predict(x.data(), 1, p.data(), flowpic::backend::simd{});
    return static_cast<int>(p[0]);
}
