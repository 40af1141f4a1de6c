# The nDPI labeller: the compiled component flowpic::ndpi (static library flowpic_ndpi), built
# where pkg-config finds libndpi (Debian: libndpi-dev). Never part of the header-only
# flowpic::flowpic: FLOWPIC_HAS_NDPI=1 comes with flowpic::ndpi only.
pkg_check_modules(NDPI REQUIRED IMPORTED_TARGET GLOBAL libndpi)
add_library(flowpic_ndpi STATIC src/ndpi/flow_classifier.cpp)
add_library(flowpic::ndpi ALIAS flowpic_ndpi)
set_target_properties(flowpic_ndpi PROPERTIES EXPORT_NAME ndpi POSITION_INDEPENDENT_CODE ON)
target_include_directories(flowpic_ndpi PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# libndpi is linked from the static library, so consumers need it too (PUBLIC in the link sense)
target_link_libraries(flowpic_ndpi PUBLIC flowpic PkgConfig::NDPI)
# flowpic's warnings, but no -march: the installed library runs on any x86-64
target_compile_options(flowpic_ndpi PRIVATE $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow>
                       $<$<BOOL:${FLOWPIC_WARNINGS_AS_ERRORS}>:-Werror>)
target_compile_definitions(flowpic_ndpi INTERFACE FLOWPIC_HAS_NDPI=1)
message(STATUS "flowpic: flowpic::ndpi with nDPI ${NDPI_VERSION}")
