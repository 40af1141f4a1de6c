#pragma once
// dist::any_communicator: a communicator chosen at run time (one process, or MPI when a launcher
// started the program), behind one virtual call per collective, so that a program instantiates
// its distributed loops once. Owns the communicator it is given.
//
//   dist::any_communicator comm{dist::single_process{}};
//   dist::any_communicator comm{std::make_unique<dist::mpi>()};   // with flowpic::mpi

#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpic/dist/communicator.hpp"
#include "flowpic/dist/single_process.hpp"

namespace flowpic::dist {

class any_communicator {
public:
    any_communicator() : any_communicator(single_process{}) {}
    template <communicator C>
        requires(!std::is_same_v<std::remove_cvref_t<C>, any_communicator>)
    explicit any_communicator(C c) : impl_(std::make_unique<model<C>>(std::make_unique<C>(std::move(c)))) {}
    template <communicator C>
    explicit any_communicator(std::unique_ptr<C> c) : impl_(std::make_unique<model<C>>(std::move(c))) {}

    [[nodiscard]] int rank() const noexcept { return impl_->rank(); }
    [[nodiscard]] int size() const noexcept { return impl_->size(); }
    [[nodiscard]] const char* name() const noexcept { return impl_->name(); }
    void all_gather(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes) {
        impl_->all_gather(mine, all, sizes);
    }
    void gather(std::span<const std::byte> mine, std::vector<std::byte>& all, std::vector<std::size_t>& sizes, int root) {
        impl_->gather(mine, all, sizes, root);
    }
    void broadcast(std::vector<std::byte>& data, int root) { impl_->broadcast(data, root); }
    void barrier() { impl_->barrier(); }
    // Ends the whole job: MPI_Abort where the communicator has it, std::exit otherwise.
    [[noreturn]] void abort(int code) {
        impl_->abort(code);
        std::abort();  // not reached: the model's abort does not return
    }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual int rank() const noexcept = 0;
        virtual int size() const noexcept = 0;
        virtual const char* name() const noexcept = 0;
        virtual void all_gather(std::span<const std::byte>, std::vector<std::byte>&, std::vector<std::size_t>&) = 0;
        virtual void gather(std::span<const std::byte>, std::vector<std::byte>&, std::vector<std::size_t>&, int) = 0;
        virtual void broadcast(std::vector<std::byte>&, int) = 0;
        virtual void barrier() = 0;
        [[noreturn]] virtual void abort(int) = 0;
    };
    template <class C>
    struct model final : concept_t {
        std::unique_ptr<C> c;
        explicit model(std::unique_ptr<C> p) : c(std::move(p)) {}
        int rank() const noexcept override { return c->rank(); }
        int size() const noexcept override { return c->size(); }
        const char* name() const noexcept override { return C::name; }
        void all_gather(std::span<const std::byte> m, std::vector<std::byte>& a, std::vector<std::size_t>& s) override {
            c->all_gather(m, a, s);
        }
        void gather(std::span<const std::byte> m, std::vector<std::byte>& a, std::vector<std::size_t>& s, int r) override {
            c->gather(m, a, s, r);
        }
        void broadcast(std::vector<std::byte>& d, int r) override { c->broadcast(d, r); }
        void barrier() override { c->barrier(); }
        [[noreturn]] void abort(int code) override {
            if constexpr (requires { c->abort(code); }) c->abort(code);
            std::exit(code);
        }
    };
    std::unique_ptr<concept_t> impl_;
};

static_assert(communicator<any_communicator>);
static_assert(communicator<single_process>);

}  // namespace flowpic::dist
