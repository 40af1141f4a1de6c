#pragma once
// The FlowPic variants as one module: every preset type, the built-in list and the functions
// that find a preset by name (flowpic/presets/).

#include "flowpic/presets/any_classifier.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/presets/list.hpp"
#include "flowpic/presets/mini_flowpic.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/presets/network_stats.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/pipeline.hpp"
#include "flowpic/presets/preset.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/presets/shapira2019.hpp"
