#pragma once
// The confusion matrix as an SVG figure: row r = true class r, column c = predicted class c, in
// the model's class order, with the class names on both axes. Each cell is shaded by its share of
// the row (white 0 %, black 100 %, as the PNG) and shows the count and the share in percent;
// the last column is each true class's support and recall.

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowpic/picture/svg.hpp"
#include "flowpic/train/metrics.hpp"

namespace flowpic::train {

[[nodiscard]] inline std::string confusion_svg(const classification_report& r, const std::vector<std::string>& names,
                                               const std::string& title = "confusion matrix") {
    if (names.size() != r.classes)
        throw std::invalid_argument("confusion_svg: " + std::to_string(names.size()) + " class names for " +
                                    std::to_string(r.classes) + " classes");
    using picture::svg::escape;
    using picture::svg::number;
    const double cell = 72, left = 140, top = 150;
    const double k = static_cast<double>(r.classes);
    const double width = left + cell * (k + 1) + 20, height = top + cell * k + 60;
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width) + "\" height=\"" +
                    number(height) + "\" viewBox=\"0 0 " + number(width) + " " + number(height) +
                    "\" font-family=\"sans-serif\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    s += "<text x=\"" + number(width / 2) + "\" y=\"26\" text-anchor=\"middle\" font-size=\"15\">" + escape(title) +
         "</text>\n";
    s += "<text x=\"" + number(left + cell * k / 2) + "\" y=\"52\" text-anchor=\"middle\">predicted class</text>\n";
    s += "<text transform=\"translate(20 " + number(top + cell * k / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">true class</text>\n";
    for (std::size_t c = 0; c < r.classes; ++c) {
        const double x = left + cell * static_cast<double>(c) + cell / 2;
        s += "<text transform=\"translate(" + number(x + 4) + " " + number(top - 8) +
             ") rotate(-45)\">" + escape(names[c]) + "</text>\n";
        s += "<text x=\"" + number(left - 8) + "\" y=\"" + number(top + cell * static_cast<double>(c) + cell / 2 + 4) +
             "\" text-anchor=\"end\">" + escape(names[c]) + "</text>\n";
    }
    s += "<text transform=\"translate(" + number(left + cell * k + cell / 2 + 4) + " " + number(top - 8) +
         ") rotate(-45)\">support, recall</text>\n";
    for (std::size_t t = 0; t < r.classes; ++t) {
        std::size_t row = 0;
        for (std::size_t p = 0; p < r.classes; ++p) row += r.at(t, p);
        const double y = top + cell * static_cast<double>(t);
        for (std::size_t p = 0; p < r.classes; ++p) {
            const double share = row ? static_cast<double>(r.at(t, p)) / static_cast<double>(row) : 0.0;
            const long grey = std::lround(255.0 * (1.0 - share));
            const double x = left + cell * static_cast<double>(p);
            char fill[16];
            std::snprintf(fill, sizeof fill, "#%02lx%02lx%02lx", grey, grey, grey);
            const char* ink = grey < 128 ? "white" : "black";
            s += "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(cell) + "\" height=\"" +
                 number(cell) + "\" fill=\"" + fill + "\" stroke=\"#a0a0a0\"/>\n";
            if (!row) continue;
            s += "<text x=\"" + number(x + cell / 2) + "\" y=\"" + number(y + cell / 2 - 2) +
                 "\" text-anchor=\"middle\" font-size=\"15\" fill=\"" + ink + "\">" + std::to_string(r.at(t, p)) +
                 "</text><text x=\"" + number(x + cell / 2) + "\" y=\"" + number(y + cell / 2 + 15) +
                 "\" text-anchor=\"middle\" font-size=\"11\" fill=\"" + ink + "\">" +
                 std::to_string(std::lround(share * 100)) + " %</text>\n";
        }
        const double x = left + cell * k;
        s += "<text x=\"" + number(x + cell / 2) + "\" y=\"" + number(y + cell / 2 - 2) +
             "\" text-anchor=\"middle\">" + std::to_string(row) + "</text>";
        if (row)
            s += "<text x=\"" + number(x + cell / 2) + "\" y=\"" + number(y + cell / 2 + 15) +
                 "\" text-anchor=\"middle\" font-size=\"11\">" +
                 std::to_string(std::lround(100.0 * static_cast<double>(r.at(t, t)) / static_cast<double>(row))) + " %</text>";
        s += "\n";
    }
    char summary[96];
    std::snprintf(summary, sizeof summary, "%zu samples, accuracy %.1f %%, macro F1 %.3f", r.samples, 100 * r.accuracy,
                  r.macro_f1);
    s += "<text x=\"" + number(left) + "\" y=\"" + number(top + cell * k + 30) + "\">" + summary + "</text>\n</svg>\n";
    return s;
}

inline void write_confusion_svg(const std::string& path, const classification_report& r,
                                const std::vector<std::string>& names, const std::string& title = "confusion matrix") {
    picture::write_text_file(path, confusion_svg(r, names, title));
}

}  // namespace flowpic::train
