// Threads send, receive, poll and cancel against one endpoint under a mutex (the kernel's lock):
// every message is delivered exactly once, intact, and no node is left queued.
#include "ipc/endpoint_queue.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace {

using ipc::CancelResult;
using ipc::EndpointState;
using ipc::IpcOutcome;
using ipc::Waiter;
using ipc::WaitStatus;

constexpr std::uint32_t kSenders = 3;
constexpr std::uint32_t kReceivers = 3;
constexpr std::uint32_t kPerSender = 3000;
constexpr std::uint32_t kTotal = kSenders * kPerSender;

struct Shared {
    std::mutex lock; // stands in for the kernel's endpoint lock
    ipc::EndpointQueue ep;
    std::atomic<std::uint32_t> seen[kTotal] = {}; // deliveries per message id
    std::atomic<std::uint32_t> received{0};
    std::atomic<std::uint32_t> senders_done{0};
    std::atomic<std::uint32_t> faults{0}; // a broken invariant (Catch is not thread-safe)
    std::atomic<std::uint32_t> cancelled{0}, dropped{0}, empty{0}, queued{0};

    void fault() { faults.fetch_add(1, std::memory_order_relaxed); }

    // Under `lock`: the state names what the queue holds, and only that.
    void check_state() {
        const bool idle = ep.state() == EndpointState::Idle;
        if (idle != (ep.waiting() == 0) || ep.state() == EndpointState::Destroyed) fault();
    }

    void record(const Waiter& r) {
        const std::uint64_t id = r.msg.tag.label;
        if (id >= kTotal) {
            fault();
            return;
        }
        for (std::uint32_t i = 0; i < ipc::kMessageRegisters; ++i)
            if (r.msg.mr[i] != id * 4 + i) fault();
        if (r.badge != id / kPerSender + 1 || r.call != (id % 2 == 1)) fault();
        seen[id].fetch_add(1, std::memory_order_relaxed);
        received.fetch_add(1, std::memory_order_release);
    }
};

void sender(Shared& sh, std::uint32_t t) {
    std::minstd_rand rng(1000 + t);
    Waiter w;
    for (std::uint32_t k = 0; k < kPerSender; ++k) {
        const std::uint64_t id = std::uint64_t{t} * kPerSender + k;
        w.msg.tag = ipc::MessageTag{id, ipc::kMessageRegisters, 0};
        for (std::uint32_t i = 0; i < ipc::kMessageRegisters; ++i)
            w.msg.mr[i] = id * 4 + i;
        w.badge = t + 1;
        w.call = id % 2 == 1;
        for (bool sent = false; !sent;) {
            std::unique_lock<std::mutex> g(sh.lock);
            const bool nb = rng() % 8 == 0;
            const ipc::Rendezvous rv = nb ? sh.ep.nb_send(w) : sh.ep.send(w);
            sh.check_state();
            if (rv.outcome == IpcOutcome::Delivered) {
                if (rv.partner == nullptr || rv.partner->status != WaitStatus::Delivered)
                    sh.fault();
                sent = true;
                continue;
            }
            if (rv.outcome == IpcOutcome::Dropped) {
                if (!nb) sh.fault();
                sh.dropped.fetch_add(1, std::memory_order_relaxed);
                g.unlock();
                std::this_thread::yield();
                continue;
            }
            if (rv.outcome != IpcOutcome::Queued || nb) {
                sh.fault(); // give the message up: a failed run must end, not hang
                if (sh.ep.holds(w)) (void)sh.ep.cancel(w);
                sent = true;
                continue;
            }
            // "Blocked": wait for a receiver to take it, or give up now and then (a timeout).
            // The first pass keeps the lock: a timeout that fires before any partner could come
            // (1 in 32), so every run cancels some waiters whatever the threads' timing.
            sh.queued.fetch_add(1, std::memory_order_relaxed);
            for (std::uint32_t pass = 0;; ++pass) {
                if (pass > 0) {
                    g.unlock();
                    std::this_thread::yield();
                    g.lock();
                }
                if (w.status == WaitStatus::Delivered) {
                    if (w.queued() || sh.ep.cancel(w) != CancelResult::NotQueued) sh.fault();
                    sent = true;
                    break;
                }
                if (w.status != WaitStatus::Sending || !sh.ep.holds(w)) {
                    sh.fault(); // neither matched nor queued: give the message up, not hang
                    if (sh.ep.holds(w)) (void)sh.ep.cancel(w);
                    sent = true;
                    break;
                }
                if (rng() % (pass == 0 ? 32 : 4) == 0) {
                    if (sh.ep.cancel(w) != CancelResult::Removed) sh.fault();
                    sh.check_state();
                    sh.cancelled.fetch_add(1, std::memory_order_relaxed);
                    break; // send it again
                }
            }
        }
    }
    sh.senders_done.fetch_add(1, std::memory_order_release);
}

void receiver(Shared& sh, std::uint32_t t) {
    std::minstd_rand rng(2000 + t);
    Waiter w;
    // Until every sender is done: each of their messages was matched by then.
    while (sh.senders_done.load(std::memory_order_acquire) < kSenders) {
        std::unique_lock<std::mutex> g(sh.lock);
        const bool poll = rng() % 8 == 0;
        const ipc::Rendezvous rv = poll ? sh.ep.poll(w) : sh.ep.receive(w);
        sh.check_state();
        if (rv.outcome == IpcOutcome::Delivered) {
            if (rv.partner == nullptr || rv.partner->status != WaitStatus::Delivered) sh.fault();
            sh.record(w);
            continue;
        }
        if (rv.outcome == IpcOutcome::Empty) {
            if (!poll) sh.fault();
            sh.empty.fetch_add(1, std::memory_order_relaxed);
            g.unlock();
            std::this_thread::yield();
            continue;
        }
        if (rv.outcome != IpcOutcome::Queued || poll) {
            sh.fault();
            if (sh.ep.holds(w)) (void)sh.ep.cancel(w);
            continue;
        }
        sh.queued.fetch_add(1, std::memory_order_relaxed);
        for (std::uint32_t pass = 0;; ++pass) {
            if (pass > 0) {
                g.unlock();
                std::this_thread::yield();
                g.lock();
            }
            if (w.status == WaitStatus::Delivered) {
                if (w.queued() || sh.ep.cancel(w) != CancelResult::NotQueued) sh.fault();
                sh.record(w);
                break;
            }
            if (w.status != WaitStatus::Receiving || !sh.ep.holds(w)) {
                sh.fault();
                if (sh.ep.holds(w)) (void)sh.ep.cancel(w);
                break;
            }
            // Every sender is done (no message will come) or a timeout.
            if (sh.senders_done.load(std::memory_order_acquire) == kSenders ||
                rng() % (pass == 0 ? 32 : 4) == 0) {
                if (sh.ep.cancel(w) != CancelResult::Removed) sh.fault();
                sh.check_state();
                sh.cancelled.fetch_add(1, std::memory_order_relaxed);
                break;
            }
        }
    }
}

} // namespace

TEST_CASE("endpoint stress: every message delivered exactly once, nothing left queued",
          "[ipc][endpoint][stress]") {
    auto sh = std::make_unique<Shared>();
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < kSenders; ++t)
        threads.emplace_back(sender, std::ref(*sh), t);
    for (std::uint32_t t = 0; t < kReceivers; ++t)
        threads.emplace_back(receiver, std::ref(*sh), t);
    for (auto& th : threads)
        th.join();

    CHECK(sh->faults.load() == 0);
    CHECK(sh->received.load() == kTotal);
    std::uint32_t lost = 0, duplicated = 0;
    for (const auto& s : sh->seen) {
        lost += s.load() == 0;
        duplicated += s.load() > 1;
    }
    CHECK(lost == 0);
    CHECK(duplicated == 0);
    CHECK(sh->ep.state() == EndpointState::Idle);
    CHECK(sh->ep.waiting() == 0);
    // The mix really happened: timeouts, drops and empty polls (fixed seeds).
    CHECK(sh->cancelled.load() > 0);
    CHECK(sh->dropped.load() > 0);
    CHECK(sh->empty.load() > 0);
    INFO("queued " << sh->queued.load() << " cancelled " << sh->cancelled.load() << " dropped "
                   << sh->dropped.load() << " empty " << sh->empty.load());
    SUCCEED();
}
