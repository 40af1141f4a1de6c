// libFuzzer target: the dataset file reader (train/dataset_file.hpp), with the checksum off so
// that inputs reach the structure, then on. A file that reads must re-encode to bytes that read
// back to the same bytes, and hold what its header promises.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flowpic/train/dataset_file.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    for (const bool checksum : {false, true}) {
        try {
            train::dataset_read_options o;
            o.verify_checksum = checksum;
            const train::picture_set set = train::decode_dataset(data, size, "fuzz.fpd", o);
            FLOWPIC_FUZZ_EXPECT(set.pictures.size() == set.samples.size());
            std::uint64_t packets = 0;
            for (const auto& s : set.samples) {
                FLOWPIC_FUZZ_EXPECT(s.label < set.classes.size() && s.capture < set.captures.size());
                FLOWPIC_FUZZ_EXPECT(set.captures[s.capture].part == s.part);
                FLOWPIC_FUZZ_EXPECT(s.first_packet == packets);
                packets += s.packets;
            }
            FLOWPIC_FUZZ_EXPECT(packets == set.packets.size());
            const std::size_t plane = set.pictures.height() * set.pictures.width();
            for (std::size_t i = 0; i < set.pictures.size(); ++i) {
                const auto p = set.pictures[i];
                for (std::size_t k = 0; k < p.cells.size(); ++k)
                    FLOWPIC_FUZZ_EXPECT(p.cells[k] < plane && (k == 0 || p.cells[k - 1] < p.cells[k]));
            }
            const std::vector<std::uint8_t> bytes = train::encode_dataset(set);
            const train::picture_set back = train::decode_dataset(bytes.data(), bytes.size(), "again.fpd");
            FLOWPIC_FUZZ_EXPECT(train::encode_dataset(back) == bytes);
        } catch (const flowpic::error&) {
        }
    }
    return 0;
}
