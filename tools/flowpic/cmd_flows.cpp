// flowpic flows CAPTURE | --interface IF [--bidirectional] [--format csv|jsonl]: one row per flow.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/flows/flow_csv.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "input.hpp"
#include "json_writer.hpp"
#include "options.hpp"
#include "table_warnings.hpp"

namespace flowpic::tool {

namespace {

[[nodiscard]] table_format flows_table(const std::string& format) {
    return {output_format_of(format), flows::flow_csv_header, {"sport", "dport", "proto", "packets", "bytes", "first", "last"}};
}

struct flow_row {
    std::uint64_t id;
    std::string text;
};

template <class Key>
void list_flows(const input_options& in, const flow_options& opt, const std::string& format) {
    std::vector<flow_row> rows;
    with_input(in, [&](auto& src) {
        flows::flow_table<Key> table(opt.table_limits());
        flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) {
                                     rows.push_back({f.id, flows::flow_csv_row(f)});
                                 }};
        table.consume(src, out);
        warn_about(in.live() ? in.interface_name : in.capture, counts_of(table));
    });
    // flows end in any order under an idle timeout; print them in order of their first packet
    std::sort(rows.begin(), rows.end(), [](const flow_row& a, const flow_row& b) { return a.id < b.id; });
    const table_format table = flows_table(format);
    std::string out = table.header_line();
    for (const auto& r : rows) {
        out += table.row(r.text);
        out += '\n';
        if (out.size() > (1u << 16)) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            out.clear();
        }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

namespace {
void add_flows_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("flows", "List the flows of a capture as CSV: " + std::string(flows::flow_csv_header));
    auto in = std::make_shared<input_options>();
    auto opt = std::make_shared<flow_options>();
    auto format = std::make_shared<std::string>("csv");
    add_input_options(*cmd, *in);
    add_flow_options(*cmd, *opt);
    add_format_option(*cmd, *format);
    cmd->callback([in, opt, format] {
        if (opt->bidirectional) list_flows<flows::bidirectional>(*in, *opt, *format);
        else list_flows<flows::unidirectional>(*in, *opt, *format);
    });
}

const registrar reg_flows{"flows", 10, &add_flows_command};
}  // namespace

}  // namespace flowpic::tool
