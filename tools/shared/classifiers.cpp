// The pipelines of every preset, class count and decision rule: the largest compile of the
// tool and the Python module, made once for both.
#include "classifiers.hpp"

namespace flowpic::programs {

presets::any_classifier make_classifier(const presets::model& m, presets::decision_rule rule,
                                        const presets::classifier_settings& s) {
    return presets::make_classifier<backend::tbb>(m, rule, s);
}

}  // namespace flowpic::programs
