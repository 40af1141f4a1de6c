# A capture through a pipe (/dev/stdin) is read once and gives the rows of the file itself:
#   cmake -DTOOL=flowpic -DSAMPLE=capture -DEXPECTED=flows.csv -P stdin_capture.cmake
cmake_minimum_required(VERSION 3.25)
execute_process(COMMAND cat "${SAMPLE}" COMMAND "${TOOL}" flows /dev/stdin
                RESULTS_VARIABLE rcs OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
if(NOT rcs STREQUAL "0;0")
  message(FATAL_ERROR "cat | flowpic flows /dev/stdin exited with ${rcs}\nstderr:\n${err}")
endif()
file(READ "${EXPECTED}" want)
if(NOT out STREQUAL want)
  message(FATAL_ERROR "flows of ${SAMPLE} through a pipe differ from ${EXPECTED}:\n${out}\nstderr:\n${err}")
endif()
