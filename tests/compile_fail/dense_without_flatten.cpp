// A dense layer straight after a convolution, without nn::flatten.
#include "flowpic/nn/sequential.hpp"
using namespace flowpic::nn;
int main() { sequential<input<1, 32, 32>, conv2d<6, 5>, relu, dense<10>, softmax> net; return static_cast<int>(net.param_count); }
