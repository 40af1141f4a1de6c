# `flowpic dataset` on a tree made here: per class, as many samples as `flowpic blocks` lists
# blocks with the same windows (an independent count), for three windowings.
#   cmake -DTOOL=flowpic -DSAMPLE=sample.pcap -DLAB_SAMPLE=lab-sample.pcap -DOUT=dir -P dataset_counts.cmake
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/run_checked.cmake)

file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT}/tree/a ${OUT}/tree/b)
file(COPY ${SAMPLE} DESTINATION ${OUT}/tree/a)
file(COPY ${LAB_SAMPLE} DESTINATION ${OUT}/tree/b)
get_filename_component(a_file ${SAMPLE} NAME)
get_filename_component(b_file ${LAB_SAMPLE} NAME)

# name | dataset options | blocks options (the preset's windows and flow grouping, spelled out)
set(cases
  "mini_flowpic|--preset@mini_flowpic|--block@15@--first-only@--ends@any@--bidirectional"
  "mini_all|--preset@mini_flowpic@--all-windows@--min-packets@10|--block@15@--min-packets@10@--bidirectional"
  "shapira2019|--preset@shapira2019|--block@60@--inclusive-end@--min-packets@11@--min-span@50.000000001@--ends@authors@--min-flow-packets@20")
foreach(c IN LISTS cases)
  string(REPLACE "|" ";" parts "${c}")
  list(GET parts 0 name)
  list(GET parts 1 dopts)
  list(GET parts 2 bopts)
  string(REPLACE "@" ";" dopts "${dopts}")
  string(REPLACE "@" ";" bopts "${bopts}")
  run(ignored err ${TOOL} dataset --data ${OUT}/tree ${dopts} --split 1,0,0 --out ${OUT}/${name}.fpd)
  foreach(cls a b)
    run(rows ignored ${TOOL} blocks ${OUT}/tree/${cls}/${${cls}_file} ${bopts})
    string(REGEX MATCHALL "\n" lines "${rows}")
    list(LENGTH lines n)
    math(EXPR n "${n} - 1")  # the header
    if(n LESS 1)
      message(FATAL_ERROR "${name}: flowpic blocks found no block in class ${cls}")
    endif()
    if(NOT err MATCHES "\n${cls} +1 +0 +0 +1 +${n} +0 +0 +${n}\n")
      message(FATAL_ERROR "${name}: class ${cls} should have ${n} training samples of 1 capture:\n${err}")
    endif()
    message(STATUS "${name}: class ${cls}: ${n} samples, as flowpic blocks counts")
  endforeach()
endforeach()
