#pragma once
// Forward declarations of flowpic's main types: no includes beyond <cstddef> and <cstdint>, no definitions.

#include <cstddef>
#include <cstdint>

namespace flowpic {
struct packet;
struct flow_key;
struct ip_address;
struct keyed_packet;
class error;
class format_error;
class io_error;
class limit_error;

namespace flows {
struct flow;
struct unidirectional;
struct bidirectional;
class all_flows;
struct limits;
struct no_stage;
template <class Key = unidirectional, class Stage = no_stage>
class flow_table;  // blocks::windowed_table<Key> = flow_table<Key, blocks::windower>
}  // namespace flows

namespace blocks {
struct block;
struct window_spec;
class windower;
}  // namespace blocks

namespace source {
class authors_csv;
class packet_csv;
class memory;
template <class Protocols>
class network_stats_csv;  // the default (protocols::tcp_udp) lives in source/network_stats_csv.hpp
struct live_options;  // live_capture<Size, Protocols> is constrained: see source/live_capture.hpp
}  // namespace source

namespace size {
struct ip_length;
struct wire_length;
struct transport_payload;
}  // namespace size

namespace protocols {
struct tcp_udp;
struct any_ip;
}  // namespace protocols

namespace source {
struct pcapng_interface;
template <class Size = size::ip_length, class Protocols = protocols::tcp_udp>
class pcapng_file;  // the defaults live here only: see source/pcapng_file.hpp
}  // namespace source
namespace source {
class flowpic1_workload;
class flowpic1_file;
}  // namespace source

namespace backend {
struct scalar;
struct simd;
struct tbb;
struct cuda;
}  // namespace backend

namespace picture {
template <class... Policies>
struct histogram;  // the policies and their defaults: see picture/histogram.hpp
template <class T>
struct dense_picture;
template <class T>
struct sparse_picture;
template <class T>
struct sparse_view;
template <class T>
class sparse_stack;
}  // namespace picture

namespace source {
class any_source;
}  // namespace source

namespace nn {
struct shape;
struct model_info;
template <class T, class Input, class... Layers>
class basic_sequential;  // nn::sequential<Input, Layers...> = basic_sequential<float, ...>: see nn/sequential.hpp
}  // namespace nn

namespace presets {
struct class_rule;
template <class... Presets>
struct list;
struct shapira2019;
template <std::size_t Dim>
struct mini_flowpic_at;
struct mini_flowpic;
struct mini_flowpic64;
struct mini_flowpic1500;
struct network_stats;
struct model;
enum class decision_rule;
struct classifier_settings;
class any_classifier;
}  // namespace presets

namespace decision {
struct per_block;
struct majority_vote;
struct mean_probability;
}  // namespace decision

struct classification;
struct pipeline_stats;
template <class... Policies>
class pipeline;  // the policies and their defaults: see pipeline/pipeline.hpp
}  // namespace flowpic
