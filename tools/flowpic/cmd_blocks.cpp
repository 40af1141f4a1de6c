// flowpic blocks CAPTURE | --interface IF [--block S] [--stride S] [--format csv|jsonl] ...: one row per
// block, streamed.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/flows/flow_csv.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "input.hpp"
#include "json_writer.hpp"
#include "options.hpp"
#include "table_warnings.hpp"

namespace flowpic::tool {

namespace {

template <class Key>
void list_blocks(const input_options& in, const flow_options& fo, const block_options& bo, const std::string& format) {
    const table_format rows(output_format_of(format), flows::block_csv_header,
                            {"sport", "dport", "proto", "block_start", "block_end", "index", "packets", "first", "last"});
    std::fputs(rows.header_line().c_str(), stdout);
    const bool live = in.live();
    with_input(in, [&](auto& src) {
        blocks::windowed_table<Key> table(fo.table_limits(), bo.spec());
        flows::callback_sink out{[&](const blocks::block& b) {
                                     std::puts(rows.row(flows::block_csv_row(b)).c_str());
                                     if (live) std::fflush(stdout);  // rows as windows complete, also into a pipe
                                 },
                                 flows::ignore{}};
        table.consume(src, out);
        std::fflush(stdout);
        warn_about(in.live() ? in.interface_name : in.capture, counts_of(table));
    });
}

}  // namespace

namespace {
void add_blocks_command(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "blocks", "List the blocks (time windows of flows) of a capture as CSV: " + std::string(flows::block_csv_header));
    auto in = std::make_shared<input_options>();
    auto fo = std::make_shared<flow_options>();
    auto bo = std::make_shared<block_options>();
    add_input_options(*cmd, *in);
    add_flow_options(*cmd, *fo);
    add_block_options(*cmd, *bo);
    auto format = std::make_shared<std::string>("csv");
    add_format_option(*cmd, *format);
    cmd->callback([in, fo, bo, format] {
        resolve_input(*in);
        if (fo->bidirectional) list_blocks<flows::bidirectional>(*in, *fo, *bo, *format);
        else list_blocks<flows::unidirectional>(*in, *fo, *bo, *format);
    });
}

const registrar reg_blocks{"blocks", 20, &add_blocks_command};
}  // namespace

}  // namespace flowpic::tool
