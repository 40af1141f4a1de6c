#pragma once
// One growing buffer for every kind of CUDA memory (device, pinned host, a network context's):
// reserve() keeps the allocation when it is large enough and otherwise replaces it by one at
// least 1.5 times larger, so that a context settles after its first chunks and then allocates
// nothing. Contents are not kept across a growth (callers reserve before they fill); the caller
// makes sure no work in flight uses a buffer it grows. Plain C++: the memory comes from a policy.
//
// Memory policy M (copyable, may hold state such as a context):
//   S allocate(void** p, std::size_t bytes)   S: a status, value-initialised S{} is success
//   void release(void* p) noexcept

#include <cstddef>
#include <type_traits>
#include <utility>

namespace flowpic::cuda {

// The size a buffer grows to for a request: 1.5x the old capacity at least, rounded up to 4 KiB.
[[nodiscard]] constexpr std::size_t grown_capacity(std::size_t old_capacity, std::size_t bytes) noexcept {
    std::size_t c = old_capacity + old_capacity / 2;
    if (c < bytes) c = bytes;
    constexpr std::size_t page = 4096;
    return (c + page - 1) / page * page;
}

template <class Memory>
class growing_buffer {
public:
    using status = decltype(std::declval<Memory&>().allocate(std::declval<void**>(), std::size_t{}));

    growing_buffer() = default;
    explicit growing_buffer(Memory memory) : memory_(std::move(memory)) {}
    growing_buffer(const growing_buffer&) = delete;
    growing_buffer& operator=(const growing_buffer&) = delete;
    growing_buffer(growing_buffer&& o) noexcept
        : memory_(std::move(o.memory_)), p_(std::exchange(o.p_, nullptr)), cap_(std::exchange(o.cap_, 0)) {}
    growing_buffer& operator=(growing_buffer&& o) noexcept {
        if (this != &o) {
            release();
            memory_ = std::move(o.memory_);
            p_ = std::exchange(o.p_, nullptr);
            cap_ = std::exchange(o.cap_, 0);
        }
        return *this;
    }
    ~growing_buffer() { release(); }

    // At least `bytes` (one page at least, so that the pointer is never null).
    status reserve(std::size_t bytes) {
        if (p_ && bytes <= cap_) return status{};
        const std::size_t cap = grown_capacity(cap_, bytes ? bytes : 1);
        release();
        void* p = nullptr;
        if (const status s = memory_.allocate(&p, cap); s != status{}) return s;
        p_ = p;
        cap_ = cap;
        return status{};
    }
    void release() noexcept {
        if (p_) memory_.release(p_);  // a failure here has nowhere to go
        p_ = nullptr;
        cap_ = 0;
    }

    [[nodiscard]] void* data() const noexcept { return p_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
    template <class T>
    [[nodiscard]] T* as() const noexcept {
        return static_cast<T*>(p_);
    }
    [[nodiscard]] Memory& memory() noexcept { return memory_; }
    [[nodiscard]] const Memory& memory() const noexcept { return memory_; }

private:
    Memory memory_{};
    void* p_ = nullptr;
    std::size_t cap_ = 0;
};

}  // namespace flowpic::cuda
