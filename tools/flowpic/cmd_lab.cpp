// flowpic lab --out DIR --seconds S [--vpn no|yes|both] [--categories LIST] [--applications LIST]
// [--sessions N] [--seed N]:
// labelled captures of the five FlowPic categories from real software in network namespaces.
// The lab itself is a set of scripts (scripts/lab, installed beside the tool); this runs them.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/core/error.hpp"
#include "options.hpp"

#ifndef FLOWPIC_LAB_SOURCE_DIR
#define FLOWPIC_LAB_SOURCE_DIR ""
#endif
#ifndef FLOWPIC_LAB_INSTALL_REL
#define FLOWPIC_LAB_INSTALL_REL "../share/flowpic/lab"
#endif

namespace flowpic::tool {

namespace {

struct lab_options {
    std::string out;
    double seconds = 0;
    std::string vpn = "no";
    std::string categories = "browsing,chat,video,voip,file_transfer";
    std::string applications;
    int sessions = 1;
    long long seed = 1;
    int snaplen = 96;
    double max_rate = 0;
    std::string cache;
    bool check = false;
    bool plan = false;
    bool keep_work = false;
    bool quiet = false;
    bool setup = false;
    bool force = false;
    std::string wan = "on";
    std::string quic = "google";
    std::string tcp_timestamps = "mixed";
    std::string link_emulator;
};

namespace fs = std::filesystem;

// FLOWPIC_LAB_DIR, else the scripts installed beside this executable, else the source tree.
std::string find_lab_dir() {
    const auto has_lab = [](const fs::path& d) {
        std::error_code ec;
        return fs::is_regular_file(d / "lab.py", ec);
    };
    if (const char* e = std::getenv("FLOWPIC_LAB_DIR"); e && *e) {
        if (!has_lab(e)) throw io_error(location{e}, "FLOWPIC_LAB_DIR has no lab.py");
        return e;
    }
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed = exe.parent_path() / FLOWPIC_LAB_INSTALL_REL;
        if (has_lab(installed)) return installed.lexically_normal().string();
    }
    if (*FLOWPIC_LAB_SOURCE_DIR && has_lab(FLOWPIC_LAB_SOURCE_DIR)) return FLOWPIC_LAB_SOURCE_DIR;
    throw io_error(location{}, "cannot find the lab scripts (lab.py): set FLOWPIC_LAB_DIR");
}

// The lab's WAN links are run by flowpic-link-emulator, built and installed beside this tool:
// handed to lab.py through FLOWPIC_LINK_EMULATOR unless --link-emulator or the variable name one.
void export_link_emulator(const std::string& given) {
    if (!given.empty()) {
        ::setenv("FLOWPIC_LINK_EMULATOR", given.c_str(), 1);
        return;
    }
    if (const char* e = std::getenv("FLOWPIC_LINK_EMULATOR"); e && *e) return;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return;
    const fs::path sibling = exe.parent_path() / "flowpic-link-emulator";
    if (fs::is_regular_file(sibling, ec)) ::setenv("FLOWPIC_LINK_EMULATOR", sibling.c_str(), 1);
}

std::string python() {
    if (const char* e = std::getenv("FLOWPIC_PYTHON"); e && *e) return e;
    return "/usr/bin/python3";  // Debian's, the one the lab's packages go with
}

[[noreturn]] void exec(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    throw io_error(location{args[0]}, std::string("cannot run: ") + std::strerror(errno));
}

void run_lab(const lab_options& o) {
    const std::string dir = find_lab_dir();
    if (o.setup && !o.plan) {
        const std::string cmd = "/bin/sh '" + dir + "/setup.sh'";
        if (std::system(cmd.c_str()) != 0) throw io_error(location{dir + "/setup.sh"}, "the lab's setup failed");
    }
    std::vector<std::string> args{python(), dir + "/lab.py", "--out", o.out, "--seconds", std::to_string(o.seconds),
                                  "--vpn", o.vpn, "--categories", o.categories, "--sessions",
                                  std::to_string(o.sessions), "--seed", std::to_string(o.seed), "--snaplen",
                                  std::to_string(o.snaplen), "--max-rate", std::to_string(o.max_rate),
                                  "--wan", o.wan, "--quic", o.quic, "--tcp-timestamps", o.tcp_timestamps};
    export_link_emulator(o.link_emulator);
    if (!o.cache.empty()) args.insert(args.end(), {"--cache", o.cache});
    if (!o.applications.empty()) args.insert(args.end(), {"--applications", o.applications});
    if (o.check) args.emplace_back("--check");
    if (o.plan) args.emplace_back("--plan");
    if (o.keep_work) args.emplace_back("--keep-work");
    if (o.quiet) args.emplace_back("--quiet");
    if (o.force) args.emplace_back("--force");
    exec(args);
}

void add_lab_command(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "lab", "Make labelled captures of browsing, chat, video, voip and file_transfer traffic from real software "
               "in network namespaces (root; Debian packages, see --setup). Writes DIR/manifest.csv: "
               "file,category,vpn,application,seed,start,duration,rtt_ms,jitter_ms,loss,down_mbit,up_mbit,access,queue_ms,tcp_timestamps");
    auto o = std::make_shared<lab_options>();
    cmd->add_option("--out", o->out,
                    "directory for the captures and manifest.csv; one that holds a run's manifest.csv needs --force")
        ->required();
    cmd->add_option("--seconds", o->seconds, "length of every session in seconds")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--vpn", o->vpn, "plain captures, through OpenVPN, or both")
        ->check(CLI::IsMember({"no", "yes", "both"}))
        ->capture_default_str();
    cmd->add_option("--categories", o->categories, "comma-separated categories")->capture_default_str();
    cmd->add_option("--applications", o->applications,
                    "comma-separated applications to run; a category none of whose applications is named runs "
                    "all of its own (docs/lab.md)");
    cmd->add_option("--sessions", o->sessions, "sessions at once per category and variant")
        ->check(CLI::Range(1, 250))
        ->capture_default_str();
    add_seed_option(*cmd, o->seed, "seed of every random choice (same seed, same manifest)");
    cmd->add_option("--snaplen", o->snaplen, "bytes kept per packet; sizes come from the IP header")
        ->check(CLI::Range(64, 65535))
        ->capture_default_str();
    cmd->add_option("--max-rate", o->max_rate, "cap on every session's link speed in Mbit/s (0: none)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--wan", o->wan,
                    "on: every session through an emulated WAN link drawn from its seed (delay, jitter, loss, rate, "
                    "queue); off: a bare veth with a token bucket")
        ->check(CLI::IsMember({"on", "off"}))
        ->capture_default_str();
    cmd->add_option("--quic", o->quic,
                    "how the lab's QUIC servers and players send: google: 1350-byte packets and Chromium's ACK "
                    "decimation, as Google's QUIC and Chrome do (real YouTube traffic); quic-go: quic-go as packaged")
        ->check(CLI::IsMember({"google", "quic-go"}))
        ->capture_default_str();
    cmd->add_option("--tcp-timestamps", o->tcp_timestamps,
                    "the clients' TCP timestamps: mixed: off in a seeded share of sessions (40 %), as Windows "
                    "leaves them, on in the others, as Linux, Android and Apple systems; on or off: every session")
        ->check(CLI::IsMember({"mixed", "on", "off"}))
        ->capture_default_str();
    cmd->add_option("--link-emulator", o->link_emulator,
                    "the flowpic-link-emulator program (default: the one beside this tool)");
    cmd->add_option("--cache", o->cache, "where generated videos, sites, files and keys are kept between runs");
    cmd->add_flag("--plan", o->plan, "print the manifest.csv the run would write (a function of the options), and stop");
    cmd->add_flag("--check", o->check, "verify the captures against the manifest afterwards");
    cmd->add_flag("--keep-work", o->keep_work, "keep the servers' configs and logs in DIR/.lab-work");
    cmd->add_flag("--quiet", o->quiet, "no progress messages");
    cmd->add_flag("--force", o->force, "write into a directory that holds a lab run's manifest.csv (written atomically)");
    cmd->add_flag("--setup", o->setup, "first install the Debian packages the lab needs (apt-get)");
    cmd->callback([o] { run_lab(*o); });
}

const registrar reg_lab{"lab", 90, &add_lab_command};

}  // namespace

}  // namespace flowpic::tool
