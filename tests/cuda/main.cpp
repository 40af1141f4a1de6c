// doctest main of the GPU tests: exits 77 (CTest: skipped) where no CUDA device can be used.
// With --without-device it runs the test suite "without-device" instead, and skips where a
// device is present.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "flowpic/cuda/picture_api.hpp"

int main(int argc, char** argv) {
    bool without = false;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--without-device") == 0) without = true;
        else args.push_back(argv[i]);
    }
    int count = 0;
    const int status = flowpic_cuda_device_count(&count);
    const bool device = status == FLOWPIC_CUDA_SUCCESS && count > 0;
    if (without && device) {
        std::printf("flowpic_cuda_tests: %d CUDA device(s) present, so the no-device checks are skipped\n", count);
        return 77;
    }
    if (!without && !device) {
        std::printf("flowpic_cuda_tests: no CUDA device (status %d: %s), so the GPU tests are skipped\n", status,
                    flowpic_cuda_error_string(status));
        return 77;
    }
    doctest::Context ctx(static_cast<int>(args.size()), args.data());
    if (without) ctx.setOption("test-suite", "without-device");
    else ctx.setOption("test-suite-exclude", "without-device");
    return ctx.run();
}
