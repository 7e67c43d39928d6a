// A kill against a reply (RFC-0028 "Blocking: one completion per wait"): a killed caller whose
// reply is already on its way waits for it, so no completion outlives its wait and a thread
// record is never posted after reuse.
//
// Two kernel tasks play a call: a caller and a server, each with its own IpcThread, on one
// endpoint in a capability space of the test's (the IPC calls take the registers from a
// TrapFrame; a message of 4 registers needs no user memory). finish_call checks the caller's
// wait generation (IpcThread::wait_gen) just before it posts: a post to a wait that has ended,
// or to a record reused since the claim, panics.
//  - Held rounds: a hook at the jitter site ReplyClaimed (the reply claimed, its post not yet
//    made) kills the caller there and holds the server until the caller has dealt with the
//    kill: back in its wait (right), or out of call() (wrong; the post then panics). The
//    caller must get the reply.
//  - Raced rounds, for kRaceUs by the clock: the test kills the caller after a random delay
//    while the call and reply run, then ends the server. Exactly one side's view may hold:
//    the reply reached the caller (both say 0), or the caller withdrew (Destroyed) and the
//    reply, if any, was NoCaller.
//  - Timed held rounds (`ipc timeout meets reply`, RFC-0030 "Timeouts"): the caller calls with a
//    deadline, and the hook holds the claimed reply until that deadline has passed and the
//    caller, woken by its timer, has found the reply claimed and waits again. The caller must
//    get the reply, never TimedOut (kfault=time-timeout-wins returns TimedOut there).
#include "base/console.hpp"
#include "base/jitter.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "ipc/cap_space.hpp"
#include "ipc/ipc_calls.hpp"
#include "ipc/objects.hpp"
#include "selftest/hook_scope.hpp"
#include "selftest/selftest.hpp"
#include "selftest/util.hpp"
#include "user/include/kestrel/syscall.hpp"

#include <atomic>

namespace k::selftest {

namespace {

using jitter::Site;

constexpr std::uint32_t kHeldRounds = 4; // half with both tasks on one hart when there are two
constexpr std::uint64_t kRaceUs = 60'000;
constexpr std::uint64_t kStartDelayUs = 40; // the kill's delay: random below a bound that adapts
constexpr std::uint64_t kDelayStepUs = 5;
constexpr std::uint64_t kMaxDelayUs = 5'000;
constexpr std::uint64_t kEp = 0;
constexpr std::uint64_t kLabel = 7;
constexpr std::int64_t kDestroyed = static_cast<std::int64_t>(kestrel::Error::Destroyed);
constexpr std::int64_t kNoCaller = static_cast<std::int64_t>(kestrel::Error::NoCaller);
constexpr std::int64_t kTimedOut = static_cast<std::int64_t>(kestrel::Error::TimedOut);
constexpr char kRetry[] = "retry"; // round(): the timed call ended before its server ran

ipc::CapSpace g_space;
ipc::IpcThread g_caller;
ipc::IpcThread g_server;

struct Round {
    std::atomic<std::int64_t> call_r{1}, recv_r{1}, reply_r{1};
    std::atomic<std::uint64_t> answer{0};
    std::atomic<std::uint32_t> call_done{0}, server_done{0};
    std::atomic<std::uint32_t> received{0};
    std::uint64_t deadline = ~std::uint64_t{0}; // the call's (ticks); ~0: none
};

void caller_body(Round& r) {
    hal::TrapFrame tf{};
    tf.x[10] = kEp;
    tf.x[11] = ::ipc::MessageTag{kLabel, 4, 0}.word();
    tf.x[12] = 41;
    const std::int64_t v = ipc::call(g_caller, tf, r.deadline);
    r.answer.store(tf.x[12], std::memory_order_relaxed);
    r.call_r.store(v, std::memory_order_relaxed);
    r.call_done.store(1, std::memory_order_release);
}

void server_body(Round& r) {
    hal::TrapFrame tf{};
    tf.x[10] = kEp;
    tf.x[11] = kestrel::kNoCap;
    const std::int64_t v = ipc::receive(g_server, tf, true);
    r.recv_r.store(v, std::memory_order_relaxed);
    if (v == 0) {
        r.received.store(1, std::memory_order_release);
        tf.x[11] = ::ipc::MessageTag{kLabel, 4, 0}.word();
        tf.x[12] += 1;
        r.reply_r.store(ipc::reply(g_server, tf), std::memory_order_relaxed);
    }
    r.server_done.store(1, std::memory_order_release);
}

// The held window (see the file's comment). One hold per arming.
struct Hold {
    std::atomic<const void*> victim{nullptr};
    std::atomic<const sched::Task*> caller_task{nullptr};
    std::atomic<const Round*> round{nullptr};
    std::atomic<std::uint32_t> held{0};
    std::atomic<std::uint32_t> timed_out{0};
    std::atomic<std::uint32_t> timeout_mode{0}; // hold past the caller's deadline, no kill
};
Hold g_hold;

// The caller has dealt with the kill: it consumed kKilled and waits again, or left call().
bool caller_settled() {
    const Round* r = g_hold.round.load(std::memory_order_acquire);
    if (r && r->call_done.load(std::memory_order_acquire)) return true;
    const sched::Task* t = g_hold.caller_task.load(std::memory_order_acquire);
    return t && t->state.state() == sched::TaskState::Blocked && g_caller.done.pending() == 0;
}

void hold_hook(Site s, const void* subject) {
    HookScope::chained(s, subject);
    if (s != Site::ReplyClaimed) return;
    const void* want = subject;
    if (!subject || g_hold.victim.load(std::memory_order_acquire) != subject) return;
    if (!g_hold.victim.compare_exchange_strong(want, nullptr, std::memory_order_acq_rel)) return;
    if (g_hold.timeout_mode.load(std::memory_order_acquire)) {
        // The caller's timer fires meanwhile; it finds the reply claimed and waits again.
        const Round* r = g_hold.round.load(std::memory_order_acquire);
        const std::uint64_t past = r->deadline + time::from_us(200);
        if (!await(kEventuallyUs, [past] { return time::now() >= past && caller_settled(); }))
            g_hold.timed_out.store(1);
        g_hold.held.fetch_add(1, std::memory_order_release);
        return;
    }
    ipc::kill(g_caller); // as task_kill would: the reply is claimed, its post not yet made
    // Interrupts are on and no lock is held here (a server's reply path): await() yields, so
    // a caller on this hart runs meanwhile.
    if (!await(kEventuallyUs, caller_settled)) g_hold.timed_out.store(1);
    g_hold.held.fetch_add(1, std::memory_order_release);
}

class HoldHook final {
  public:
    HoldHook() = default;
    ~HoldHook() { g_hold.victim.store(nullptr, std::memory_order_release); }
    HoldHook(const HoldHook&) = delete;
    HoldHook& operator=(const HoldHook&) = delete;

  private:
    HookScope scope_{&hold_hook};
};

std::uint64_t g_rand = 0x9e3779b97f4a7c15ull;
std::uint64_t next_rand() {
    g_rand ^= g_rand << 13;
    g_rand ^= g_rand >> 7;
    g_rand ^= g_rand << 17;
    return g_rand;
}

void spin_us(std::uint64_t us) {
    const std::uint64_t end = time::now() + time::from_us(us);
    while (time::now() < end) {
    }
}

// One call between fresh records; `held`: the hook kills at the claim (with `timeout_us`: the
// call has that timeout, and the hook holds the reply past it instead), else the test kills
// after `delay_us`. Null when every check passed; `replied`: the caller got its reply.
const char* round(bool held, std::uint32_t caller_cpu, std::uint32_t server_cpu,
                  std::uint64_t delay_us, bool& replied, std::uint64_t timeout_us = 0) {
    replied = false;
    g_caller.reset(&g_space);
    g_server.reset(&g_space);
    Round r;
    if (timeout_us != 0) r.deadline = time::deadline_in_us(timeout_us);
    auto caller = [&r] { caller_body(r); };
    auto server = [&r] { server_body(r); };
    Thunk<decltype(caller)> caller_thunk{caller};
    Thunk<decltype(server)> server_thunk{server};
    // Whatever happened, both tasks can end: a caller still waiting is killed (it withdraws or
    // takes the reply on its way), a server still in receive is killed (it withdraws).
    auto release = [&r] {
        if (!r.call_done.load(std::memory_order_acquire)) ipc::kill(g_caller);
        if (!r.server_done.load(std::memory_order_acquire)) ipc::kill(g_server);
    };
    TaskScope scope(release);
    if (held) {
        g_hold.round.store(&r, std::memory_order_release);
        g_hold.timed_out.store(0);
    }
    sched::Spawned s = scope.spawn(
        server_thunk, sched::SpawnOptions{sched::Qos::Normal, server_cpu, true, "ipc-srv"});
    if (s.error != sched::SpawnError::None) return "spawn failed";
    sched::Spawned c = scope.spawn(
        caller_thunk, sched::SpawnOptions{sched::Qos::Normal, caller_cpu, true, "ipc-caller"});
    if (c.error != sched::SpawnError::None) return "spawn failed";
    if (held) {
        g_hold.caller_task.store(c.task.get(), std::memory_order_release);
        g_hold.victim.store(&g_caller, std::memory_order_release);
        const std::uint32_t before = g_hold.held.load(std::memory_order_acquire);
        if (!await(kEventuallyUs, [&] {
                return r.call_done.load(std::memory_order_acquire) != 0 &&
                       r.server_done.load(std::memory_order_acquire) != 0;
            }))
            return "the held round never ended";
        g_hold.victim.store(nullptr, std::memory_order_release);
        if (g_hold.held.load(std::memory_order_acquire) == before) {
            // A timed call may time out before its server ran at all (a host that held the
            // server's vCPU back): that is the other order, right as it is; the caller retries.
            if (timeout_us != 0 && r.call_r.load() == kTimedOut && r.reply_r.load() == kNoCaller)
                return kRetry;
            return "the reply's claim was never held";
        }
        if (g_hold.timed_out.load()) return "the killed caller never settled";
        if (timeout_us != 0 && r.call_r.load() == kTimedOut)
            return "a timed-out caller lost the reply that was on its way";
        if (r.call_r.load() != 0 || r.answer.load() != 42)
            return "a killed caller lost the reply that was on its way";
        if (r.reply_r.load() != 0) return "the held reply was refused";
        replied = true;
        return nullptr;
    }
    spin_us(delay_us);
    ipc::kill(g_caller);
    if (!await(kEventuallyUs, [&] { return r.call_done.load(std::memory_order_acquire) != 0; }))
        return "a killed caller never left call()";
    // The server is in receive (the call withdrew before a match), or has replied.
    if (!await(kEventuallyUs, [&] {
            if (!r.received.load(std::memory_order_acquire)) ipc::kill(g_server);
            return r.server_done.load(std::memory_order_acquire) != 0;
        }))
        return "the server never ended";
    const std::int64_t cr = r.call_r.load();
    const std::int64_t rr = r.reply_r.load();
    if (cr == 0) {
        if (r.answer.load() != 42) return "the caller got a wrong answer";
        if (rr != 0) return "the caller got a reply that its server was refused";
        replied = true;
    } else if (cr == kDestroyed) {
        if (rr == 0) return "a reply was accepted for a caller that withdrew (a lost reply)";
        if (r.recv_r.load() == 0 && rr != kNoCaller)
            return "a reply to a withdrawn caller was not NoCaller";
    } else {
        return "a killed call ended neither with its reply nor Destroyed";
    }
    return nullptr;
}

} // namespace

KSELFTEST(IPC0005, "ipc kill meets reply") {
    const OnlineCpus on = online_cpus();
    const std::uint32_t eps_before = ipc::free_endpoints();
    g_space.reset();
    KCHECK(ipc::create(g_space, kEp, ::ipc::ObjectType::Endpoint) == 0);
    const char* why = nullptr;
    bool replied = false;
    {
        HoldHook hook;
        for (std::uint32_t i = 0; i < kHeldRounds && !why; ++i)
            why = round(true, on.at(0), i % 2 == 0 ? on.at(0) : on.at(1), 0, replied);
    }
    // Raced rounds: the caller and the server swap harts each round (one hart at SMP=1).
    // The kill's delay follows the reply: a round that withdrew tries later, one that replied
    // earlier, so the kills gather where they meet the reply.
    std::uint32_t races = 0, replies = 0;
    std::uint64_t max_delay_us = kStartDelayUs;
    const std::uint64_t end = time::now() + time::from_us(kRaceUs);
    while (!why && time::now() < end) {
        why = round(false, on.at(races % 2), on.at(1 + races % 2), next_rand() % max_delay_us,
                    replied);
        ++races;
        if (replied) ++replies;
        if (replied && max_delay_us > kDelayStepUs) max_delay_us -= kDelayStepUs;
        if (!replied && max_delay_us < kMaxDelayUs) max_delay_us += kDelayStepUs;
    }
    println("KLOG: ipc kill meets reply: ", kHeldRounds, " held rounds, ", races, " raced rounds (",
            replies, " replied, ", races - replies,
            " withdrawn; kill delay "
            "bound ",
            max_delay_us, " us at the end)", why ? ": " : "", why ? why : "");
    KCHECK(ipc::remove(g_space, kEp) == 0);
    KCHECK(ipc::free_endpoints() == eps_before);
    if (why) return Result::fail(why);
    return Result::pass();
}

KSELFTEST(IPC0008, "ipc timeout meets reply") {
    // Timed held rounds (see the file's comment), half with both tasks on one hart. The timeout
    // starts at 2 ms and doubles when the caller timed out before its server ran (to 256 ms).
    const OnlineCpus on = online_cpus();
    const std::uint32_t eps_before = ipc::free_endpoints();
    g_space.reset();
    KCHECK(ipc::create(g_space, kEp, ::ipc::ObjectType::Endpoint) == 0);
    const char* why = nullptr;
    std::uint32_t rounds = 0, retries = 0;
    std::uint64_t timeout_us = 2'000;
    {
        HoldHook hook;
        g_hold.timeout_mode.store(1, std::memory_order_release);
        while (rounds < kHeldRounds && !why) {
            bool replied = false;
            why = round(true, on.at(0), rounds % 2 == 0 ? on.at(0) : on.at(1), 0, replied,
                        timeout_us);
            if (why == kRetry) {
                why = nullptr;
                ++retries;
                if (timeout_us >= 256'000) why = "every timed call ended before its server ran";
                timeout_us *= 2;
                continue;
            }
            ++rounds;
        }
        g_hold.timeout_mode.store(0, std::memory_order_release);
    }
    println("KLOG: ipc timeout meets reply: ", rounds, " held rounds past the deadline, ", retries,
            " retried (timeout ", timeout_us, " us at the end)", why ? ": " : "", why ? why : "");
    KCHECK(ipc::remove(g_space, kEp) == 0);
    KCHECK(ipc::free_endpoints() == eps_before);
    if (why) return Result::fail(why);
    return Result::pass();
}

} // namespace k::selftest
