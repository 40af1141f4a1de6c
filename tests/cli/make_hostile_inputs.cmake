# Writes the inputs of the "nothing silently wrong" CLI tests (issue 20) into OUT_DIR:
#   nan.fpm, preset.fpm, classes.fpm   MODEL forged (flowpic_model_tool forge): a NaN weight, an
#                                      unknown preset, one class; their checksums are right
#   nan_pictures.npy, fortran_maybe.npy, unterminated.npy   pictures numpy would not give
#   weights_nan/                       WEIGHTS (a PyTorch-layout directory) with a NaN in 4.bias.npy
#   zeros4g.fpm                        4 GiB of zeros, sparse (no disk used)
#   backwards.csv                      a per-packet session CSV whose times go back twice
#   tree_backwards/{a,b}/backwards.csv  a dataset tree of it
#   a_directory/                       a directory, given where a capture is expected
#   same.fpd                           a copy of DATASET, for train --out same.fpd
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${OUT_DIR}")
file(MAKE_DIRECTORY "${OUT_DIR}/a_directory")
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGV " " shown)
    message(FATAL_ERROR "failed (${rc}): ${shown}\n${err}")
  endif()
endfunction()
foreach(what nan preset classes)
  run("${HELPER}" forge "${MODEL}" "${OUT_DIR}/${what}.fpm" ${what})
endforeach()
foreach(what nan-pictures fortran-maybe unterminated)
  string(REPLACE "-" "_" name "${what}")
  run("${HELPER}" npy "${OUT_DIR}/${name}.npy" ${what})
endforeach()
file(COPY "${WEIGHTS}/" DESTINATION "${OUT_DIR}/weights_nan")
run("${HELPER}" npy "${OUT_DIR}/weights_nan/4.bias.npy" nan-bias)
file(WRITE "${OUT_DIR}/zeros4g.fpm" "")
run(truncate -s 4G "${OUT_DIR}/zeros4g.fpm")
# one upstream flow: 1 s, 3 s, then 2 s and 0.5 s (back in time: the 2 s one after window [1, 2)
# was handed out, the 0.5 s one before the flow's first packet)
file(WRITE "${OUT_DIR}/backwards.csv" "session,back\nrel_ts_us,len\n1000000,100\n3000000,100\n2000000,100\n500000,100\n")
foreach(_cls a b)  # a two-class tree of it, for dataset
  file(MAKE_DIRECTORY "${OUT_DIR}/tree_backwards/${_cls}")
  file(COPY_FILE "${OUT_DIR}/backwards.csv" "${OUT_DIR}/tree_backwards/${_cls}/backwards.csv")
endforeach()
file(COPY_FILE "${DATASET}" "${OUT_DIR}/same.fpd")
