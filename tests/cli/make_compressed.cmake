# gzip and zstd copies of a capture (by CMake's own libarchive: no compressor needed), and both
# cut short at half their size.
#   cmake -DSAMPLE=capture.pcap -DOUT_DIR=dir -P make_compressed.cmake
cmake_minimum_required(VERSION 3.25)
file(MAKE_DIRECTORY "${OUT_DIR}")
file(COPY_FILE "${SAMPLE}" "${OUT_DIR}/sample.pcap")
foreach(kind GZip:gz Zstd:zst)
  string(REPLACE ":" ";" k "${kind}")
  list(GET k 0 method)
  list(GET k 1 ext)
  file(ARCHIVE_CREATE OUTPUT "${OUT_DIR}/sample.pcap.${ext}" PATHS "${OUT_DIR}/sample.pcap" FORMAT raw
       COMPRESSION ${method})
  file(SIZE "${OUT_DIR}/sample.pcap.${ext}" size)
  math(EXPR half "${size} / 2")
  execute_process(COMMAND head -c ${half} "${OUT_DIR}/sample.pcap.${ext}" OUTPUT_FILE "${OUT_DIR}/truncated.pcap.${ext}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot cut sample.pcap.${ext}")
  endif()
endforeach()
# a name that says nothing: the content decides
file(COPY_FILE "${OUT_DIR}/sample.pcap.zst" "${OUT_DIR}/sample-zstd.pcap")
