# On a terminal (script(1) gives the command one) a long command draws its progress line, and
# --quiet takes it away.
#   cmake -DSCRIPT=script -DTOOL=flowpic -DSAMPLE=capture -DOUT_DIR=dir -P tty_progress.cmake
cmake_minimum_required(VERSION 3.25)
foreach(quiet "" " --quiet")
  file(REMOVE_RECURSE "${OUT_DIR}")
  execute_process(COMMAND "${SCRIPT}" -qec "'${TOOL}' render '${SAMPLE}' --preset mini_flowpic --out '${OUT_DIR}'${quiet}" /dev/null
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "script -c 'flowpic render${quiet}' exited with ${rc}:\n${out}\n${err}")
  endif()
  string(ASCII 13 27 cr_esc)
  string(FIND "${out}" "${cr_esc}[Kflowpic render: " at)
  if(quiet STREQUAL "" AND at LESS 0)
    message(FATAL_ERROR "no progress line on a terminal:\n${out}")
  elseif(NOT quiet STREQUAL "" AND NOT at LESS 0)
    message(FATAL_ERROR "a progress line despite --quiet:\n${out}")
  endif()
endforeach()
