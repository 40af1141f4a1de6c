// A 2x2 max-pool on a 1x1 feature map.
#include "flowpic/nn/sequential.hpp"
using namespace flowpic::nn;
int main() { sequential<input<1, 5, 5>, conv2d<4, 5>, max_pool2d<2>, flatten, dense<2>, softmax> net; return static_cast<int>(net.param_count); }
