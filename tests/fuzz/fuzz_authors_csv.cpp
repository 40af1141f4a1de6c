// libFuzzer target: the authors' FlowPic CSV through source::authors_csv, then the flow tables.
#include <cstddef>
#include <cstdint>

#include "flowpic/source/authors_csv.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::input_file file;
    const std::string& path = file.write(data, size);
    try {
        source::authors_csv s(path);
        std::uint32_t row = 0;
        std::int64_t prev = 0;
        fuzz::run_source(s, [&](const keyed_packet& kp) {
            FLOWPIC_FUZZ_EXPECT(kp.pkt.size <= 65535);
            FLOWPIC_FUZZ_EXPECT(!kp.direction_known);
            FLOWPIC_FUZZ_EXPECT(kp.key.session >= row);  // one row after the other
            if (kp.key.session == row) FLOWPIC_FUZZ_EXPECT(kp.pkt.time_ns >= prev);  // in order within a row
            row = kp.key.session;
            prev = kp.pkt.time_ns;
            FLOWPIC_FUZZ_EXPECT(kp.pkt.time_ns <= source::detail::max_abs_time_ns);
            FLOWPIC_FUZZ_EXPECT(kp.pkt.time_ns >= -source::detail::max_abs_time_ns);
        });
        FLOWPIC_FUZZ_EXPECT(s.rows() >= row);
    } catch (const flowpic::error&) {
    }
    return 0;
}
