# Installs flowpic into a scratch prefix, then builds and runs a five-line consumer three ways:
# find_package(flowpic CONFIG), pkg-config, add_subdirectory and FetchContent; with
# FLOWPIC_WITH_CUDA also a consumer of the flowpic::cuda component, with FLOWPIC_WITH_NDPI one of
# flowpic::ndpi.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${FLOWPIC_BINARY_DIR} --prefix ${prefix} --component Unspecified)
foreach(f include/flowpic/flowpic.hpp share/cmake/flowpic/flowpicConfig.cmake
          share/cmake/flowpic/flowpicConfigVersion.cmake share/pkgconfig/flowpic.pc)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install is missing ${f}")
  endif()
endforeach()

# 0. the tool as installed: stripped (Release), its man page, the bundled model, the lab, the docs
if(FLOWPIC_WITH_TOOL)
  foreach(f bin/flowpic share/man/man1/flowpic.1 share/flowpic/models/default.fpm share/flowpic/lab/lab.py
            share/doc/flowpic/README.md share/doc/flowpic/LICENSE share/doc/flowpic/formats.md)
    if(NOT EXISTS ${prefix}/${f})
      message(FATAL_ERROR "install is missing ${f}")
    endif()
  endforeach()
  find_program(READELF readelf)
  if(READELF AND FLOWPIC_BUILD_TYPE STREQUAL "Release")
    execute_process(COMMAND ${READELF} -S ${prefix}/bin/flowpic OUTPUT_VARIABLE sections)
    if(sections MATCHES "\\.symtab")
      message(FATAL_ERROR "the installed tool is not stripped")
    endif()
  endif()
  file(READ ${prefix}/share/man/man1/flowpic.1 man)
  foreach(sub flows classify train eval lab)
    if(NOT man MATCHES "\n\\.SS ${sub}\n")
      message(FATAL_ERROR "the man page has no section for flowpic ${sub}")
    endif()
  endforeach()
  # the installed model classifies the sample as the built-in one does
  execute_process(COMMAND ${prefix}/bin/flowpic classify ${FLOWPIC_SOURCE_DIR}/data/lab/sample/lab-sample.pcap
                  --model ${prefix}/share/flowpic/models/default.fpm OUTPUT_VARIABLE with_file RESULT_VARIABLE rc1)
  execute_process(COMMAND ${prefix}/bin/flowpic classify ${FLOWPIC_SOURCE_DIR}/data/lab/sample/lab-sample.pcap
                  OUTPUT_VARIABLE built_in RESULT_VARIABLE rc2)
  if(NOT rc1 EQUAL 0 OR NOT rc2 EQUAL 0 OR NOT with_file STREQUAL built_in OR with_file STREQUAL "")
    message(FATAL_ERROR "the installed tool and model do not classify the sample as the built-in model")
  endif()
endif()

# 1. find_package
run(${CMAKE_COMMAND} -S ${FLOWPIC_SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/fp
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/fp)
run(${WORK_DIR}/fp/consumer)

# 2. pkg-config
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/share/pkgconfig)
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs flowpic OUTPUT_VARIABLE flags RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config flowpic failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CMAKE_CXX_COMPILER} ${FLOWPIC_SOURCE_DIR}/tests/package/consumer/main.cpp -o ${WORK_DIR}/pc_consumer ${flags})
run(${WORK_DIR}/pc_consumer)

# 3. add_subdirectory
run(${CMAKE_COMMAND} -S ${FLOWPIC_SOURCE_DIR}/tests/package/subdir_consumer -B ${WORK_DIR}/sub
    -DFLOWPIC_SOURCE_DIR=${FLOWPIC_SOURCE_DIR} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/sub)
run(${WORK_DIR}/sub/consumer)
# 4. FetchContent: from the source tree (no install found), then from the installed package
run(${CMAKE_COMMAND} -S ${FLOWPIC_SOURCE_DIR}/tests/package/fetchcontent_consumer -B ${WORK_DIR}/fc
    -DFLOWPIC_SOURCE_DIR=${FLOWPIC_SOURCE_DIR} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/fc)
run(${WORK_DIR}/fc/consumer)
run(${CMAKE_COMMAND} -S ${FLOWPIC_SOURCE_DIR}/tests/package/fetchcontent_consumer -B ${WORK_DIR}/fc_installed
    -DFLOWPIC_SOURCE_DIR=${FLOWPIC_SOURCE_DIR} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
file(READ ${WORK_DIR}/fc_installed/CMakeCache.txt cache)
if(NOT cache MATCHES "flowpic_DIR:PATH=${prefix}")
  message(FATAL_ERROR "FetchContent did not use the installed package")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/fc_installed)
run(${WORK_DIR}/fc_installed/consumer)

# 5. the compiled CUDA component, where it was built: find_package(flowpic COMPONENTS cuda)
if(FLOWPIC_WITH_CUDA)
  if(NOT EXISTS ${prefix}/share/cmake/flowpic/flowpicCudaTargets.cmake)
    message(FATAL_ERROR "install is missing share/cmake/flowpic/flowpicCudaTargets.cmake")
  endif()
  run(${CMAKE_COMMAND} -S ${FLOWPIC_SOURCE_DIR}/tests/package/cuda_consumer -B ${WORK_DIR}/cuda
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/cuda)
  run(${WORK_DIR}/cuda/consumer)
  message(STATUS "find_package(flowpic COMPONENTS cuda) consumer built and ran")
endif()
# 6. the compiled nDPI component, where it was built: find_package(flowpic COMPONENTS ndpi)
if(FLOWPIC_WITH_NDPI)
  if(NOT EXISTS ${prefix}/share/cmake/flowpic/flowpicNdpiTargets.cmake)
    message(FATAL_ERROR "install is missing share/cmake/flowpic/flowpicNdpiTargets.cmake")
  endif()
  run(${CMAKE_COMMAND} -S ${FLOWPIC_SOURCE_DIR}/tests/package/ndpi_consumer -B ${WORK_DIR}/ndpi
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/ndpi)
  run(${WORK_DIR}/ndpi/consumer)
  message(STATUS "find_package(flowpic COMPONENTS ndpi) consumer built and ran")
endif()
message(STATUS "find_package, pkg-config, add_subdirectory and FetchContent consumers all built and ran")
