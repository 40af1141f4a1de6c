// 32x32 pictures into the 1500x1500 network.
#include "flowpic/nn/presets.hpp"
#include "flowpic/pipeline/presets.hpp"
#include "flowpic/source/memory.hpp"
using namespace flowpic;
int main() {
    using classifier = preset_pipeline<picture::presets::mini_flowpic<32>, nn::presets::shapira2019<5>, source::memory>;
    return static_cast<int>(classifier::classes);
}
