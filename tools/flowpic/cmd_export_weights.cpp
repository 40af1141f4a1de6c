// flowpic export-weights --model MODEL --to DIR: a model file's tensors as PyTorch-layout .npy
// files (<i>.weight.npy, <i>.bias.npy), i counting the layers with parameters from 0. Each file
// is written atomically; a DIR that holds such tensors already is refused unless --force.
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/nn/weights_npy.hpp"
#include "options.hpp"
#include "output_dir.hpp"

namespace flowpic::tool {

namespace {

void add_export_weights_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("export-weights", "Write a model file's tensors as .npy files in PyTorch layout");
    auto model = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    add_model_option(*cmd, *model);
    cmd->add_option("--to", *dir, "directory to write (created if missing); one that holds tensors needs --force")
        ->required();
    add_force_flag(*cmd, *force, "exported tensors (*.weight.npy, *.bias.npy); the others there are removed");
    cmd->callback([model, dir, force] {
        const auto info = nn::read_model_info(*model);
        presets::check_header(info, *model);
        presets::visit_network(info.preset, info.classes.size(), [&](auto, auto& net) {
            nn::load_model(*model, net);
            const auto ends = [](const std::string& s, std::string_view e) {
                return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
            };
            const auto old = prepare_output_dir(*dir, *force ? existing_output::replace : existing_output::refuse,
                                                [&](const std::string& name) {
                                                    return ends(name, ".weight.npy") || ends(name, ".bias.npy");
                                                });
            nn::export_weights(net, *dir);
            // tensors of another network left from before: import-weights would not tell them apart
            for (const auto& f : old) {
                std::error_code ec;
                bool ours = false;
                for (const auto& t : nn::view_of(net).tensors)
                    ours = ours || f.filename() == std::to_string(t.group) + "." + t.info.role + ".npy";
                if (!ours) std::filesystem::remove(f, ec);
            }
            std::printf("%s: %zu tensors of %s\n", dir->c_str(), net.tensors().size(), info.preset.c_str());
        });
    });
}

const registrar reg_export_weights{"export-weights", 61, &add_export_weights_command};

}  // namespace

}  // namespace flowpic::tool
