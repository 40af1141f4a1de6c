// The flowpic command-line tool.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "damage.hpp"
#include "flowpic/config.hpp"
#include "flowpic/core/error.hpp"

int main(int argc, char** argv) {
    CLI::App app{"flowpic: classify encrypted traffic from FlowPic pictures of its flows"};
    app.set_version_flag("--version", std::to_string(FLOWPIC_VERSION_MAJOR) + "." +
                                          std::to_string(FLOWPIC_VERSION_MINOR) + "." +
                                          std::to_string(FLOWPIC_VERSION_PATCH));
    app.require_subcommand(1);
    flowpic::tool::add_all_commands(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const flowpic::error& e) {
        std::fprintf(stderr, "flowpic: error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "flowpic: error: %s\n", e.what());
        return 2;
    }
    return flowpic::tool::damaged_inputs() > 0 ? flowpic::tool::exit_damaged : 0;
}
