# run(OUT ERR COMMAND...): runs a command, fails the test with the command line and its stderr
# when it exits non-zero, and sets OUT and ERR to its stdout and stderr. For the -P scripts here.
# run_piped(OUT ERR FILE COMMAND...): the same with FILE on standard input through a pipe
# (cat FILE | COMMAND), so that the command reads a stream it cannot seek; FILE "": no pipe.
function(run_piped out err input)
  if(input STREQUAL "")
    execute_process(COMMAND ${ARGN} RESULTS_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
    set(shown "")
  else()
    execute_process(COMMAND cat ${input} COMMAND ${ARGN} RESULTS_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
    set(shown "cat ${input} | ")
  endif()
  string(REGEX REPLACE "[0;]" "" failed "${rc}")  # one status per command: all 0, or it failed
  if(NOT failed STREQUAL "")
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${rc}): ${shown}${command}\n${e}")
  endif()
  set(${out} "${o}" PARENT_SCOPE)
  set(${err} "${e}" PARENT_SCOPE)
endfunction()

macro(run out err)
  run_piped(${out} ${err} "" ${ARGN})
endmacro()
