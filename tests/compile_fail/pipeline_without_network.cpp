// A pipeline needs a network: every other policy has a default.
#include "flowpic/pipeline/pipeline.hpp"
#include "flowpic/source/memory.hpp"
using namespace flowpic;
int main() {
    using classifier = pipeline<source::memory, flows::bidirectional>;
    return static_cast<int>(classifier::classes);
}
