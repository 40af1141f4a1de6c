# cmake -DINPUT=file -DOUTPUT=file.cpp -P flowpicEmbedFile.cmake
# Writes a translation unit defining flowpic::tool::default_model_bytes() with INPUT's bytes
# (none when INPUT is empty or missing).
if(INPUT AND EXISTS "${INPUT}")
  file(READ "${INPUT}" hex HEX)
  string(LENGTH "${hex}" n)
  # 32 bytes per line
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
  math(EXPR size "${n} / 2")
  set(body "    static const unsigned char data[${size}] = {\n${bytes}};\n    return {data, data + sizeof data};")
else()
  set(body "    return {};")
endif()
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by cmake/flowpicEmbedFile.cmake: do not edit.\n#include \"default_model.hpp\"\n\nnamespace flowpic::tool {\n\nstd::vector<unsigned char> default_model_bytes() {\n${body}\n}\n\n}  // namespace flowpic::tool\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
