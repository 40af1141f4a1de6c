#pragma once
// Annotated figures of pictures as SVG: the picture (render_grey, log grey scale) inside axes of
// arrival time and packet size, a colour scale with the counts it stands for, and a title. The
// picture itself is an embedded PNG; in large pictures every cell is drawn as a square, then the
// image is shrunk keeping the darkest pixel, so that a handful of packets in 1500 x 1500 cells
// stays visible.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "flowpic/core/atomic_file.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/picture/dense_picture.hpp"
#include "flowpic/picture/png.hpp"

namespace flowpic::picture {

// What the axes and the title of a figure say.
struct figure_labels {
    std::string title;            // e.g. the flow
    std::string subtitle;         // e.g. the window and the packet count
    double time_span_s = 60.0;    // the time axis runs from 0 to this many seconds
    double max_size = 1500.0;     // the size axis runs from 0 to this many bytes
    std::size_t channel = 0;
};

namespace svg {

inline std::string escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

inline std::string base64(const std::vector<std::uint8_t>& d) {
    static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((d.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < d.size(); i += 3) {
        const std::uint32_t n = (std::uint32_t{d[i]} << 16) | (i + 1 < d.size() ? std::uint32_t{d[i + 1]} << 8 : 0u) |
                                (i + 2 < d.size() ? std::uint32_t{d[i + 2]} : 0u);
        out += table[(n >> 18) & 63];
        out += table[(n >> 12) & 63];
        out += i + 1 < d.size() ? table[(n >> 6) & 63] : '=';
        out += i + 2 < d.size() ? table[n & 63] : '=';
    }
    return out;
}

inline std::string number(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

// Tick values 0, step, 2 step ... up to max with a round step (1, 2 or 5 x 10^k), about 5 ticks.
inline std::vector<double> ticks(double max) {
    if (!(max > 0)) return {0.0};
    const double raw = max / 5;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
    std::vector<double> t;
    for (double v = 0; v <= max * (1 + 1e-9); v += step) t.push_back(v);
    return t;
}

}  // namespace svg

// Shrinks an image by an integer factor, each output pixel the darkest of its square.
[[nodiscard]] inline grey_image shrink_darkest(const grey_image& in, std::size_t factor) {
    if (factor <= 1) return in;
    grey_image out;
    out.width = (in.width + factor - 1) / factor;
    out.height = (in.height + factor - 1) / factor;
    out.pixels.assign(out.width * out.height, 255);
    for (std::size_t y = 0; y < in.height; ++y)
        for (std::size_t x = 0; x < in.width; ++x) {
            auto& q = out.pixels[(y / factor) * out.width + x / factor];
            q = std::min(q, in.pixels[y * in.width + x]);
        }
    return out;
}

// The SVG text of an annotated figure of one channel of a picture.
template <class T>
[[nodiscard]] std::string figure_svg(const dense_picture<T>& p, bool time_in_rows, const figure_labels& l) {
    constexpr double plot = 480, left = 80, top = 50, bar_x = left + plot + 30, bar_w = 18;
    auto plane = p.channel(l.channel);
    double mx = 0;
    for (const T& v : plane) mx = std::max(mx, static_cast<double>(v));
    const std::size_t side = std::max(p.height, p.width);
    // large pictures: each cell drawn as a square two output pixels wide, then shrunk
    const std::size_t shrink = (side + 479) / 480;
    grey_image img = side > 2 * static_cast<std::size_t>(plot)
                         ? shrink_darkest(render_grey(p, time_in_rows, l.channel, 1, 2 * shrink), shrink)
                         : render_grey(p, time_in_rows, l.channel, std::max<std::size_t>(1, 480 / side));
    std::string s;
    s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"600\" viewBox=\"0 0 720 600\" "
         "font-family=\"sans-serif\" font-size=\"13\">\n";
    s += "<rect width=\"720\" height=\"600\" fill=\"white\"/>\n";
    s += "<text x=\"" + svg::number(left + plot / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">" +
         svg::escape(l.title) + "</text>\n";
    s += "<text x=\"" + svg::number(left + plot / 2) + "\" y=\"39\" text-anchor=\"middle\">" + svg::escape(l.subtitle) +
         "</text>\n";
    s += "<image x=\"" + svg::number(left) + "\" y=\"" + svg::number(top) + "\" width=\"" + svg::number(plot) +
         "\" height=\"" + svg::number(plot) + "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" "
         "href=\"data:image/png;base64," + svg::base64(encode_png(img)) + "\"/>\n";
    s += "<rect x=\"" + svg::number(left) + "\" y=\"" + svg::number(top) + "\" width=\"" + svg::number(plot) +
         "\" height=\"" + svg::number(plot) + "\" fill=\"none\" stroke=\"black\"/>\n";
    for (const double t : svg::ticks(l.time_span_s)) {  // x: arrival time
        const double x = left + plot * t / l.time_span_s;
        s += "<line x1=\"" + svg::number(x) + "\" y1=\"" + svg::number(top + plot) + "\" x2=\"" + svg::number(x) +
             "\" y2=\"" + svg::number(top + plot + 6) + "\" stroke=\"black\"/><text x=\"" + svg::number(x) + "\" y=\"" +
             svg::number(top + plot + 20) + "\" text-anchor=\"middle\">" + svg::number(t) + "</text>\n";
    }
    for (const double v : svg::ticks(l.max_size)) {  // y: packet size, larger higher up
        const double y = top + plot - plot * v / l.max_size;
        s += "<line x1=\"" + svg::number(left - 6) + "\" y1=\"" + svg::number(y) + "\" x2=\"" + svg::number(left) +
             "\" y2=\"" + svg::number(y) + "\" stroke=\"black\"/><text x=\"" + svg::number(left - 9) + "\" y=\"" +
             svg::number(y + 4) + "\" text-anchor=\"end\">" + svg::number(v) + "</text>\n";
    }
    s += "<text x=\"" + svg::number(left + plot / 2) + "\" y=\"" + svg::number(top + plot + 42) +
         "\" text-anchor=\"middle\">arrival time in the window (s)</text>\n";
    s += "<text transform=\"translate(24 " + svg::number(top + plot / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">packet size (bytes)</text>\n";
    // the colour scale: grey = 255 (1 - log1p(v) / log1p(max)), black at the top
    s += "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\"><stop offset=\"0\" "
         "stop-color=\"white\"/><stop offset=\"1\" stop-color=\"black\"/></linearGradient></defs>\n";
    s += "<rect x=\"" + svg::number(bar_x) + "\" y=\"" + svg::number(top) + "\" width=\"" + svg::number(bar_w) +
         "\" height=\"" + svg::number(plot) + "\" fill=\"url(#scale)\" stroke=\"black\"/>\n";
    // five marks evenly spaced on the log scale, labelled with the cell values they stand for
    for (int i = 0; mx > 0 && i <= 4; ++i) {
        const double f = i / 4.0, v = std::expm1(f * std::log1p(mx));
        const double y = top + plot - plot * f;
        char label[32];
        std::snprintf(label, sizeof label, "%.3g", v);
        s += "<line x1=\"" + svg::number(bar_x + bar_w) + "\" y1=\"" + svg::number(y) + "\" x2=\"" +
             svg::number(bar_x + bar_w + 5) + "\" y2=\"" + svg::number(y) + "\" stroke=\"black\"/><text x=\"" +
             svg::number(bar_x + bar_w + 8) + "\" y=\"" + svg::number(y + 4) + "\">" + label + "</text>\n";
    }
    s += "<text transform=\"translate(" + svg::number(bar_x + bar_w + 92) + " " + svg::number(top + plot / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" +
         (std::is_integral_v<T> ? "packets per cell" : "cell value") + " (log scale)</text>\n";
    s += "</svg>\n";
    return s;
}

inline void write_text_file(const std::string& path, const std::string& text) {
    write_file_atomically(path, std::string_view(text));
}

// An annotated figure of a picture, as an SVG file.
template <class T>
void write_svg(const std::string& path, const dense_picture<T>& p, bool time_in_rows, const figure_labels& l) {
    write_text_file(path, figure_svg(p, time_in_rows, l));
}

}  // namespace flowpic::picture
