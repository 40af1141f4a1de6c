// npy_allclose ACTUAL EXPECTED RTOL [ATOL]: exit 0 when both .npy files have one shape and every
// |a - e| <= ATOL + RTOL * |e|; otherwise names the first differing element and exits 1.
// The CLI tests compare the tool's .npy outputs with PyTorch's through it.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "flowpic/core/npy.hpp"

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: npy_allclose ACTUAL EXPECTED RTOL [ATOL]\n");
        return 2;
    }
    try {
        const auto a = flowpic::npy::load_as<float>(argv[1]);
        const auto e = flowpic::npy::load_as<float>(argv[2]);
        const double rtol = std::strtod(argv[3], nullptr), atol = argc > 4 ? std::strtod(argv[4], nullptr) : 0.0;
        if (a.shape != e.shape) {
            std::fprintf(stderr, "%s and %s differ in shape\n", argv[1], argv[2]);
            return 1;
        }
        double worst = 0;
        for (std::size_t i = 0; i < a.data.size(); ++i) {
            const double d = std::abs(double(a.data[i]) - double(e.data[i]));
            if (!(d <= atol + rtol * std::abs(double(e.data[i])))) {
                std::fprintf(stderr, "%s[%zu] = %.9g, expected %.9g (%s)\n", argv[1], i, double(a.data[i]),
                             double(e.data[i]), argv[2]);
                return 1;
            }
            if (e.data[i] != 0) worst = std::max(worst, d / std::abs(double(e.data[i])));
        }
        std::printf("%zu values equal within rtol %g (largest relative difference %.3g)\n", a.data.size(), rtol,
                    worst);
        return 0;
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s\n", ex.what());
        return 1;
    }
}
