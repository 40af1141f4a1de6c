#pragma once
// flows::creation_order<T>: hands out per-flow values (a CSV row, a result) in the order the flows
// were created (flow::id, their first packet) although flows end in any order. A value waits
// only while an older flow is still live, so memory follows the live flows and the flows that
// ended behind them, not every flow of the input:
//
//   flows::creation_order<std::string> rows;
//   rows.put(f.id, row, [](std::string& r) { std::fputs(r.c_str(), stdout); });   // at each flow's end
//   rows.finish(print);                                                           // after table.finish
//
// Ids must be put once each; ids never put (flows a caller skips) are passed over with skip(id).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace flowpic::flows {

template <class T>
class creation_order {
public:
    // The value of flow `id`; hands out (f(T&)) every value now in order.
    template <class F>
    void put(std::uint64_t id, T value, F&& f) {
        slot(id) = std::move(value);
        drain(f);
    }

    // Flow `id` gives no value: the flows after it need not wait for it.
    template <class F>
    void skip(std::uint64_t id, F&& f) {
        slot(id).reset();
        done(id);
        drain(f);
    }

    // After the last flow ended: hands out what is left, in order (ids never put are passed over).
    template <class F>
    void finish(F&& f) {
        while (!pending_.empty()) {
            if (pending_.front()) f(*pending_.front());
            pending_.pop_front();
            ++next_;
        }
        skipped_.clear();
    }

    [[nodiscard]] std::size_t waiting() const noexcept { return pending_.size(); }  // slots held
    [[nodiscard]] std::uint64_t next_id() const noexcept { return next_; }

private:
    std::optional<T>& slot(std::uint64_t id) {
        if (id < next_) throw std::logic_error("flowpic: creation_order: flow " + std::to_string(id) + " was handed out already");
        const auto k = static_cast<std::size_t>(id - next_);
        if (k >= pending_.size()) {
            pending_.resize(k + 1);
            skipped_.resize(k + 1, false);
        }
        return pending_[k];
    }
    void done(std::uint64_t id) { skipped_[static_cast<std::size_t>(id - next_)] = true; }

    template <class F>
    void drain(F& f) {
        while (!pending_.empty() && (pending_.front() || skipped_.front())) {
            if (pending_.front()) f(*pending_.front());
            pending_.pop_front();
            skipped_.pop_front();
            ++next_;
        }
    }

    std::deque<std::optional<T>> pending_;  // ids next_, next_ + 1, ...
    std::deque<bool> skipped_;
    std::uint64_t next_ = 0;
};

}  // namespace flowpic::flows
