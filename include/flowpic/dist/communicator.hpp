#pragma once
// The communicator policy: who else works on a job and how results travel between them. Every
// distributed step (sharded datasets, data-parallel training, sharded classification) takes one,
// the way every stage takes a backend tag:
//
//   dist::single_process   one process, the default; every collective is a copy (dist/single_process.hpp)
//   dist::mpi              the ranks of an MPI communicator (dist/mpi.hpp, needs flowpic::mpi)
//   dist::any_communicator either, chosen at run time (dist/any_communicator.hpp; the tool's)
//
// Collectives move bytes in rank order, so every merge above them is deterministic: a result
// depends on the data and the seed, never on the number of ranks or on timing.

#include <concepts>
#include <cstddef>
#include <span>
#include <vector>

namespace flowpic::dist {

template <class C>
concept communicator = requires(C& c, const C& cc, std::span<const std::byte> mine, std::vector<std::byte>& all,
                                std::vector<std::size_t>& sizes, int root) {
    { cc.rank() } -> std::convertible_to<int>;
    { cc.size() } -> std::convertible_to<int>;
    // every rank's bytes, back to back in rank order, on every rank; sizes[r]: rank r's count
    c.all_gather(mine, all, sizes);
    // the same, on `root` only (all and sizes stay empty elsewhere)
    c.gather(mine, all, sizes, root);
    // root's bytes on every rank
    c.broadcast(all, root);
    c.barrier();
};

}  // namespace flowpic::dist
