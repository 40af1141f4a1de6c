#pragma once
// Opens any input the tool reads, by its content, and runs a generic callable on the source.

#include <string>

#include "flowpic/source/any_file.hpp"

namespace flowpic::tool {

template <class F>
decltype(auto) with_source(const std::string& path, F&& f) {
    return source::visit_file(path, std::forward<F>(f));
}

}  // namespace flowpic::tool
