// The labels init and its IPC partners (ipcsrv, fuzz) agree on (the IPC ladder, RFC-0028).
#pragma once

#include <kestrel/syscall.hpp>
#include <stdint.h>

namespace proto {

inline constexpr uint64_t kEcho = 1;      // reply: same label and length, MRs and buffer words + 1
inline constexpr uint64_t kWhere = 2;     // reply: MR0 the server's hart, MR1 the badge, MR2..3 + 1
inline constexpr uint64_t kQuit = 3;      // reply: MR0 the calls served; then the server exits
inline constexpr uint64_t kGrant = 4;     // grant server: MR0 caps seen, MR1 MR3, MR2/MR3 results
inline constexpr uint64_t kDying = 5;     // callfault: the call its dying thread makes
inline constexpr uint64_t kKill = 6;      // callfault: carries the notification that says "fault"
inline constexpr uint64_t kFuzzDone = 7;  // fuzz -> init: the summary
inline constexpr uint64_t kCaps = 8;      // echo: MR0 the caps its receive saw, MR1 MR3 as received
inline constexpr uint64_t kFuzzHello = 9; // fuzz -> init: carries an endpoint for the shared caps
inline constexpr uint64_t kFuzzShare = 10; // init -> fuzz: one shared capability (kFuzzShared)
inline constexpr uint64_t kBadLabel = 0xbad;

// The slot a grant server's received capability lands in.
inline constexpr uint64_t kGrantSlot = 5;

// The capabilities every fuzzer gets from init (kFuzzShare, in this order, into slots
// kFuzzShared .. kFuzzShared + 4): an endpoint and a notification all fuzzers share (all
// rights), a task capability to the server that receives on that endpoint (Send only: a
// fuzzer may kill it but never wait on it, so no fuzzer call blocks on it), a Platform
// capability restricted to the goldfish RTC (RFC-0031; none where the DTB has no RTC) and,
// for fuzzer 0 only, the HartControl capability (RFC-0032). The last two are optional: their
// message may come without a capability, and that slot stays empty.
inline constexpr uint64_t kFuzzShared = 2;
inline constexpr uint64_t kFuzzSharedCaps = 5;
inline constexpr uint64_t kFuzzPlatform = kFuzzShared + 3;    // the fuzzer's slot for it
inline constexpr uint64_t kFuzzHartControl = kFuzzShared + 4; // the fuzzer's slot for it
inline constexpr uint64_t kFuzzRequired = 3; // the shares that must carry a capability

// fuzz's summary message: MR0 calls, MR1 ok, MR2 elapsed us, MR3 seed; buffer words:
inline constexpr uint64_t kSumErrors = 0; // [0, E): errors -1 .. kErrorMin (E = -kErrorMin)
inline constexpr uint64_t kSumE = static_cast<uint64_t>(-kestrel::kErrorMin);
inline constexpr uint64_t kSumOtherErr = kSumE + 0; // negative results outside the enum
inline constexpr uint64_t kSumNumbers = kSumE + 1;  // distinct call numbers 0..kSysCount+3 issued
inline constexpr uint64_t kSumExits = kSumE + 2;    // Exit calls (from short-lived threads)
inline constexpr uint64_t kSumIpcOk = kSumE + 3;  // the fuzz's own client/echo round trips, correct
inline constexpr uint64_t kSumIpcBad = kSumE + 4; // ... wrong
inline constexpr uint64_t kSumProbes =
    kSumE + 5;                                   // non-blocking probes issued before blocking calls
inline constexpr uint64_t kSumSubst = kSumE + 6; // blocking calls replaced by their probe
inline constexpr uint64_t kSumByNumber =
    kSumE + 7; // calls by number, 0..kSysCount+3 and far: = calls
inline constexpr uint64_t kSumBroken =
    kSumE + 8; // the fuzzer's own check: first broken figure, 0 none
// Successful (>= 0) calls of the privileged numbers, in privileged() order (issue 20): 38..44
// through the restricted Platform capability, 47 and 48 through the HartControl capability.
// (A function, not an inline array: an inline variable the code indexes becomes a GNU-unique
// symbol, which marks the image's OS ABI as GNU and the kernel's loader refuses it.)
inline constexpr uint64_t kSumPrivOk = kSumE + 9;
inline constexpr uint64_t kPrivCount = 9;
constexpr uint64_t privileged(uint64_t i) { // i < kPrivCount: 38..44, then 47, 48
    return i < 7 ? static_cast<uint64_t>(kestrel::Sys::IrqGet) + i
                 : static_cast<uint64_t>(kestrel::Sys::HartOffline) + (i - 7);
}
static_assert(privileged(6) == static_cast<uint64_t>(kestrel::Sys::IrqStatus) &&
              privileged(8) == static_cast<uint64_t>(kestrel::Sys::HartOnline));
inline constexpr uint64_t kSumWords = kSumPrivOk + kPrivCount; // buffer words used
static_assert(kSumWords <= kestrel::kMaxIpcLength - 4, "the summary fits one message");
inline constexpr uint64_t kSumLength = 4 + kSumWords;

} // namespace proto
