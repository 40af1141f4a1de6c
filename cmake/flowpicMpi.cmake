# MPI for distributed work: the header-only component flowpic::mpi (INTERFACE target flowpic_mpi),
# built where CMake finds an MPI (Debian: libopenmpi-dev). It brings <mpi.h>, the MPI library and
# FLOWPIC_HAS_MPI=1, which enables dist::mpi (include/flowpic/dist/mpi.hpp). Never part of the
# header-only flowpic::flowpic.
find_package(MPI REQUIRED COMPONENTS CXX)
add_library(flowpic_mpi INTERFACE)
add_library(flowpic::mpi ALIAS flowpic_mpi)
set_target_properties(flowpic_mpi PROPERTIES EXPORT_NAME mpi)
target_link_libraries(flowpic_mpi INTERFACE flowpic MPI::MPI_CXX)
target_compile_definitions(flowpic_mpi INTERFACE FLOWPIC_HAS_MPI=1)
message(STATUS "flowpic: flowpic::mpi with MPI ${MPI_CXX_VERSION} (${MPIEXEC_EXECUTABLE})")
