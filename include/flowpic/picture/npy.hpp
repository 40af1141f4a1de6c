#pragma once
// NumPy .npy files of pictures through xtensor's xnpy (the only header that includes it).
//
// Shapes, channels first as the network takes them:
//   one picture:   (H, W) when it has one channel, else (C, H, W)
//   a stack:       (N, C, H, W)
// Errors: io_error when a file cannot be written or opened; format_error (with the file name
// and byte offset) when a file read back is not an .npy of the expected type and size.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xnpy.hpp>

#include "flowpic/core/error.hpp"
#include "flowpic/picture/dense_picture.hpp"
#include "flowpic/picture/sparse_stack.hpp"

namespace flowpic::picture {

namespace detail {

template <class T>
void write_npy_header(std::ostream& out, const std::vector<std::size_t>& shape) {
    xt::detail::write_header(out, xt::detail::build_typestring<T>(), false, shape);
}

inline std::ofstream open_npy_out(const std::string& path) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error(location{path}, std::string("cannot open for writing: ") + std::strerror(errno));
    return f;
}

inline void check_written(std::ofstream& f, const std::string& path) {
    f.flush();
    if (!f) throw io_error(location{path}, "write failed");
}

}  // namespace detail

template <class T>
void save_npy(const std::string& path, const dense_picture<T>& p) {
    std::vector<std::size_t> shape;
    if (p.channels != 1) shape.push_back(p.channels);
    shape.push_back(p.height);
    shape.push_back(p.width);
    auto view = xt::adapt(p.data.data(), p.data.size(), xt::no_ownership(), shape);
    auto f = detail::open_npy_out(path);
    xt::detail::dump_npy_stream(f, view);
    detail::check_written(f, path);
}

template <class T>
void save_npy(const std::string& path, std::span<const dense_picture<T>> stack) {
    auto f = detail::open_npy_out(path);
    const dense_picture<T>* first = stack.empty() ? nullptr : &stack.front();
    const std::size_t c = first ? first->channels : 1, h = first ? first->height : 0, w = first ? first->width : 0;
    detail::write_npy_header<T>(f, {stack.size(), c, h, w});
    for (const auto& p : stack) {
        if (p.channels != c || p.height != h || p.width != w)
            throw std::invalid_argument("flowpic: save_npy of a stack needs pictures of one geometry");
        f.write(reinterpret_cast<const char*>(p.data.data()), static_cast<std::streamsize>(p.data.size() * sizeof(T)));
    }
    detail::check_written(f, path);
}

// A sparse stack written dense, one picture in memory at a time.
template <class T>
void save_npy(const std::string& path, const sparse_stack<T>& stack) {
    auto f = detail::open_npy_out(path);
    detail::write_npy_header<T>(f, {stack.size(), stack.channels(), stack.height(), stack.width()});
    dense_picture<T> d;
    for (std::size_t i = 0; i < stack.size(); ++i) {
        stack[i].densify(d);
        f.write(reinterpret_cast<const char*>(d.data.data()), static_cast<std::streamsize>(d.data.size() * sizeof(T)));
    }
    detail::check_written(f, path);
}

// An .npy array of element type T as read from a file.
template <class T>
struct npy_array {
    std::vector<std::size_t> shape;
    std::vector<T> data;
};

// Reads an .npy file of element type T (C order), checking its header against the file size.
template <class T>
npy_array<T> load_npy(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
    f.seekg(0, std::ios::end);
    const auto file_size = static_cast<std::uint64_t>(f.tellg());
    f.seekg(0);
    std::string descr;
    bool fortran = false;
    std::vector<std::size_t> shape;
    try {
        unsigned char major = 0, minor = 0;
        xt::detail::read_magic(f, &major, &minor);
        // the header length is read here, not by xnpy (which sign-extends its bytes)
        unsigned char len[4] = {0, 0, 0, 0};
        const int len_bytes = major == 1 ? 2 : major == 2 || major == 3 ? 4 : 0;
        if (len_bytes == 0 || minor != 0)
            throw std::runtime_error("unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
        f.read(reinterpret_cast<char*>(len), len_bytes);
        const std::uint64_t header_len = std::uint64_t{len[0]} | std::uint64_t{len[1]} << 8 | std::uint64_t{len[2]} << 16 |
                                         std::uint64_t{len[3]} << 24;
        if (!f || header_len == 0 || header_len > file_size) throw std::runtime_error("truncated .npy header");
        std::string header(static_cast<std::size_t>(header_len), '\0');
        f.read(header.data(), static_cast<std::streamsize>(header_len));
        if (!f || header.back() != '\n') throw std::runtime_error("truncated .npy header");
        xt::detail::parse_header(header, descr, &fortran, shape);
    } catch (const flowpic::error&) {
        throw;
    } catch (const std::exception& e) {
        throw format_error(location{path, 0}, std::string("not a readable .npy file: ") + e.what());
    }
    const auto data_offset = static_cast<std::uint64_t>(f.tellg());
    if (descr != xt::detail::build_typestring<T>())
        throw format_error(location{path, 0}, "element type " + descr + ", expected " + xt::detail::build_typestring<T>());
    if (fortran) throw format_error(location{path, 0}, "Fortran-ordered arrays are not supported");
    std::uint64_t count = 1;
    for (std::size_t d : shape) {
        if (d != 0 && count > (~std::uint64_t{0} / sizeof(T)) / d)
            throw format_error(location{path, 0}, "shape too large");
        count *= d;
    }
    const std::uint64_t need = data_offset + count * sizeof(T);
    if (need != file_size)
        throw format_error(location{path, std::min(need, file_size)},
                           "header promises " + std::to_string(count * sizeof(T)) + " data bytes, file holds " +
                               std::to_string(file_size - std::min(data_offset, file_size)));
    npy_array<T> a;
    a.shape = std::move(shape);
    a.data.resize(static_cast<std::size_t>(count));
    f.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(count * sizeof(T)));
    if (!f) throw format_error(location{path, data_offset}, "read failed");
    return a;
}

// One picture saved by save_npy: (H, W) or (C, H, W).
template <class T>
dense_picture<T> load_npy_picture(const std::string& path) {
    npy_array<T> a = load_npy<T>(path);
    dense_picture<T> p;
    if (a.shape.size() == 2) {
        p.channels = 1;
        p.height = a.shape[0];
        p.width = a.shape[1];
    } else if (a.shape.size() == 3) {
        p.channels = a.shape[0];
        p.height = a.shape[1];
        p.width = a.shape[2];
    } else {
        throw format_error(location{path, 0}, "a picture is (H, W) or (C, H, W), this array has " +
                                                   std::to_string(a.shape.size()) + " dimensions");
    }
    p.data = std::move(a.data);
    return p;
}

}  // namespace flowpic::picture
