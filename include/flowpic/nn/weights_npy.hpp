#pragma once
// A network's parameters as a directory of .npy files in PyTorch layout (conv [out, in, kh, kw],
// dense [out, in], bias [out]), named <i>.weight.npy and <i>.bias.npy, where i counts the layers
// that have parameters from 0 in forward order. A PyTorch state_dict saved this way loads
// directly; Keras kernels need transposing first (conv HWIO -> OIHW, dense (in, out) -> (out, in)).

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/core/npy.hpp"

namespace flowpic::nn {

inline void export_weights(const network_view& net, const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw io_error(location{dir}, "cannot create the directory: " + ec.message());
    const auto params = net.params;
    std::vector<float> buf;
    for (const auto& t : net.tensors) {
        buf.assign(params.begin() + static_cast<std::ptrdiff_t>(t.offset),
                   params.begin() + static_cast<std::ptrdiff_t>(t.offset + t.info.size()));
        npy::save(dir + "/" + std::to_string(t.group) + "." + t.info.role + ".npy", t.info.dims, buf.data());
    }
}

inline void import_weights(const network_view& net, const std::string& dir) {
    auto params = net.params;
    for (const auto& t : net.tensors) {
        const std::string path = dir + "/" + std::to_string(t.group) + "." + t.info.role + ".npy";
        if (!std::filesystem::exists(path)) throw io_error(location{path}, "missing: the network needs this tensor");
        const auto a = npy::load_as<float>(path);
        if (a.dtype != "<f4" && a.dtype != "<f8")
            throw format_error(location{path, 0}, "element type " + a.dtype + ", expected float32 or float64");
        if (a.shape != t.info.dims) {
            std::string want, got;
            for (auto d : t.info.dims) want += std::to_string(d) + " ";
            for (auto d : a.shape) got += std::to_string(d) + " ";
            throw format_error(location{path, 0}, "shape (" + got + ") where the network needs (" + want +
                                                      "), PyTorch layout");
        }
        if (const auto bad = weight_problem(a.data); !bad.empty()) throw format_error(location{path}, bad);
        std::copy(a.data.begin(), a.data.end(), params.begin() + static_cast<std::ptrdiff_t>(t.offset));
    }
}

template <class Net>
void export_weights(Net& net, const std::string& dir) {
    export_weights(view_of(net), dir);
}
template <class Net>
void import_weights(Net& net, const std::string& dir) {
    import_weights(view_of(net), dir);
}

}  // namespace flowpic::nn
