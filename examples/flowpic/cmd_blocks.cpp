// flowpic blocks CAPTURE [--block S] [--stride S] ...: one CSV row per block, streamed.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/flows/flow_csv.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "input.hpp"
#include "options.hpp"

namespace flowpic::tool {

namespace {

template <class Key>
void list_blocks(const std::string& path, const flow_options& fo, const block_options& bo) {
    std::puts(flows::block_csv_header);
    with_source(path, [&](auto& src) {
        flows::flow_table<Key> table(fo.table_limits(), bo.spec());
        flows::callback_sink out{[&](const blocks::block& b) { std::puts(flows::block_csv_row(b).c_str()); },
                                 flows::ignore{}};
        table.consume(src, out);
    });
}

}  // namespace

namespace {
void add_blocks_command(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "blocks", "List the blocks (time windows of flows) of a capture as CSV: " + std::string(flows::block_csv_header));
    auto path = std::make_shared<std::string>();
    auto fo = std::make_shared<flow_options>();
    auto bo = std::make_shared<block_options>();
    cmd->add_option("CAPTURE", *path, "pcap, pcapng or a supported CSV/workload file")->required();
    add_flow_options(*cmd, *fo);
    add_block_options(*cmd, *bo);
    cmd->callback([path, fo, bo] {
        if (fo->bidirectional) list_blocks<flows::bidirectional>(*path, *fo, *bo);
        else list_blocks<flows::unidirectional>(*path, *fo, *bo);
    });
}

const registrar reg_blocks{"blocks", 20, &add_blocks_command};
}  // namespace

}  // namespace flowpic::tool
