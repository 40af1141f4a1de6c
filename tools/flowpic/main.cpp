// The flowpic command-line tool.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "damage.hpp"
#include "distributed.hpp"
#include "flowpic/config.hpp"
#include "flowpic/core/error.hpp"

int main(int argc, char** argv) {
    CLI::App app{"flowpic: classify encrypted traffic from FlowPic pictures of its flows"};
    app.set_version_flag("--version", std::to_string(FLOWPIC_VERSION_MAJOR) + "." +
                                          std::to_string(FLOWPIC_VERSION_MINOR) + "." +
                                          std::to_string(FLOWPIC_VERSION_PATCH));
    app.require_subcommand(1);
    flowpic::tool::add_all_commands(app);
    // One rank of several that fails ends the job: the others would wait for it forever.
    const auto fail = [](const char* what) {
        auto& c = flowpic::tool::communicator_slot();
        if (c && c->size() > 1) {
            std::fprintf(stderr, "flowpic: error on rank %d of %d: %s\n", c->rank(), c->size(), what);
            std::fflush(stderr);
            c->abort(2);
        }
        std::fprintf(stderr, "flowpic: error: %s\n", what);
        return 2;
    };
    int status = 0;
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        status = app.exit(e);
    } catch (const std::exception& e) {
        status = fail(e.what());
    }
    flowpic::tool::communicator_slot().reset();
    if (status == 0 && flowpic::tool::damaged_inputs() > 0) status = flowpic::tool::exit_damaged;
    return status;
}
