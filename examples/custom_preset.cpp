// A preset of your own is one type: windows, flow grouping, picture, network, initialisation,
// batch and class counts. Added to the built-in list, it is found by name like the shipped ones,
// so datasets, model files and pipelines take it as they take mini_flowpic.
//
//   custom_preset DATA_DIR MODEL_OUT [EPOCHS]      DATA_DIR/<class>/<captures>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/metrics.hpp"
#include "flowpic/train/set_dataset.hpp"
#include "flowpic/train/trainer.hpp"

namespace pic = flowpic::picture;

// Every complete 10 s window of a connection with at least 8 packets, 24x24 cells, a small
// network: one convolution, one dense layer.
struct quick24 {
    static constexpr std::string_view name = "quick24";
    static constexpr flowpic::blocks::window_spec window{flowpic::blocks::seconds(10), 0, 8, 0, false,
                                                         flowpic::blocks::end_rule::complete, false};
    using flow_key = flowpic::flows::bidirectional;
    using picture = pic::histogram<pic::resolution<24, 24>, pic::size_axis::scaled<1500, pic::overflow::clip>,
                                   pic::time_axis::fixed_window<0, pic::from::window_start, pic::clock::seconds,
                                                                pic::window_end::open>,
                                   pic::counts::clip255<float>>;
    template <std::size_t Classes>
    using network = flowpic::nn::sequential<flowpic::nn::input<1, 24, 24>, flowpic::nn::conv2d<8, 3>,
                                            flowpic::nn::relu, flowpic::nn::max_pool2d<2>, flowpic::nn::flatten,
                                            flowpic::nn::dense<Classes>, flowpic::nn::softmax>;
    static constexpr flowpic::nn::init_scheme init = flowpic::nn::init_scheme::kaiming_uniform;
    static constexpr std::size_t default_batch = 32;
    static constexpr flowpic::presets::class_rule classes{2, 8};
};

using my_presets = flowpic::presets::append<flowpic::presets::builtin, quick24>;

int main(int argc, char** argv) {
    using namespace flowpic;
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s DATA_DIR MODEL_OUT [EPOCHS]\n", argv[0]);
        return 2;
    }
    try {
        train::build_options bo;
        bo.preset = "quick24";  // a name, as a --preset option or a dataset file gives it
        const train::picture_set set = train::build_dataset<my_presets>(argv[1], bo);
        std::printf("%zu blocks of %zu classes (presets: %s)\n", set.size(), set.classes.size(),
                    presets::names_list<my_presets>().c_str());

        // the network of the preset for the dataset's classes (checked against quick24::classes)
        presets::visit_network<quick24>(set.classes.size(), [&](auto& net) {
            using P = quick24;
            net.init(P::init, 1);
            const train::set_dataset training(set, set.indices(train::split::train));
            const train::set_dataset validation(set, set.indices(train::split::validation));
            const train::set_dataset test(set, set.indices(train::split::test));
            train::fit_options fo;
            fo.epochs = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 10;
            fo.batch = P::default_batch;
            nn::adam adam;
            const nn::categorical_crossentropy loss;
            train::fit(net, training, validation.size() ? &validation : nullptr, loss, adam, fo,
                       [](const train::epoch_report& e) {
                           std::printf("epoch %zu: train loss %.4f, validation loss %.4f\n", e.epoch + 1,
                                       e.train_loss, e.val_loss);
                       });
            nn::save_model(argv[2], net, std::string(P::name), set.classes);
            if (test.size()) {
                const auto [test_loss, report] = train::evaluate(net, test, loss);
                std::printf("test: loss %.4f, accuracy %.3f over %zu blocks\n", test_loss, report.accuracy,
                            report.samples);
            }
        });
        std::printf("model: %s (%s)\n", argv[2], nn::read_model_info(argv[2]).preset.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "custom_preset: %s\n", e.what());
        return 1;
    }
}
