# Progress lines are for terminals only: a long command whose stderr is a file (here a pipe into
# CMake) writes no carriage return or escape sequence there, but still its messages.
#   cmake -DTOOL=flowpic -DARGS="a@@b" -DERR_FILE=file -P no_progress.cmake
cmake_minimum_required(VERSION 3.25)
string(REPLACE "@@" ";" args "${ARGS}")
execute_process(COMMAND "${TOOL}" ${args} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_FILE "${ERR_FILE}" TIMEOUT 120)
file(READ "${ERR_FILE}" err HEX)
if(NOT rc EQUAL 0)
  file(READ "${ERR_FILE}" text)
  message(FATAL_ERROR "flowpic ${args} exited with ${rc}:\n${text}")
endif()
string(LENGTH "${err}" n)
if(n EQUAL 0)
  message(FATAL_ERROR "flowpic ${args} wrote nothing on stderr: expected its summary")
endif()
# bytes at even hex offsets: 0d (CR) or 1b (ESC) anywhere is a progress line
string(REGEX MATCHALL ".." bytes "${err}")
foreach(b IN ITEMS 0d 1b)
  if(b IN_LIST bytes)
    file(READ "${ERR_FILE}" text)
    message(FATAL_ERROR "flowpic ${args} wrote byte 0x${b} (a progress line) into a file:\n${text}")
  endif()
endforeach()
