#pragma once
// The tool's communicator: MPI's ranks when an MPI launcher (mpirun, mpiexec, srun) started the
// process and the tool was built with flowpic::mpi, else one process. Made on first use, so
// commands that do not distribute never start MPI; main() ends it.

#include <cstdlib>
#include <memory>

#include "flowpic/dist/any_communicator.hpp"
#include "flowpic/dist/mpi.hpp"

namespace flowpic::tool {

// Open MPI, MPICH/Hydra, PMIx (srun --mpi=pmix) and PMI-2 launchers set one of these.
[[nodiscard]] inline bool launched_by_mpi() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS"})
        if (std::getenv(v)) return true;
    return false;
}

inline std::unique_ptr<dist::any_communicator>& communicator_slot() {
    static std::unique_ptr<dist::any_communicator> c;
    return c;
}

inline dist::any_communicator& communicator() {
    auto& c = communicator_slot();
    if (!c) {
#if FLOWPIC_HAS_MPI
        if (launched_by_mpi()) c = std::make_unique<dist::any_communicator>(std::make_unique<dist::mpi>());
#endif
        if (!c) c = std::make_unique<dist::any_communicator>(dist::single_process{});
    }
    return *c;
}

// Rank 0 speaks for the job (reports, output files); every rank when there is one.
[[nodiscard]] inline bool lead_rank() { return !communicator_slot() || communicator_slot()->rank() == 0; }

}  // namespace flowpic::tool
