#pragma once
// dist::single_process: the default communicator, one rank; collectives copy (dist/communicator.hpp).

#include <cstddef>
#include <span>
#include <vector>

namespace flowpic::dist {

struct single_process {
    static constexpr const char* name = "single_process";
    [[nodiscard]] static constexpr int rank() noexcept { return 0; }
    [[nodiscard]] static constexpr int size() noexcept { return 1; }
    static void all_gather(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes) {
        all.assign(mine.begin(), mine.end());
        sizes.assign(1, mine.size());
    }
    static void gather(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes,
                       int /*root*/) {
        all_gather(mine, all, sizes);
    }
    static void broadcast(std::vector<std::byte>& /*data*/, int /*root*/) {}
    static void barrier() {}
};

}  // namespace flowpic::dist
