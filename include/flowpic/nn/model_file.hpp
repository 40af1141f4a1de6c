#pragma once
// The model file: everything needed to run a trained network again, and nothing that could be
// loaded into the wrong one. Little-endian, versioned, checksummed:
//
//   "FLOWPICM"  u32 version  u32 reserved(0)
//   str preset  str architecture signature  u32 classes, str class name x classes
//   u32 tensors, per tensor: str name ("<i>.weight"), u32 rank, u64 dims x rank, f32 values
//   u64 FNV-1a of every byte before it
//   (str = u32 length + bytes)
//
// Loading checks magic, version, size, checksum, then that the signature (every layer and shape)
// and each tensor's name and shape match the network it is loaded into; any failure is a
// flowpic::format_error naming the file and the byte offset.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/nn/layer.hpp"

namespace flowpic::nn {

inline constexpr char model_magic[8] = {'F', 'L', 'O', 'W', 'P', 'I', 'C', 'M'};
inline constexpr std::uint32_t model_format_version = 1;

struct model_info {
    std::string preset;                 // e.g. "shapira2019"; free text for custom networks
    std::string signature;              // the network's architecture, layer by layer
    std::vector<std::string> classes;   // class names, in output order
};

namespace detail {

inline std::uint64_t fnv1a(const unsigned char* p, std::size_t n) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

class model_writer {
public:
    void bytes(const void* p, std::size_t n) {
        const auto* c = static_cast<const unsigned char*>(p);
        buf_.insert(buf_.end(), c, c + n);
    }
    template <class T>
    void num(T v) {
        unsigned char b[sizeof(T)];
        std::memcpy(b, &v, sizeof(T));  // the project targets little-endian machines
        bytes(b, sizeof(T));
    }
    void str(const std::string& s) {
        num(static_cast<std::uint32_t>(s.size()));
        bytes(s.data(), s.size());
    }
    std::vector<unsigned char>& data() { return buf_; }

private:
    std::vector<unsigned char> buf_;
};

class model_reader {
public:
    model_reader(std::string path, std::vector<unsigned char> data) : path_(std::move(path)), buf_(std::move(data)) {}
    [[nodiscard]] std::size_t offset() const { return pos_; }
    [[nodiscard]] const std::string& path() const { return path_; }
    [[noreturn]] void fail(const std::string& what, std::size_t at) const { throw format_error(location{path_, at}, what); }
    [[noreturn]] void fail(const std::string& what) const { fail(what, pos_); }
    void need(std::size_t n, const char* what) const {
        if (n > end_ - pos_) fail(std::string("truncated model file: ") + what + " runs past the end");
    }
    void limit(std::size_t end) { end_ = end; }
    template <class T>
    T num(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, buf_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string str(const char* what) {
        const auto n = num<std::uint32_t>(what);
        need(n, what);
        std::string s(reinterpret_cast<const char*>(buf_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    void floats(float* out, std::size_t n, const char* what) {
        if (n > (end_ - pos_) / sizeof(float)) fail(std::string("truncated model file: ") + what + " runs past the end");
        std::memcpy(out, buf_.data() + pos_, n * sizeof(float));
        pos_ += n * sizeof(float);
    }
    [[nodiscard]] const std::vector<unsigned char>& data() const { return buf_; }

private:
    std::string path_;
    std::vector<unsigned char> buf_;
    std::size_t pos_ = 0;
    std::size_t end_ = ~std::size_t{0};
};

inline std::vector<unsigned char> slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Checks magic, version and checksum; reads the header. Leaves r at the tensor count.
inline model_info read_header(model_reader& r) {
    const auto& d = r.data();
    if (d.size() < 16 + 8) r.fail("truncated model file: " + std::to_string(d.size()) + " bytes", d.size());
    if (std::memcmp(d.data(), model_magic, 8) != 0) r.fail("not a flowpic model file (bad magic)", 0);
    r.num<std::uint64_t>("magic");
    const auto version = r.num<std::uint32_t>("version");
    if (version != model_format_version)
        r.fail("model format version " + std::to_string(version) + ", this flowpic reads version " +
                   std::to_string(model_format_version),
               8);
    r.num<std::uint32_t>("reserved");
    const std::size_t body = d.size() - 8;
    std::uint64_t stored;
    std::memcpy(&stored, d.data() + body, 8);
    if (stored != fnv1a(d.data(), body)) r.fail("checksum mismatch: the model file is corrupt or truncated", body);
    r.limit(body);
    model_info info;
    info.preset = r.str("preset name");
    info.signature = r.str("architecture signature");
    const auto classes = r.num<std::uint32_t>("class count");
    if (classes > 1'000'000) r.fail("implausible class count " + std::to_string(classes));
    for (std::uint32_t i = 0; i < classes; ++i) info.classes.push_back(r.str("class name"));
    return info;
}

}  // namespace detail

// Preset, signature and class names of a model file, without loading its tensors.
inline model_info read_model_info(std::vector<unsigned char> bytes, const std::string& name) {
    detail::model_reader r(name, std::move(bytes));
    return detail::read_header(r);
}
inline model_info read_model_info(const std::string& path) { return read_model_info(detail::slurp(path), path); }

// What model files and weight directories need of a network, independent of its type.
struct network_view {
    std::string signature;
    std::vector<parameter_tensor> tensors;
    std::span<float> params;
};
template <class Net>
network_view view_of(Net& net) {
    static_assert(std::is_same_v<typename Net::value_type, float>, "model files hold float networks");
    return {Net::signature(), Net::tensors(), net.params()};
}

inline void save_model(const std::string& path, const network_view& net, const std::string& preset,
                       const std::vector<std::string>& classes) {
    detail::model_writer w;
    w.bytes(model_magic, 8);
    w.num(model_format_version);
    w.num(std::uint32_t{0});
    w.str(preset);
    w.str(net.signature);
    w.num(static_cast<std::uint32_t>(classes.size()));
    for (const auto& c : classes) w.str(c);
    w.num(static_cast<std::uint32_t>(net.tensors.size()));
    const auto params = net.params;
    for (const auto& t : net.tensors) {
        w.str(std::to_string(t.group) + "." + t.info.role);
        w.num(static_cast<std::uint32_t>(t.info.dims.size()));
        for (auto dim : t.info.dims) w.num(static_cast<std::uint64_t>(dim));
        for (std::size_t i = 0; i < t.info.size(); ++i) w.num(static_cast<float>(params[t.offset + i]));
    }
    auto& d = w.data();
    const std::uint64_t sum = detail::fnv1a(d.data(), d.size());
    w.num(sum);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error(location{path}, std::string("cannot open for writing: ") + std::strerror(errno));
    f.write(reinterpret_cast<const char*>(d.data()), static_cast<std::streamsize>(d.size()));
    f.flush();
    if (!f) throw io_error(location{path}, "write failed");
}

// Loads the parameters of a model file's bytes (named `name` in errors) into net; returns its header.
inline model_info load_model(std::vector<unsigned char> bytes, const std::string& name, const network_view& net) {
    detail::model_reader r(name, std::move(bytes));
    model_info info = detail::read_header(r);
    if (info.signature != net.signature)
        r.fail("the model file holds a different network: it was saved as\n  " + info.signature +
                   "\nand is being loaded into\n  " + net.signature,
               16);
    const auto& expected = net.tensors;
    const std::size_t at = r.offset();
    const auto n = r.num<std::uint32_t>("tensor count");
    if (n != expected.size())
        r.fail("the model file has " + std::to_string(n) + " tensors, the network " + std::to_string(expected.size()), at);
    std::vector<float> values;
    auto params = net.params;
    for (const auto& t : expected) {
        const std::size_t start = r.offset();
        const std::string tensor = r.str("tensor name");
        const std::string want = std::to_string(t.group) + "." + t.info.role;
        if (tensor != want) r.fail("tensor '" + tensor + "' where '" + want + "' was expected", start);
        const auto rank = r.num<std::uint32_t>("tensor rank");
        if (rank != t.info.dims.size()) r.fail("tensor '" + tensor + "' has rank " + std::to_string(rank) + ", expected " +
                                                   std::to_string(t.info.dims.size()), start);
        std::vector<std::size_t> dims;
        for (std::uint32_t i = 0; i < rank; ++i) dims.push_back(static_cast<std::size_t>(r.num<std::uint64_t>("tensor shape")));
        if (dims != t.info.dims) r.fail("tensor '" + tensor + "' has another shape than the network's", start);
        values.resize(t.info.size());
        r.floats(values.data(), values.size(), "tensor values");
        std::copy(values.begin(), values.end(), params.begin() + static_cast<std::ptrdiff_t>(t.offset));
    }
    if (r.offset() != r.data().size() - 8) r.fail("unexpected bytes after the last tensor");
    return info;
}

inline model_info load_model(const std::string& path, const network_view& net) {
    return load_model(detail::slurp(path), path, net);
}

template <class Net>
void save_model(const std::string& path, Net& net, const std::string& preset, const std::vector<std::string>& classes) {
    save_model(path, view_of(net), preset, classes);
}
template <class Net>
model_info load_model(const std::string& path, Net& net) {
    return load_model(path, view_of(net));
}
template <class Net>
model_info load_model(std::vector<unsigned char> bytes, const std::string& name, Net& net) {
    return load_model(std::move(bytes), name, view_of(net));
}

}  // namespace flowpic::nn
