#pragma once
// Output directories (render --out, export-weights --to): a directory that already holds a
// previous run's output is refused unless --force (replace it) or, where adding makes sense,
// --append; single files are replaced atomically and need neither (core/atomic_file.hpp).

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "flowpic/core/atomic_file.hpp"
#include "flowpic/core/error.hpp"

namespace flowpic::tool {

enum class existing_output { refuse, replace, append };

inline CLI::Option* add_force_flag(CLI::App& cmd, bool& force, const std::string& what) {
    return cmd.add_flag("--force", force, "write into a directory that already holds " + what + ", replacing it");
}

// Creates `dir` if missing; refuses (io_error naming the directory and the first file found) when
// it holds output, i.e. a file `is_output` accepts, and `mode` is refuse. Returns those files.
template <class Pred>
std::vector<std::filesystem::path> prepare_output_dir(const std::string& dir, existing_output mode, Pred is_output,
                                                      const std::string& flags = "--force") {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw io_error(location{dir}, "cannot create the directory: " + ec.message());
    std::vector<fs::path> found;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (is_output(name) && !is_atomic_temp_name(name)) found.push_back(it->path());
    }
    if (ec) throw io_error(location{dir}, "cannot list the directory: " + ec.message());
    std::sort(found.begin(), found.end());
    if (!found.empty() && mode == existing_output::refuse)
        throw io_error(location{dir}, "already holds output (" + found.front().filename().string() +
                                          "): give " + flags + " to write into it, or choose another directory");
    return found;
}

}  // namespace flowpic::tool
