#pragma once
// Typed helpers over a communicator's byte collectives (dist/communicator.hpp): arrays of
// trivially copyable values, and the sharding rule every distributed step uses.

#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "flowpic/dist/communicator.hpp"

namespace flowpic::dist {

// Item i of a list belongs to rank i mod size: files of similar size, which sorted paths tend to
// put next to each other, spread over the ranks.
[[nodiscard]] constexpr bool mine(std::size_t item, int rank, int size) noexcept {
    return size <= 1 || item % static_cast<std::size_t>(size) == static_cast<std::size_t>(rank);
}

// Every rank's values, back to back in rank order, on every rank; counts[r] is rank r's count.
template <class T, communicator C>
std::vector<T> all_gather(C& comm, std::span<const T> values, std::vector<std::size_t>* counts = nullptr) {
    static_assert(std::is_trivially_copyable_v<T>, "dist::all_gather moves values as bytes");
    std::vector<std::byte> all;
    std::vector<std::size_t> sizes;
    comm.all_gather(std::as_bytes(values), all, sizes);
    std::vector<T> out(all.size() / sizeof(T));
    if (!all.empty()) std::memcpy(out.data(), all.data(), all.size());
    if (counts) {
        counts->clear();
        for (auto s : sizes) counts->push_back(s / sizeof(T));
    }
    return out;
}

}  // namespace flowpic::dist
