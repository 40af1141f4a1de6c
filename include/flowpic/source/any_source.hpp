#pragma once
// source::any_source: any packet source behind one type (a virtual call per packet), for
// programs that choose the input at run time but want one instantiation of the stages after it.
//
//   source::visit_file(path, [&](auto& src) { source::any_source any(src); run(any); });

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::source {

class any_source {
public:
    // Refers to src, which must outlive this object.
    template <packet_source S>
        requires(!std::is_same_v<std::remove_cvref_t<S>, any_source>)
    explicit any_source(S& src) : impl_(std::make_unique<model<S>>(src)) {}

    bool next(keyed_packet& out) { return impl_->next(out); }
    // Chunks (keyed_packet.hpp): a virtual call per chunk where the source reads in chunks.
    std::size_t next_chunk(keyed_packet* out, std::size_t max) { return impl_->next_chunk(out, max); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual bool next(keyed_packet& out) = 0;
        virtual std::size_t next_chunk(keyed_packet* out, std::size_t max) = 0;
    };
    template <class S>
    struct model final : concept_t {
        explicit model(S& s) : src(s) {}
        bool next(keyed_packet& out) override { return src.next(out); }
        std::size_t next_chunk(keyed_packet* out, std::size_t max) override { return next_chunk_of(src, out, max); }
        S& src;
    };
    std::unique_ptr<concept_t> impl_;
};

}  // namespace flowpic::source
