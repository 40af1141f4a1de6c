// Main of the tests on ../shared/data: exits 77 (CTest: skipped) with a visible message when the
// data is absent, unless FLOWPIC_REQUIRE_SHARED_DATA=1 (CI), where its absence is a failure.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "shared_data.hpp"

int main(int argc, char** argv) {
    bool listing = false;
    for (int i = 1; i < argc; ++i)
        if (std::strstr(argv[i], "list-test") || std::strstr(argv[i], "-ltc")) listing = true;
    if (!listing && !flowpic::test::shared_data_available()) {
        const char* req = std::getenv("FLOWPIC_REQUIRE_SHARED_DATA");
        if (req && std::string(req) == "1") {
            std::fprintf(stderr, "FAILED: FLOWPIC_REQUIRE_SHARED_DATA=1 but %s does not exist\n",
                         flowpic::test::shared_data_dir().c_str());
            return 1;
        }
        std::printf("SKIPPED: shared test data not found at %s (set FLOWPIC_SHARED_DATA)\n",
                    flowpic::test::shared_data_dir().c_str());
        return 77;
    }
    doctest::Context ctx(argc, argv);
    return ctx.run();
}
