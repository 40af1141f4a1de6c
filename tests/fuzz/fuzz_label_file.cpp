// libFuzzer target: the label file (labels/label_file.hpp, `flowpic dataset --labels`) and the
// label map (labels/label_map.hpp, `--map`), both from the same bytes. Oracles: a label file that
// parses writes rows that parse back to the same rows (first to the microsecond), and every row
// is found again by its flow in label_index; a map that parses classifies every name it holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/labels/label_file.hpp"
#include "flowpic/labels/label_map.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto rows = labels::parse_label_file(text, "fuzz.csv");
        std::string again(labels::label_file_header);
        again += '\n';
        for (const auto& r : rows) {
            FLOWPIC_FUZZ_EXPECT(r.key.src.family == r.key.dst.family);
            again += labels::format_label_row(r);
            again += '\n';
        }
        const auto back = labels::parse_label_file(again, "again.csv");  // must not throw
        FLOWPIC_FUZZ_EXPECT(back.size() == rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            FLOWPIC_FUZZ_EXPECT(back[i].key == rows[i].key);
            FLOWPIC_FUZZ_EXPECT(std::llabs(back[i].first_ns - rows[i].first_ns) <= 500);
            FLOWPIC_FUZZ_EXPECT(back[i].application == rows[i].application);
            FLOWPIC_FUZZ_EXPECT(back[i].category == rows[i].category);
            FLOWPIC_FUZZ_EXPECT(back[i].cls == rows[i].cls);
        }
        const labels::label_index index(rows);
        for (const auto& r : rows) {
            FLOWPIC_FUZZ_EXPECT(index.find(r.key, r.first_ns) != nullptr);
            FLOWPIC_FUZZ_EXPECT(index.find(r.key.reversed(), r.first_ns) != nullptr);
        }
    } catch (const flowpic::format_error&) {
    }
    try {
        const auto map = labels::label_map::parse(text, "fuzz_map.csv");
        FLOWPIC_FUZZ_EXPECT(map.text() == text);
        for (const auto& c : map.classes()) FLOWPIC_FUZZ_EXPECT(!c.empty() && c != labels::ignore_class);
        (void)map.classify("TLS.YouTube", "Media");
    } catch (const flowpic::format_error&) {
    }
    return 0;
}
