# cmake -DSOURCE_DIR= -DBINARY_DIR= -DCXX= -DFLAGS= -DSHARED_DATA= -P build_sanitized.cmake
# Configures (once) and builds the sanitized copy of the project that tests/sanitize runs.
if(NOT EXISTS "${BINARY_DIR}/CMakeCache.txt")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BINARY_DIR}"
      -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Sanitize
      "-DCMAKE_CXX_FLAGS_SANITIZE=-O1 -g1 ${FLAGS}"
      "-DCMAKE_EXE_LINKER_FLAGS_SANITIZE=-fsanitize=address,undefined"
      "-DCMAKE_SHARED_LINKER_FLAGS_SANITIZE=-fsanitize=address,undefined"
      -DFLOWPIC_WARNINGS_AS_ERRORS=ON -DFLOWPIC_SANITIZER_TESTS=OFF
      -DFLOWPIC_BUILD_BENCHMARKS=OFF -DFLOWPIC_BUILD_EXAMPLES=OFF -DFLOWPIC_BUILD_PYTHON=OFF
      -DFLOWPIC_ENABLE_CUDA=OFF -DFLOWPIC_ENABLE_MPI=OFF -DFLOWPIC_INSTALL=OFF -DFLOWPIC_BUILD_TOOLS=OFF
      "-DFLOWPIC_SHARED_DATA=${SHARED_DATA}"
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    file(REMOVE "${BINARY_DIR}/CMakeCache.txt")
    message(FATAL_ERROR "sanitize/build: configuring ${BINARY_DIR} failed")
  endif()
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} --build "${BINARY_DIR}" --target flowpic_sanitized_unit_tests flowpic_data_tests
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "sanitize/build: building ${BINARY_DIR} failed")
endif()
