// 32x32 pictures into the 1500x1500 network.
#include "flowpic/nn/networks.hpp"
#include "flowpic/pipeline/pipeline.hpp"
#include "flowpic/presets/mini_flowpic.hpp"
#include "flowpic/source/memory.hpp"
using namespace flowpic;
int main() {
    using classifier = pipeline<source::memory, presets::mini_flowpic::picture, nn::networks::shapira2019<5>>;
    return static_cast<int>(classifier::classes);
}
