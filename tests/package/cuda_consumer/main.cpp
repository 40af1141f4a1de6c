// A consumer of the installed flowpic::cuda component: GPU pictures where there is a device,
// otherwise the library's report that there is none.
#include <cstdio>
#include <vector>

#include <flowpic/picture/kernels/cuda.hpp>
#include <flowpic/picture/maker.hpp>
#include <flowpic/presets/mini_flowpic.hpp>

int main() {
    using H = flowpic::presets::mini_flowpic::picture;
    const std::vector<flowpic::packet> p{{1'000'000'000, 700, flowpic::direction::forward}, {2'000'000'000, 40, flowpic::direction::reverse}};
    const std::vector<flowpic::blocks::block> blocks{{nullptr, p, 0, 15'000'000'000, 0}};
    try {
        flowpic::picture::cuda_maker<H> gpu;
        const auto stack = gpu.make_sparse_stack(blocks);
        flowpic::picture::maker<H, flowpic::backend::scalar> cpu;
        const auto ref = cpu.sparse(blocks[0]);
        const bool ok = stack.size() == 1 && stack[0].nnz() == ref.nnz() && stack[0].values[0] == ref.values[0];
        std::puts(ok ? "flowpic::cuda: the GPU's picture is the CPU's" : "flowpic::cuda: pictures differ");
        return ok ? 0 : 1;
    } catch (const flowpic::cuda::error& e) {
        std::printf("flowpic::cuda linked; %s\n", e.what());
        return e.no_device() ? 0 : 1;
    }
}
