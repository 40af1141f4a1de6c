# Packaging checks: every public header compiles alone; the installed package works for a
# consumer through find_package, pkg-config and add_subdirectory.

file(GLOB_RECURSE FLOWPIC_PUBLIC_HEADERS RELATIVE ${PROJECT_SOURCE_DIR}/include
     CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/flowpic/*.hpp)
set(_tus)
foreach(h IN LISTS FLOWPIC_PUBLIC_HEADERS)
  string(MAKE_C_IDENTIFIER "${h}" id)
  set(tu ${CMAKE_CURRENT_BINARY_DIR}/headers/${id}.cpp)
  file(CONFIGURE OUTPUT ${tu} CONTENT "#include <${h}>\n#include <${h}>  // include guard\n")
  list(APPEND _tus ${tu})
endforeach()
add_library(flowpic_header_check OBJECT EXCLUDE_FROM_ALL ${_tus})
target_link_libraries(flowpic_header_check PRIVATE flowpic::flowpic flowpic_build_options)
add_test(NAME package/headers_compile_alone
         COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target flowpic_header_check)
set_tests_properties(package/headers_compile_alone PROPERTIES RUN_SERIAL TRUE)

add_test(NAME package/install_and_consume
         COMMAND ${CMAKE_COMMAND}
           -DFLOWPIC_BINARY_DIR=${PROJECT_BINARY_DIR}
           -DFLOWPIC_SOURCE_DIR=${PROJECT_SOURCE_DIR}
           -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/package_work
           -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
           -DFLOWPIC_WITH_CUDA=$<TARGET_EXISTS:flowpic_cuda>
           -DFLOWPIC_WITH_NDPI=$<TARGET_EXISTS:flowpic_ndpi>
           -DFLOWPIC_WITH_TOOL=$<TARGET_EXISTS:flowpic_tool>
           -DFLOWPIC_BUILD_TYPE=${CMAKE_BUILD_TYPE}
           -P ${CMAKE_CURRENT_LIST_DIR}/install_and_consume.cmake)
set_tests_properties(package/install_and_consume PROPERTIES RUN_SERIAL TRUE)

find_program(FLOWPIC_PYTHON3 python3)
if(FLOWPIC_PYTHON3)
  add_test(NAME package/readme_snippets
           COMMAND ${CMAKE_COMMAND}
             -DFLOWPIC_BINARY_DIR=${PROJECT_BINARY_DIR}
             -DFLOWPIC_SOURCE_DIR=${PROJECT_SOURCE_DIR}
             -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/readme_snippets
             -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
             -DPYTHON=${FLOWPIC_PYTHON3}
             -DFLOWPIC_WITH_CUDA=$<TARGET_EXISTS:flowpic_cuda>
             -P ${CMAKE_CURRENT_LIST_DIR}/readme_snippets.cmake)
  set_tests_properties(package/readme_snippets PROPERTIES RUN_SERIAL TRUE LABELS package)
endif()

add_test(NAME package/version_consistent
         COMMAND ${CMAKE_COMMAND} -DFLOWPIC_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DVERSION=${PROJECT_VERSION}
                 -DTOOL=$<$<TARGET_EXISTS:flowpic_tool>:$<TARGET_FILE:flowpic_tool>>
                 -P ${CMAKE_CURRENT_LIST_DIR}/version_consistent.cmake)
set_tests_properties(package/version_consistent PROPERTIES LABELS package)
