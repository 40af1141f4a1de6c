#pragma once
// What the Python module's translation units share (python/): numpy columns that own C++
// vectors, inputs by path or bytes, the model wrapper, and the functions of the heavy parts,
// each in a translation unit of its own (bind_classify.cpp, bind_train.cpp) so that no one
// compile needs the memory of all of them.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <oneapi/tbb/global_control.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "flowpic/core/error.hpp"
#include "flowpic/core/flow_key.hpp"
#include "flowpic/presets/model.hpp"

namespace py = pybind11;

namespace flowpic::python {


// A vector handed to numpy without a copy: the array owns it through a capsule.
template <class T>
inline py::array_t<T> to_numpy(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
    auto* held = new std::vector<T>(std::move(v));
    py::capsule owner(held, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>(std::move(shape), held->data(), owner);
}
template <class T>
inline py::array_t<T> to_numpy(std::vector<T>&& v) {
    const auto n = static_cast<py::ssize_t>(v.size());
    return to_numpy(std::move(v), {n});
}

// numpy has no bool vector without bytes: bools travel as uint8 and are viewed as bool.
inline py::array to_numpy_bool(std::vector<std::uint8_t>&& v) { return to_numpy(std::move(v)).attr("view")("bool"); }

// What a call reads: a path, or bytes written to an anonymous in-memory file (memfd), read by
// the same code as a file through /proc/self/fd/N.
class input {
public:
    explicit input(const py::object& o) {
        if (py::isinstance<py::str>(o) || py::hasattr(o, "__fspath__")) {
            path_ = py::str(py::module_::import("os").attr("fspath")(o)).cast<std::string>();
            return;
        }
        if (!PyObject_CheckBuffer(o.ptr())) throw py::type_error("expected a path (str, os.PathLike) or bytes");
        const py::buffer_info b = py::reinterpret_borrow<py::buffer>(o).request();
        const auto* p = static_cast<const char*>(b.ptr);
        std::size_t left = static_cast<std::size_t>(b.size * b.itemsize);
        fd_ = ::memfd_create("flowpic-bytes", MFD_CLOEXEC);
        if (fd_ < 0) throw io_error(location{"<bytes>"}, std::string("memfd_create: ") + std::strerror(errno));
        while (left > 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw io_error(location{"<bytes>"}, std::string("write: ") + std::strerror(errno));
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~input() {
        if (fd_ >= 0) ::close(fd_);
    }
    input(const input&) = delete;
    input& operator=(const input&) = delete;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

// oneTBB held to `threads` while it lives (none for 0).
inline std::unique_ptr<oneapi::tbb::global_control> thread_limit(int threads) {
    if (threads <= 0) return nullptr;
    return std::make_unique<oneapi::tbb::global_control>(oneapi::tbb::global_control::max_allowed_parallelism,
                                                         static_cast<std::size_t>(threads));
}

inline std::string src_text(const flow_key& k) {  // as flows::key_csv prints it
    return (k.src.family == ip_family::none && k.session != 0) ? "session" + std::to_string(k.session) : k.src.str();
}

// The 5-tuple columns of rows.
struct key_columns {
    std::vector<std::string> src, dst;
    std::vector<std::uint16_t> sport, dport;
    std::vector<std::uint8_t> proto;

    void add(const flow_key& k) {
        src.push_back(src_text(k));
        dst.push_back(k.dst.str());
        sport.push_back(k.sport);
        dport.push_back(k.dport);
        proto.push_back(k.proto);
    }
    void put(py::dict& d) {
        d["src"] = py::cast(src);
        d["dst"] = py::cast(dst);
        d["sport"] = to_numpy(std::move(sport));
        d["dport"] = to_numpy(std::move(dport));
        d["proto"] = to_numpy(std::move(proto));
    }
};

// A model file, read and checked (presets/model.hpp).
struct py_model {
    presets::model m;
};

// bind_classify.cpp
py::dict classify(const py::object& what, const py_model& pm, const std::string& decision, std::size_t batch,
                  std::optional<float> min_score, bool all_windows, std::optional<std::uint32_t> min_packets,
                  double idle_timeout, std::size_t max_flows, std::size_t max_packets, int threads);

// bind_train.cpp
py::dict tensors_of(const py_model& pm);
py_model model_from_tensors(const std::string& preset, const py::dict& tensors, const std::vector<std::string>& classes);
py::dict build_dataset(const std::vector<std::string>& data, const std::string& out, const std::string& preset,
                       const std::string& split, std::uint64_t seed, const std::vector<std::string>& where, bool all_windows,
                       std::optional<std::uint32_t> min_packets);
struct train_args {
    std::string data, out, preset, augment, class_weights;
    std::uint64_t seed = 1;
    std::size_t epochs = 50, batch = 0, patience = 5;
    double lr = 1e-3, min_delta = 0, unknown_quantile = 0.05;
};
py::dict train_model(const train_args& o, int threads, const py::object& on_epoch);
py::dict evaluate(const py_model& pm, const std::string& data, const std::string& split_arg, std::optional<float> min_score,
                  std::size_t batch, bool all_windows, std::optional<std::uint32_t> min_packets, int threads);

}  // namespace flowpic::python
