#pragma once
// Every built-in preset's classifier pipelines, compiled once (classifiers.cpp) for the programs
// that load models at run time: the tool and the Python module link the same objects.
#include "flowpic/presets/any_classifier.hpp"

namespace flowpic::programs {

// presets::make_classifier on the oneTBB backend over the built-in presets.
[[nodiscard]] presets::any_classifier make_classifier(const presets::model& m, presets::decision_rule rule,
                                                      const presets::classifier_settings& s);

}  // namespace flowpic::programs
