#pragma once
// The message a bad input gives: what the tests compare against the expected file, offset and line.

#include <string>

#include "flowpic/core/error.hpp"

namespace flowpic::test {

// The what() of the flowpic::format_error that f throws; empty when f throws none (other
// exceptions pass through, so that the test reports them).
template <class F>
std::string format_error_of(F&& f) {
    try {
        f();
    } catch (const format_error& e) {
        return e.what();
    }
    return {};
}

}  // namespace flowpic::test
