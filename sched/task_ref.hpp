// TaskRef: the only way to keep a task beyond a lock drop. Counted; the last
// reference returns the task and its stack to the pool.
#pragma once

#include "sched/task.hpp"

#include <utility>

namespace sched {

void task_release(Task* t); // task_pool.cpp: frees on the last reference

class TaskRef final {
  public:
    TaskRef() = default;
    explicit TaskRef(Task* t) : t_(t) {
        if (t_) t_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    TaskRef(const TaskRef& o) : TaskRef(o.t_) {}
    TaskRef(TaskRef&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    TaskRef& operator=(TaskRef o) noexcept {
        std::swap(t_, o.t_);
        return *this;
    }
    ~TaskRef() { reset(); }

    void reset() {
        if (Task* t = std::exchange(t_, nullptr)) task_release(t);
    }
    // Adopts a reference the caller already counted.
    static TaskRef adopt(Task* t) {
        TaskRef r;
        r.t_ = t;
        return r;
    }
    Task* get() const { return t_; }
    Task* operator->() const { return t_; }
    Task& operator*() const { return *t_; }
    explicit operator bool() const { return t_ != nullptr; }

  private:
    Task* t_ = nullptr;
};

} // namespace sched
