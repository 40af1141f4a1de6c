#pragma once
// The executors a network made on first use (nn::executor_for), kept with it so that packed
// weights and workspaces (or a device twin) live as long as the network. Each remembers the
// parameter version it last loaded and reloads when the network's parameters changed since.
// Copies start empty: a copied network makes its own executors.

#include <cstdint>
#include <memory>
#include <vector>

namespace flowpic::nn::detail {

class executor_cache {
public:
    executor_cache() = default;
    executor_cache(const executor_cache&) {}
    executor_cache& operator=(const executor_cache&) {
        slots_.clear();
        return *this;
    }
    executor_cache(executor_cache&&) noexcept = default;
    executor_cache& operator=(executor_cache&&) noexcept = default;
    ~executor_cache() = default;

    // The executor of type E, made on first use and loaded with net's parameters of `version`.
    template <class E, class Net>
    E& get(const Net& net, std::uint64_t version) {
        for (auto& s : slots_)
            if (s.key == &key<E>) {
                auto& e = *static_cast<E*>(s.ptr.get());
                if (!s.loaded || s.version != version) {
                    s.loaded = false;
                    e.load(net);
                    s.version = version;
                    s.loaded = true;
                }
                return e;
            }
        slots_.push_back({&key<E>, {new E(), [](void* p) { delete static_cast<E*>(p); }}, version, false});
        auto& s = slots_.back();
        auto& e = *static_cast<E*>(s.ptr.get());
        e.load(net);
        s.loaded = true;
        return e;
    }

private:
    template <class E>
    static constexpr char key = 0;  // its address names E

    struct slot {
        const void* key;
        std::unique_ptr<void, void (*)(void*)> ptr;
        std::uint64_t version;
        bool loaded;
    };
    std::vector<slot> slots_;
};

}  // namespace flowpic::nn::detail
