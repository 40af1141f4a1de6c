// A 5x5 convolution on a 4x4 picture.
#include "flowpic/nn/sequential.hpp"
using namespace flowpic::nn;
int main() { sequential<input<1, 4, 4>, conv2d<6, 5>, relu> net; return static_cast<int>(net.param_count); }
