// flowpic import-weights --preset NAME --classes C --from DIR --out MODEL [--class-names a,b,...]:
// a directory of PyTorch-layout .npy tensors (<i>.weight.npy, <i>.bias.npy) into a model file,
// whose recipe is the preset's windows and grouping.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/nn/weights_npy.hpp"

namespace flowpic::tool {

namespace {

struct import_options {
    std::string preset, from, out;
    std::size_t classes = 0;
    std::vector<std::string> names;
};

void add_import_weights_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("import-weights",
                                   "Build a model file from .npy tensors in PyTorch layout (<i>.weight.npy, <i>.bias.npy)");
    auto o = std::make_shared<import_options>();
    cmd->add_option("--preset", o->preset, "network preset: " + presets::names_list())->required();
    cmd->add_option("--classes", o->classes, "number of classes (network_stats: 1)")->required();
    cmd->add_option("--from", o->from, "directory of .npy tensors")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--out", o->out, "model file to write")->required();
    cmd->add_option("--class-names", o->names, "class names in output order (default: 0, 1, ...)")->delimiter(',');
    cmd->callback([o] {
        presets::visit_network(o->preset, o->classes, [&](auto p, auto& net) {
            using P = decltype(p);
            nn::import_weights(net, o->from);
            std::vector<std::string> names = o->names;
            if (names.empty())
                for (std::size_t i = 0; i < o->classes; ++i) names.push_back(std::to_string(i));
            if (names.size() != o->classes)
                throw CLI::ValidationError("--class-names", "needs " + std::to_string(o->classes) + " names");
            presets::recipe rec;  // the preset's windows and grouping: how its pictures are made
            rec.window = P::window;
            rec.flows = presets::grouping_of<typename P::flow_key>();
            nn::save_model(o->out, net, o->preset, names, presets::to_fields(rec));
            std::printf("%s: %s, %zu parameters, %zu classes\n", o->out.c_str(), o->preset.c_str(),
                        net.params().size(), names.size());
        });
    });
}

const registrar reg_import_weights{"import-weights", 60, &add_import_weights_command};

}  // namespace

}  // namespace flowpic::tool
