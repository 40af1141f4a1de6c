# The CUDA backend: the compiled component flowpic::cuda (static library flowpic_cuda), built
# where a CUDA compiler is found: CMAKE_CUDA_COMPILER, CUDACXX, nvcc on PATH, under CUDA_PATH or
# CUDA_HOME, or at the toolkit's standard location /usr/local/cuda. Never part of the header-only
# flowpic::flowpic: FLOWPIC_HAS_CUDA=1 comes with flowpic::cuda only, so the installed package does
# not depend on the build machine's CUDA.
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})  # unset, or NOTFOUND from an earlier search
  find_program(FLOWPIC_NVCC nvcc HINTS ENV CUDA_PATH ENV CUDA_HOME PATH_SUFFIXES bin
               PATHS /usr/local/cuda/bin DOC "nvcc for flowpic::cuda")
  if(FLOWPIC_NVCC)
    set(CMAKE_CUDA_COMPILER "${FLOWPIC_NVCC}" CACHE FILEPATH "CUDA compiler" FORCE)
  endif()
endif()
# nvcc does not inherit the C++ compiler: name it before the language is enabled
if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER AND NOT DEFINED ENV{CUDAHOSTCXX})
  set(CMAKE_CUDA_HOST_COMPILER "${CMAKE_CXX_COMPILER}" CACHE FILEPATH "Host compiler of nvcc")
endif()
include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(STATUS "flowpic: no CUDA compiler, so no flowpic::cuda (FLOWPIC_ENABLE_CUDA=OFF skips the search)")
  return()
endif()
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 80 90)  # A100, H100; 'native' fails on machines without a GPU
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

# C++20 for a target's .cu files. CMake 3.25.1 knows no C++20 flag for nvcc (CUDA_STANDARD 20
# fails), so it is passed raw; CUDA_EXTENSIONS ON stops CMake from appending its own -std=c++17
# after it, which it does when CMAKE_CXX_EXTENSIONS is OFF (nvcc has no GNU mode to switch).
function(flowpic_cuda_cxx20 target)
  set_target_properties(${target} PROPERTIES CUDA_EXTENSIONS ON)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20>)
endfunction()

add_library(flowpic_cuda STATIC
  src/cuda/picture_api.cu
  src/cuda/network_api.cu
  src/cuda/picture_kernels.cu
)
add_library(flowpic::cuda ALIAS flowpic_cuda)
set_target_properties(flowpic_cuda PROPERTIES EXPORT_NAME cuda POSITION_INDEPENDENT_CODE ON)
flowpic_cuda_cxx20(flowpic_cuda)
# --fmad=false keeps nvcc from fusing float64 multiply-adds, as the CPU kernels never do (the
# kernels also spell their float64 operations as _rn intrinsics; the network's float sums ask for
# fused multiply-adds explicitly). --expt-relaxed-constexpr lets the device call the constexpr
# dropout hash of flowpic/nn/random.hpp, so that both sides draw the same masks from one source.
target_compile_options(flowpic_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false --expt-relaxed-constexpr -Xcompiler=-Wall,-Wextra>)
target_include_directories(flowpic_cuda PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(flowpic_cuda INTERFACE flowpic PRIVATE CUDA::cudart_static)
target_compile_definitions(flowpic_cuda INTERFACE FLOWPIC_HAS_CUDA=1)
message(STATUS "flowpic: flowpic::cuda for CUDA architectures ${CMAKE_CUDA_ARCHITECTURES} (${CMAKE_CUDA_COMPILER})")
