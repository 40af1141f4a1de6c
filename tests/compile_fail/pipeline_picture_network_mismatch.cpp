// 32x32 pictures into the 1500x1500 network.
#include "flowpic/nn/presets.hpp"
#include "flowpic/picture/presets.hpp"
#include "flowpic/pipeline/pipeline.hpp"
#include "flowpic/source/memory.hpp"
using namespace flowpic;
int main() {
    using classifier = pipeline<source::memory, picture::presets::mini_flowpic<32>::picture, nn::presets::shapira2019<5>>;
    return static_cast<int>(classifier::classes);
}
