#pragma once
// source::set_tunnels(src, mode): GRE and GTP-U tunnels of a capture source read as the outer
// packet (the default) or the tunnelled one (decode::tunnel_mode); sources without frames (the
// CSV formats, flow records, memory) have no tunnels and ignore it.

#include "flowpic/decode/frame.hpp"

namespace flowpic::source {

template <class S>
void set_tunnels(S& src, decode::tunnel_mode m) noexcept {
    if constexpr (requires { src.set_tunnels(m); }) src.set_tunnels(m);
}

}  // namespace flowpic::source
