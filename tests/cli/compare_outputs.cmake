# Two runs of the tool print the same bytes on stdout, both exiting 0; with PIPE, the first reads
# the file PIPE through a pipe on its standard input.
#   cmake -DTOOL=flowpic -DA="a@@b" -DB="c@@d" [-DPIPE=file] -P compare_outputs.cmake
cmake_minimum_required(VERSION 3.25)
string(REPLACE "@@" ";" a "${A}")
string(REPLACE "@@" ";" b "${B}")
if(DEFINED PIPE)
  execute_process(COMMAND cat "${PIPE}" COMMAND "${TOOL}" ${a} RESULTS_VARIABLE rc_a OUTPUT_VARIABLE out_a
                  ERROR_VARIABLE err_a TIMEOUT 120)
  set(ok_a "0;0")
else()
  execute_process(COMMAND "${TOOL}" ${a} RESULT_VARIABLE rc_a OUTPUT_VARIABLE out_a ERROR_VARIABLE err_a TIMEOUT 120)
  set(ok_a "0")
endif()
execute_process(COMMAND "${TOOL}" ${b} RESULT_VARIABLE rc_b OUTPUT_VARIABLE out_b ERROR_VARIABLE err_b TIMEOUT 120)
if(NOT rc_a STREQUAL ok_a OR NOT rc_b EQUAL 0)
  message(FATAL_ERROR "flowpic ${a}: exit ${rc_a}\n${err_a}\nflowpic ${b}: exit ${rc_b}\n${err_b}")
endif()
if(out_a STREQUAL "")
  message(FATAL_ERROR "flowpic ${a} printed nothing")
endif()
if(NOT out_a STREQUAL out_b)
  message(FATAL_ERROR "flowpic ${a} and flowpic ${b} differ:\n${out_a}\n---\n${out_b}")
endif()
