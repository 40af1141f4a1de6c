# Writes broken captures for the CLI tests into OUT_DIR, cut from or built on SAMPLE (a pcap):
#   truncated.pcap       the sample cut in the middle of a packet record
#   short_header.pcap    the first 20 bytes of the 24-byte file header
#   huge_record.pcap     a valid file header, then a record claiming 2 GiB of captured bytes
#   garbage.pcap         binary bytes that are no capture format
#   empty.pcap           zero bytes
#   tree/{a,b}/          a class tree: a/ holds the sample without its last byte, b/ the sample
cmake_minimum_required(VERSION 3.25)
file(MAKE_DIRECTORY "${OUT_DIR}")
file(SIZE "${SAMPLE}" size)
if(size LESS 4096)
  message(FATAL_ERROR "${SAMPLE} is too small (${size} bytes) to cut")
endif()
# A little-endian classic pcap: 24-byte file header, then records of a 16-byte header (captured
# length at bytes 8..11) and the data. Cut halfway through the data of the second record.
file(READ "${SAMPLE}" magic LIMIT 4 HEX)
if(NOT magic STREQUAL "d4c3b2a1")
  message(FATAL_ERROR "${SAMPLE} is not a little-endian microsecond pcap (magic ${magic})")
endif()
function(caplen_at offset out)
  file(READ "${SAMPLE}" h OFFSET ${offset} LIMIT 4 HEX)
  string(REGEX REPLACE "^(..)(..)(..)(..)$" "\\4\\3\\2\\1" be "${h}")
  math(EXPR v "0x${be}")
  set(${out} ${v} PARENT_SCOPE)
endfunction()
caplen_at(32 first)
math(EXPR second_record "24 + 16 + ${first}")
math(EXPR second_caplen_at "${second_record} + 8")
caplen_at(${second_caplen_at} second)
math(EXPR cut "${second_record} + 16 + ${second} / 2")
if(second LESS 2)
  message(FATAL_ERROR "the second record of ${SAMPLE} is too short to cut")
endif()
function(run)
  execute_process(COMMAND sh -c "${ARGV0}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGV0}")
  endif()
endfunction()
run("head -c ${cut} '${SAMPLE}' > '${OUT_DIR}/truncated.pcap'")
run("head -c 20 '${SAMPLE}' > '${OUT_DIR}/short_header.pcap'")
run("{ head -c 24 '${SAMPLE}'; printf '\\000\\000\\000\\000\\000\\000\\000\\000\\377\\377\\377\\177\\377\\377\\377\\177abcdefgh'; } > '${OUT_DIR}/huge_record.pcap'")
run("printf '\\001\\002\\003\\004\\377\\376\\375\\374\\000\\000\\200\\201' > '${OUT_DIR}/garbage.pcap'")
file(WRITE "${OUT_DIR}/empty.pcap" "")
file(MAKE_DIRECTORY "${OUT_DIR}/tree/a" "${OUT_DIR}/tree/b")
math(EXPR all_but_one "${size} - 1")
run("head -c ${all_but_one} '${SAMPLE}' > '${OUT_DIR}/tree/a/cut.pcap'")
file(COPY_FILE "${SAMPLE}" "${OUT_DIR}/tree/b/sample.pcap")
