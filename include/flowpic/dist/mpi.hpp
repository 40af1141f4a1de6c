#pragma once
// dist::mpi: the ranks of an MPI communicator (default MPI_COMM_WORLD) as a communicator policy
// (dist/communicator.hpp). Needs the component flowpic::mpi, which brings <mpi.h> and
// FLOWPIC_HAS_MPI=1; without it the header still compiles and using dist::mpi is a static_assert
// that says what to link.
//
// Errors come back as dist::error (a flowpic::error naming the call, the rank and MPI's text)
// rather than MPI's default abort, so a rank whose peer died says so before the job ends.
// Transfers larger than an int count go in pieces.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "flowpic/config.hpp"
#include "flowpic/core/error.hpp"

// Set to 1 by the flowpic::mpi component's usage requirements, never by the header-only target.
#ifndef FLOWPIC_HAS_MPI
#define FLOWPIC_HAS_MPI 0
#endif

#if FLOWPIC_HAS_MPI
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#endif

namespace flowpic::dist {

// A collective failed: usually because another rank stopped.
class error : public flowpic::error {
public:
    using flowpic::error::error;
};

#if FLOWPIC_HAS_MPI

class mpi {
public:
    static constexpr const char* name = "mpi";

    // Initialises MPI when nobody has yet (and then finalises it when destroyed).
    explicit mpi(MPI_Comm comm = MPI_COMM_WORLD) {
        int ready = 0;
        MPI_Initialized(&ready);
        if (!ready) {
            int provided = 0;
            if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
                throw error("MPI_Init_thread failed");
            owns_ = true;
        }
        check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
        MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &size_);
    }
    mpi(const mpi&) = delete;
    mpi& operator=(const mpi&) = delete;
    ~mpi() {
        int done = 0;
        MPI_Finalized(&done);
        if (!done && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
        if (owns_ && !done) MPI_Finalize();
    }

    [[nodiscard]] int rank() const noexcept { return rank_; }
    [[nodiscard]] int size() const noexcept { return size_; }
    [[nodiscard]] MPI_Comm native() const noexcept { return comm_; }

    void all_gather(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes) {
        sizes = sizes_of(mine.size());
        std::size_t total = 0;
        for (auto s : sizes) total += s;
        all.resize(total);
        if (total <= static_cast<std::size_t>(INT_MAX)) {
            std::vector<int> counts(sizes.begin(), sizes.end()), displs(sizes.size(), 0);
            for (std::size_t r = 1; r < counts.size(); ++r) displs[r] = displs[r - 1] + counts[r - 1];
            check(MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(), counts.data(),
                                 displs.data(), MPI_BYTE, comm_),
                  "MPI_Allgatherv");
            return;
        }
        std::size_t at = 0;
        for (int r = 0; r < size_; ++r) {
            if (r == rank_) std::copy(mine.begin(), mine.end(), all.begin() + static_cast<std::ptrdiff_t>(at));
            bcast_bytes(all.data() + at, sizes[static_cast<std::size_t>(r)], r);
            at += sizes[static_cast<std::size_t>(r)];
        }
    }

    void gather(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes, int root) {
        const std::uint64_t n = mine.size();
        std::vector<std::uint64_t> ns(rank_ == root ? static_cast<std::size_t>(size_) : 0);
        check(MPI_Gather(&n, 1, MPI_UINT64_T, ns.data(), 1, MPI_UINT64_T, root, comm_), "MPI_Gather");
        all.clear();
        sizes.clear();
        if (rank_ == root) {
            sizes.assign(ns.begin(), ns.end());
            std::size_t total = 0;
            for (auto s : sizes) total += s;
            all.resize(total);
            std::size_t at = 0;
            for (int r = 0; r < size_; ++r) {
                const std::size_t m = sizes[static_cast<std::size_t>(r)];
                if (r == rank_) std::copy(mine.begin(), mine.end(), all.begin() + static_cast<std::ptrdiff_t>(at));
                else for (std::size_t o = 0; o < m; o += piece) {
                    const int k = static_cast<int>(std::min(piece, m - o));
                    check(MPI_Recv(all.data() + at + o, k, MPI_BYTE, r, tag, comm_, MPI_STATUS_IGNORE), "MPI_Recv");
                }
                at += m;
            }
        } else {
            for (std::size_t o = 0; o < mine.size(); o += piece) {
                const int k = static_cast<int>(std::min(piece, mine.size() - o));
                check(MPI_Send(mine.data() + o, k, MPI_BYTE, root, tag, comm_), "MPI_Send");
            }
        }
    }

    void broadcast(std::vector<std::byte>& data, int root) {
        std::uint64_t n = data.size();
        check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm_), "MPI_Bcast");
        data.resize(static_cast<std::size_t>(n));
        bcast_bytes(data.data(), data.size(), root);
    }

    void barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

    // Ends every rank of the job (MPI_Abort): for a rank that cannot go on while the others wait.
    [[noreturn]] void abort(int code) const {
        MPI_Abort(comm_, code);
        std::abort();
    }

private:
    static constexpr std::size_t piece = std::size_t{1} << 30;
    static constexpr int tag = 0x464c;
    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0, size_ = 1;
    bool owns_ = false;

    void check(int rc, const char* call) const {
        if (rc == MPI_SUCCESS) return;
        char text[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(rc, text, &len);
        throw error(std::string(call) + " failed on rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
                    ": " + std::string(text, static_cast<std::size_t>(len)) + " (did another rank stop?)");
    }
    std::vector<std::size_t> sizes_of(std::size_t mine) {
        const std::uint64_t n = mine;
        std::vector<std::uint64_t> ns(static_cast<std::size_t>(size_));
        check(MPI_Allgather(&n, 1, MPI_UINT64_T, ns.data(), 1, MPI_UINT64_T, comm_), "MPI_Allgather");
        return {ns.begin(), ns.end()};
    }
    void bcast_bytes(std::byte* p, std::size_t n, int root) {
        for (std::size_t o = 0; o < n; o += piece)
            check(MPI_Bcast(p + o, static_cast<int>(std::min(piece, n - o)), MPI_BYTE, root, comm_), "MPI_Bcast");
    }
};

#else

namespace detail {
template <class T>
inline constexpr bool mpi_linked = false;
}

// Stands in for dist::mpi where flowpic::mpi is not linked; using it is the error.
template <class T = void>
class mpi_not_linked {
    static_assert(detail::mpi_linked<T>,
                  "dist::mpi needs the component flowpic::mpi: target_link_libraries(... flowpic::mpi), "
                  "find_package(flowpic CONFIG COMPONENTS mpi)");
};
using mpi = mpi_not_linked<>;

#endif

}  // namespace flowpic::dist
