// The scheduler's lock order, checked by k::SpinLock at every acquisition on every hart.
#pragma once

#include "base/spin_lock.hpp"

namespace sched {

// An inbox lock first, then the owner's rq lock (a drain links what it takes into the run
// queue), never the reverse: a hart holding an rq lock takes no inbox lock, so the switch path,
// which holds its rq lock across the switch, hands work to other harts only after the release
// (RFC-0021 "Inboxes"). No hart holds two inbox locks either.
inline constexpr k::LockRank kInboxRank{
    "inbox", 1,
    "lock order: an inbox lock taken while this hart holds an rq lock or another inbox lock "
    "(RFC-0021 \"Inboxes\": the inbox lock, then the owner's rq lock, never the reverse)"};

// Never two rq locks at once: a thief takes from the victim's queue under the victim's lock,
// drops it, then queues its loot under its own (RFC-0022 "Bounded stealing"); a try-lock
// attempt counts as taking it.
inline constexpr k::LockRank kRqRank{
    "rq", 2,
    "lock order: an rq lock taken while this hart holds an rq lock (RFC-0022 \"Bounded "
    "stealing\": a steal never holds two rq locks together)"};

static_assert(kInboxRank.level < kRqRank.level && kRqRank.level < 8);

} // namespace sched
