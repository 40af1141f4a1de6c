// Two policies of one kind (two windowing policies).
#include "flowpic/nn/networks.hpp"
#include "flowpic/pipeline/pipeline.hpp"
using namespace flowpic;
int main() {
    using classifier = pipeline<nn::networks::shapira2019<5>, blocks::window<blocks::specs::shapira2019>,
                                blocks::window<blocks::specs::counted60>>;
    return static_cast<int>(classifier::classes);
}
