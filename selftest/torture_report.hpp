// mode=torture: the end checks and the one summary line.
#pragma once

#include "sched/handshake_monitor.hpp"
#include "selftest/torture.hpp"

#include <cstdint>

namespace k::selftest::torture {

// What the controller learned; filled as the run goes, judged by finish().
struct Report {
    const char* failure = nullptr; // the first reason the run cannot pass
    std::uint64_t seed = 0, ms = 0, elapsed_us = 0;
    std::uint32_t harts = 0;
    std::uint32_t pool_free_start = 0;
    std::uint64_t reclaimed_start = 0;
    std::uint64_t lost_wakes = 0, worker_value_bad = 0;
    sched::HandshakeScan handshake{0, {sched::HandshakeRule::Ok, 0}, 0, 0};
    std::uint64_t steals = 0, sched_yields_full = 0;
    std::uint64_t hp_offline = 0, hp_online = 0, hp_errors = 0;
    std::uint64_t scans = 0, queued_seen = 0;
    bool wound_down = false; // every worker generation joined

    bool ok() const { return failure == nullptr; }
    void fail(const char* why) {
        if (!failure) failure = why;
    }
};

// Runs the end checks (leaks, token balance, completions), prints the
// counts, the summary line and the verdict (with a KDUMP on failure) and
// shuts down with that verdict.
[[noreturn]] void finish(Torture& t, Report& rep);

} // namespace k::selftest::torture
