// flowpic export-weights --model MODEL --to DIR: a model file's tensors as PyTorch-layout .npy
// files (<i>.weight.npy, <i>.bias.npy), i counting the layers with parameters from 0.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/nn/weights_npy.hpp"
#include "options.hpp"

namespace flowpic::tool {

namespace {

void add_export_weights_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("export-weights", "Write a model file's tensors as .npy files in PyTorch layout");
    auto model = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>();
    add_model_option(*cmd, *model);
    cmd->add_option("--to", *dir, "directory to write (created if missing)")->required();
    cmd->callback([model, dir] {
        const auto info = nn::read_model_info(*model);
        presets::check_header(info, *model);
        presets::visit_network(info.preset, info.classes.size(), [&](auto, auto& net) {
            nn::load_model(*model, net);
            nn::export_weights(net, *dir);
            std::printf("%s: %zu tensors of %s\n", dir->c_str(), net.tensors().size(), info.preset.c_str());
        });
    });
}

const registrar reg_export_weights{"export-weights", 61, &add_export_weights_command};

}  // namespace

}  // namespace flowpic::tool
