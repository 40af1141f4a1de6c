#pragma once
// flowpic::cuda::error: a status of the flowpic::cuda API (flowpic/cuda/picture_api.hpp) as a
// flowpic error. Header-only and free of CUDA: the text of a CUDA runtime status comes from the
// library (flowpic_cuda_error_string), so that this mapping can be tested without a GPU.

#include <string>
#include <utility>

#include "flowpic/core/error.hpp"
#include "flowpic/cuda/picture_api.hpp"

namespace flowpic::cuda {

// The status values of the CUDA runtime that mean "no usable device here" (cudaError_t).
inline constexpr int runtime_insufficient_driver = 35;  // cudaErrorInsufficientDriver: no driver, or too old
inline constexpr int runtime_no_device = 100;           // cudaErrorNoDevice

// flowpic's own statuses (< 0) in words; null for the runtime's.
[[nodiscard]] inline const char* status_text(int status) noexcept {
    switch (status) {
        case FLOWPIC_CUDA_SUCCESS: return "success";
        case FLOWPIC_CUDA_INVALID_ARGUMENT: return "invalid argument";
        case FLOWPIC_CUDA_UNSUPPORTED: return "picture configuration not supported by the CUDA kernels";
        case FLOWPIC_CUDA_TOO_LARGE: return "chunk too large for 32-bit packet indices";
        case FLOWPIC_CUDA_BAD_STATE: return "slot used out of order";
        case FLOWPIC_CUDA_TABLE_TOO_SMALL: return "a block has more packets than the value table covers";
        case FLOWPIC_CUDA_NO_DEVICE: return "no CUDA device";
        default: return status < 0 ? "unknown flowpic cuda status" : nullptr;
    }
}

class error : public flowpic::error {
public:
    // `operation`: the API function that failed; `text`: the status in words.
    error(int status, std::string operation, const std::string& text)
        : flowpic::error("flowpic cuda: " + operation + " failed (status " + std::to_string(status) + "): " + text),
          status_(status), operation_(std::move(operation)) {}

    [[nodiscard]] int status() const noexcept { return status_; }
    [[nodiscard]] const std::string& operation() const noexcept { return operation_; }
    // True when the failure means that this machine has no usable CUDA device (tests skip then).
    [[nodiscard]] bool no_device() const noexcept {
        return status_ == FLOWPIC_CUDA_NO_DEVICE || status_ == runtime_insufficient_driver || status_ == runtime_no_device;
    }

private:
    int status_;
    std::string operation_;
};

// Throws cuda::error for a failed status; `text` is the status in words (for the runtime's
// statuses, what flowpic_cuda_error_string gives).
inline void throw_if_failed(int status, const char* operation, const char* text) {
    if (status == FLOWPIC_CUDA_SUCCESS) return;
    const char* own = status_text(status);
    throw error(status, operation ? operation : "flowpic_cuda", own ? own : text ? text : "unknown CUDA error");
}

}  // namespace flowpic::cuda
