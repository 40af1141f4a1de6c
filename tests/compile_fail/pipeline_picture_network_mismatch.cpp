// 32x32 pictures into the 1500x1500 network.
#include "flowpic/nn/networks.hpp"
#include "flowpic/presets/pipeline.hpp"
#include "flowpic/source/memory.hpp"
using namespace flowpic;
int main() {
    using classifier = preset_pipeline<presets::mini_flowpic, nn::networks::shapira2019<5>, source::memory>;
    return static_cast<int>(classifier::classes);
}
