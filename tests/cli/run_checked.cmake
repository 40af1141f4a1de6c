# run(OUT ERR COMMAND...): runs a command, fails the test with the command line and its stderr
# when it exits non-zero, and sets OUT and ERR to its stdout and stderr. For the -P scripts here.
function(run out err)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " shown)
    message(FATAL_ERROR "failed (${rc}): ${shown}\n${e}")
  endif()
  set(${out} "${o}" PARENT_SCOPE)
  set(${err} "${e}" PARENT_SCOPE)
endfunction()
