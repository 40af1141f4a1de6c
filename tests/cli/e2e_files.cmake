# Inputs of the training CLI tests, made at test time:
#   MODE=trees: OUT/tree_chat/chat/<the lab's VPN chat records>, OUT/tree_bad/zzz/<the same>
#   MODE=truncate: OUT = the first BYTES bytes of IN
cmake_minimum_required(VERSION 3.25)
if(MODE STREQUAL "trees")
  foreach(d tree_chat/chat tree_bad/zzz)
    file(REMOVE_RECURSE ${OUT}/${d})
    file(MAKE_DIRECTORY ${OUT}/${d})
    file(COPY ${LAB_DATASET}/chat/chat-vpn-0.fpr DESTINATION ${OUT}/${d})
  endforeach()
elseif(MODE STREQUAL "truncate")
  execute_process(COMMAND sh -c "head -c ${BYTES} '${IN}' > '${OUT}'" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot cut ${IN}")
  endif()
else()
  message(FATAL_ERROR "MODE=trees or MODE=truncate")
endif()
