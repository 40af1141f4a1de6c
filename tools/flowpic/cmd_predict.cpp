// flowpic predict --model MODEL --pictures FILE.npy --out FILE.npy [--batch B] [--threads N]:
// class probabilities, float32 [N, C], for a stack of pictures [N, channels, H, W] (any numeric
// .npy type; [N, H, W] for one channel).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include "commands.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/picture/npy.hpp"
#include "flowpic/presets/networks.hpp"
#include "options.hpp"

namespace flowpic::tool {

namespace {

struct predict_options {
    std::string model, pictures, out;
    std::size_t batch = 32;
    int threads = 0;
};

template <class Net>
void predict_file(Net& net, const predict_options& o) {
    nn::load_model(o.model, net);
    const npy::array<float> in = npy::load_as<float>(o.pictures);  // NaN and infinity refused
    picture::check_values(std::span<const float>(in.data), o.pictures);
    constexpr auto s = Net::input_shape;
    const auto& d = in.shape;
    const bool ok = (d.size() == 4 && d[1] == s.c && d[2] == s.h && d[3] == s.w) ||
                    (d.size() == 3 && s.c == 1 && d[1] == s.h && d[2] == s.w);
    if (!ok) {
        std::string got;
        for (auto v : d) got += std::to_string(v) + " ";
        throw format_error(location{o.pictures, 0}, "pictures of shape (" + got + "), the model takes [N, " +
                                                         std::to_string(s.c) + ", " + std::to_string(s.h) + ", " +
                                                         std::to_string(s.w) + "]");
    }
    const std::size_t n = d[0], classes = Net::output_shape.size();
    std::vector<float> probs(n * classes);
    for (std::size_t i = 0; i < n; i += o.batch) {
        const std::size_t m = std::min(o.batch, n - i);
        net.predict(in.data.data() + i * s.size(), m, probs.data() + i * classes);
    }
    npy::save(o.out, {n, classes}, probs.data());
    std::fprintf(stderr, "%s: %zu x %zu probabilities\n", o.out.c_str(), n, classes);
}

void add_predict_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("predict", "Class probabilities of a stack of pictures, with a trained model");
    auto o = std::make_shared<predict_options>();
    add_model_option(*cmd, o->model);
    cmd->add_option("--pictures", o->pictures, ".npy stack [N, channels, H, W]")->required()->check(CLI::ExistingFile);
    cmd->add_option("--out", o->out, ".npy of float32 [N, classes] to write")->required();
    add_batch_option(*cmd, o->batch)->capture_default_str();
    add_threads_option(*cmd, o->threads);
    cmd->callback([o] {
        const auto limit = thread_limit(o->threads);
        const auto info = nn::read_model_info(o->model);
        presets::check_header(info, o->model);
        presets::visit_network(info.preset, info.classes.size(), [&](auto, auto& net) { predict_file(net, *o); });
    });
}

const registrar reg_predict{"predict", 62, &add_predict_command};

}  // namespace

}  // namespace flowpic::tool
