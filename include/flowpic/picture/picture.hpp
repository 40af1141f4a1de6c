#pragma once
// The picture stage: blocks -> FlowPics (policies, kernels, dense and sparse pictures,
// .npy and PNG output).

#include "flowpic/picture/bins.hpp"
#include "flowpic/picture/channels.hpp"
#include "flowpic/picture/counts.hpp"
#include "flowpic/picture/dense_picture.hpp"
#include "flowpic/picture/histogram.hpp"
#include "flowpic/picture/kernels/scalar.hpp"
#include "flowpic/picture/kernels/simd.hpp"
#include "flowpic/picture/many_blocks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/picture/npy.hpp"
#include "flowpic/picture/png.hpp"
#include "flowpic/picture/resolution.hpp"
#include "flowpic/picture/size_axis.hpp"
#include "flowpic/picture/sparse_picture.hpp"
#include "flowpic/picture/sparse_stack.hpp"
#include "flowpic/picture/time_axis.hpp"
