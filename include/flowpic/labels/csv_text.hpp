#pragma once
// Small CSV files read whole (label maps, label files): RFC 4180 fields, quoted where needed.

#include <cstddef>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "flowpic/core/error.hpp"

namespace flowpic::labels {

// The fields of one line (no line break inside), or nullopt when a quote is unbalanced.
[[nodiscard]] inline std::optional<std::vector<std::string>> split_csv_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string> out;
    std::string field;
    std::size_t i = 0;
    for (;;) {
        field.clear();
        if (i < line.size() && line[i] == '"') {
            ++i;
            for (;;) {
                if (i >= line.size()) return std::nullopt;
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += line[i++];
            }
            if (i < line.size() && line[i] != ',') return std::nullopt;
        } else {
            while (i < line.size() && line[i] != ',') {
                if (line[i] == '"') return std::nullopt;
                field += line[i++];
            }
        }
        out.push_back(field);
        if (i >= line.size()) return out;
        ++i;  // the comma
    }
}

// A field as RFC 4180 writes it: quoted only when it holds a comma, a quote or a line break.
[[nodiscard]] inline std::string csv_quote(std::string_view v) {
    if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
    std::string q = "\"";
    for (char c : v) {
        if (c == '"') q += '"';
        q += c;
    }
    return q + '"';
}

// A whole small text file; io_error naming it when it cannot be read.
[[nodiscard]] inline std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(location{path}, "cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) throw io_error(location{path}, "read error");
    return s.str();
}

// Calls f(line_number, line) for every line of text (1-based; the last line may lack '\n').
template <class F>
void for_each_line(std::string_view text, F&& f) {
    std::size_t line = 0, pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
        f(++line, text.substr(pos, end - pos));
        pos = end + 1;
    }
}

}  // namespace flowpic::labels
