# CTest tests that fuzz each parser: fuzz/<name> runs scripts/run_fuzzer.sh <name> for
# $FLOWPIC_FUZZ_SECONDS seconds (read when the test runs; default 10), label `fuzz`. A crash, a
# leak, a timeout (10 s per input), a sanitizer report, a broken invariant or an exception other
# than flowpic::error fails the test. The targets are a separate clang++ project (tests/fuzz),
# configured and built by the fixture test fuzz/build into <build>/fuzz. Exclude them with
# `ctest -LE fuzz`; they are registered only where clang++ is found.
find_program(FLOWPIC_FUZZ_CXX NAMES clang++ clang++-16 clang++-15 clang++-14 DOC "clang++ with libFuzzer, for the fuzz tests")
if(NOT FLOWPIC_FUZZ_CXX)
  message(STATUS "flowpic: no clang++, so no fuzz tests")
  return()
endif()

find_program(FLOWPIC_BASH bash REQUIRED)
set(_flowpic_fuzz_dir "${PROJECT_BINARY_DIR}/fuzz")
set(_flowpic_fuzz_env
  "FLOWPIC_FUZZ_BUILD_DIR=${_flowpic_fuzz_dir}"
  "FLOWPIC_FUZZ_CXX=${FLOWPIC_FUZZ_CXX}"
  "FLOWPIC_SHARED_DATA=${FLOWPIC_SHARED_DATA}")

add_test(NAME fuzz/build COMMAND ${FLOWPIC_BASH} "${PROJECT_SOURCE_DIR}/scripts/run_fuzzer.sh" build)
set_tests_properties(fuzz/build PROPERTIES
  LABELS fuzz FIXTURES_SETUP flowpic_fuzzers ENVIRONMENT "${_flowpic_fuzz_env}")

file(GLOB _flowpic_fuzz_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/fuzz_*.cpp)
foreach(_source IN LISTS _flowpic_fuzz_sources)
  string(REGEX REPLACE ".*/fuzz_(.*)\\.cpp$" "\\1" _name "${_source}")
  add_test(NAME fuzz/${_name} COMMAND ${FLOWPIC_BASH} "${PROJECT_SOURCE_DIR}/scripts/run_fuzzer.sh" ${_name})
  set_tests_properties(fuzz/${_name} PROPERTIES
    LABELS fuzz FIXTURES_REQUIRED flowpic_fuzzers ENVIRONMENT "${_flowpic_fuzz_env};FLOWPIC_FUZZ_NO_BUILD=1")
endforeach()
