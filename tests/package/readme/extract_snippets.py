#!/usr/bin/env python3
"""Turns the README's C++ snippets into a CMake project, one program per snippet.

extract_snippets.py README OUTDIR
Each ```cpp block becomes snippet_N.cpp: its #include and `using namespace` lines at the top,
after the README's own first lines (<flowpic/flowpic.hpp>, `using namespace flowpic;`), the rest
inside main(). A block that names backend::cuda is built only against flowpic::cuda, with
context_cuda.hpp declaring the inputs the README leaves to the reader. Snippets run in a folder
holding capture.pcap and model.fpm."""
import pathlib
import re
import sys

readme, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
blocks = re.findall(r"^```cpp\n(.*?)^```", readme.read_text(), flags=re.S | re.M)
if not blocks:
    sys.exit(f"{readme}: no ```cpp snippets")
out.mkdir(parents=True, exist_ok=True)
cpu, gpu = [], []
for i, text in enumerate(blocks, 1):
    top, body = [], []
    for line in text.splitlines():
        (top if re.match(r"\s*(#include|using namespace)", line) else body).append(line)
    cuda = "backend::cuda" in text
    head = ["#include <flowpic/flowpic.hpp>", "#include <cstdio>", "#include <exception>"]
    if cuda:
        head.append('#include "context_cuda.hpp"')
    head += top + ["using namespace flowpic;"]
    src = "\n".join(head) + f"""

int main() try {{
    // README.md, C++ snippet {i}
{chr(10).join('    ' + l if l else '' for l in body)}
    return 0;
}} catch (const std::exception& e) {{
    std::fprintf(stderr, "README snippet {i}: %s\\n", e.what());
    return 1;
}}
"""
    (out / f"snippet_{i}.cpp").write_text(src)
    (gpu if cuda else cpu).append(i)
cmake = ["cmake_minimum_required(VERSION 3.25)", "project(flowpic_readme_snippets CXX)",
         "find_package(flowpic 0.1 CONFIG REQUIRED)", "enable_testing()"]
for i in cpu:
    cmake += [f"add_executable(snippet_{i} snippet_{i}.cpp)",
              f"target_link_libraries(snippet_{i} PRIVATE flowpic::flowpic)"]
if gpu:
    cmake += ["find_package(flowpic 0.1 CONFIG QUIET COMPONENTS cuda)", "if(TARGET flowpic::cuda)"]
    for i in gpu:
        cmake += [f"  add_executable(snippet_{i} snippet_{i}.cpp)",
                  f"  target_include_directories(snippet_{i} PRIVATE {pathlib.Path(__file__).parent.as_posix()})",
                  f"  target_link_libraries(snippet_{i} PRIVATE flowpic::cuda)"]
    cmake += ["endif()"]
(out / "CMakeLists.txt").write_text("\n".join(cmake) + "\n")
(out / "snippets.txt").write_text(" ".join(f"{i}:{'gpu' if i in gpu else 'cpu'}" for i in cpu + gpu) + "\n")
print(f"{len(blocks)} snippets: cpu {cpu}, gpu {gpu}")
