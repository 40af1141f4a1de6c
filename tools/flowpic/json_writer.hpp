#pragma once
// The tool's one JSON writer (eval --json, --format jsonl). Our own, not nlohmann-json: the tool
// only writes JSON, never reads it, and nothing else would use the dependency.
//
// A JSONL row is the CSV row the command prints, field by field: the keys are the CSV header's
// names, numbers keep the CSV's exact digits (timestamps too), so both formats join alike.

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/labels/csv_text.hpp"

namespace flowpic::tool {

// RFC 8259 string: quote, backslash and control characters escaped; other bytes as they are.
[[nodiscard]] inline std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

// A number with ten significant digits; null when it is not finite (JSON has no NaN).
[[nodiscard]] inline std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

enum class output_format { csv, jsonl };

[[nodiscard]] inline output_format output_format_of(const std::string& name) noexcept {
    return name == "jsonl" ? output_format::jsonl : output_format::csv;
}

// One table the tool prints: its CSV header, and which of its columns hold numbers.
class table_format {
public:
    table_format(output_format f, std::string_view csv_header, std::vector<std::string_view> numbers)
        : format_(f), header_(csv_header) {
        const auto names = labels::split_csv_line(csv_header);
        if (names) names_ = *names;
        numeric_.resize(names_.size(), false);
        for (std::size_t i = 0; i < names_.size(); ++i)
            for (auto n : numbers)
                if (names_[i] == n) numeric_[i] = true;
    }

    [[nodiscard]] output_format format() const noexcept { return format_; }
    [[nodiscard]] bool jsonl() const noexcept { return format_ == output_format::jsonl; }
    [[nodiscard]] const std::string& csv_header() const noexcept { return header_; }

    // The header line to print first (with its line break); JSONL has none.
    [[nodiscard]] std::string header_line() const { return jsonl() ? std::string() : header_ + '\n'; }

    // A CSV row as this format prints it (no line break). `members`: more JSON members,
    // already formatted ("\"k\": v"), appended to the object.
    [[nodiscard]] std::string row(std::string_view csv_row, std::string_view members = {}) const {
        if (!jsonl()) return std::string(csv_row);
        const auto fields = labels::split_csv_line(csv_row);
        if (!fields || fields->size() != names_.size())
            throw flowpic::error("internal: a CSV row does not match its header " + header_ + ": " + std::string(csv_row));
        std::string j = "{";
        for (std::size_t i = 0; i < names_.size(); ++i) {
            if (i) j += ", ";
            j += json_string(names_[i]);
            j += ": ";
            const std::string& v = (*fields)[i];
            if (!numeric_[i]) j += json_string(v);
            else j += v.empty() ? std::string("null") : v;  // the CSV's digits, as printed
        }
        if (!members.empty()) {
            j += ", ";
            j += members;
        }
        return j + "}";
    }

private:
    output_format format_;
    std::string header_;
    std::vector<std::string> names_;
    std::vector<bool> numeric_;
};

}  // namespace flowpic::tool
