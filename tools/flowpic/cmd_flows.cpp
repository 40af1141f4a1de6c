// flowpic flows CAPTURE | --interface IF [--bidirectional] [--order first|end] [--format csv|jsonl]
//               [--threads N]: one row per flow. On more than 2 threads a capture is grouped by a
// flows::sharded_table (the same rows in the same order as one table: flows/sharded_table.hpp).
#include <cstdio>
#include <string>
#include <vector>

#include <oneapi/tbb/global_control.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/flows/creation_order.hpp"
#include "flowpic/flows/flow_csv.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/flows/sharded_table.hpp"
#include "input.hpp"
#include "json_writer.hpp"
#include "options.hpp"
#include "table_warnings.hpp"

namespace flowpic::tool {

namespace {

[[nodiscard]] table_format flows_table(const std::string& format) {
    return {output_format_of(format), flows::flow_csv_header, {"sport", "dport", "proto", "packets", "bytes", "first", "last"}};
}

// Rows reach stdout in 64 KiB writes.
class row_writer {
public:
    explicit row_writer(const table_format& t) : table_(t) {}
    void header() { out_ += table_.header_line(); }
    void operator()(const std::string& csv_row) {
        out_ += table_.row(csv_row);
        out_ += '\n';
        if (out_.size() > (1u << 16)) flush();
    }
    void flush() {
        std::fwrite(out_.data(), 1, out_.size(), stdout);
        out_.clear();
    }

private:
    const table_format& table_;
    std::string out_;
};

template <class Key>
void list_flows(const input_options& in, const flow_options& opt, bool in_end_order, const std::string& format,
                int threads) {
    const table_format layout = flows_table(format);
    row_writer write(layout);
    write.header();
    // first-packet order: a row waits only for the older flows still live (flows/creation_order.hpp)
    flows::creation_order<std::string> rows;
    with_input(in, [&](auto& src) {
        flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) {
                                     if (in_end_order) write(flows::flow_csv_row(f));
                                     else rows.put(f.id, flows::flow_csv_row(f), write);
                                 }};
        // live input (rows as packets come), or 2 threads or fewer (where shards cost more than they
        // save: docs/benchmarks.md, "Ingest on every core"): one table
        const auto allowed = oneapi::tbb::global_control::active_value(oneapi::tbb::global_control::max_allowed_parallelism);
        if (threads == 1 || allowed <= 2 || in.live()) {
            flows::flow_table<Key> table(opt.table_limits());
            table.consume(src, out);
            warn_about(in.live() ? in.interface_name : in.capture, counts_of(table));
            return;
        }
        flows::sharded_table<Key> table(opt.table_limits());
        table.consume(src, out);
        warn_about(in.capture, counts_of(table));
    });
    rows.finish(write);
    write.flush();
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
    auto order = std::make_shared<std::string>("first");
    cmd->add_option("--order", *order,
                    "row order: first (by the flow's first packet; a row waits while an older flow is live) or end "
                    "(each row as its flow ends: memory bounded by --max-flows)")
        ->check(CLI::IsMember({"first", "end"}))
        ->capture_default_str();
    add_format_option(*cmd, *format);
    auto threads = std::make_shared<int>(0);
    add_threads_option(*cmd, *threads);
    cmd->callback([in, opt, order, format, threads] {
        resolve_input(*in);
        const bool end = *order == "end";
        const auto limit = thread_limit(*threads);
        if (opt->bidirectional) list_flows<flows::bidirectional>(*in, *opt, end, *format, *threads);
        else list_flows<flows::unidirectional>(*in, *opt, end, *format, *threads);
    });
}

const registrar reg_flows{"flows", 10, &add_flows_command};
}  // namespace

}  // namespace flowpic::tool
