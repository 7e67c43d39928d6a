// Memory objects (issue 19, RFC-0028 "Memory objects"): the refusals, then 1 MiB moved four
// times from init to `memshare` through one object, with a notification handshake.
#include "init.hpp"

namespace init {

using kestrel::Error;
using kestrel::IpcMsg;
using kestrel::Line;

namespace {

constexpr uint64_t kMem = 8, kMemRo = 9, kFull = 10, kEmpty = 11, kEp = 12, kTask = 13, kOther = 14;
// Where init maps the object: the first 1 MiB of the 2 MiB region whose page table
// test_thread made (its stack page is gone by now; the IPC tests' stacks start at
// kThreadStacks, above): every frame the test takes can come back.
constexpr uint64_t kAt = 0x2100'0000;
constexpr uint64_t kPages = kestrel::kMaxMemoryPages;
constexpr uint64_t kBytes = kPages * kestrel::kPageSize;
constexpr uint64_t kWords = kBytes / 8;
constexpr uint64_t kRounds = 4;

constexpr uint64_t pattern(uint64_t r, uint64_t i) { // as user/memshare/main.cpp
    return (r + 1) << 56 ^ i * 0x9e37'79b9ull ^ 0x5a5a;
}

// Gives the capability in `slot` to the reader through its endpoint; its hart, or < 0.
int64_t give(uint64_t slot) {
    IpcMsg m = msg(1, 4, 1);
    m.mr[3] = slot;
    const int64_t r = kestrel::call(kEp, m);
    return r < 0 ? r : static_cast<int64_t>(m.mr[0]);
}

void refusals(const char* t) {
    const int64_t objs = kestrel::object_count(4);
    check(t, kestrel::mem_create(kOther, 0) == e(Error::BadLength), "mem_create of 0 pages");
    check(t, kestrel::mem_create(kOther, kPages + 1) == e(Error::BadLength),
          "mem_create past the bound");
    check(t, kestrel::mem_create(kMem, 1) == e(Error::SlotOccupied), "mem_create into a used slot");
    check(t, kestrel::mem_create(kestrel::kCapSlots, 1) == e(Error::SlotOutOfRange),
          "mem_create out of range");
    check(t, kestrel::object_count(4) == objs, "no object taken by a refusal");
    const uint64_t rw = kestrel::ProtRead | kestrel::ProtWrite;
    check(t, kestrel::mem_map(kFull, kAt, 0, 1, kestrel::ProtRead) == e(Error::WrongType),
          "mem_map of a notification");
    check(t, kestrel::mem_map(kOther, kAt, 0, 1, kestrel::ProtRead) == e(Error::EmptySlot),
          "mem_map of an empty slot");
    check(t, kestrel::mem_map(kMem, kAt + 8, 0, 1, rw) == e(Error::BadArgument), "unaligned va");
    check(t, kestrel::mem_map(kMem, kAt, 0, 1, kestrel::ProtWrite) == e(Error::BadArgument),
          "write without read");
    check(t, kestrel::mem_map(kMem, kAt, 0, 1, rw | 4) == e(Error::BadArgument), "execute");
    check(t, kestrel::mem_map(kMem, kAt, 0, 0, rw) == e(Error::BadLength), "0 pages");
    check(t, kestrel::mem_map(kMem, kAt, kPages - 1, 2, rw) == e(Error::BadLength),
          "past the object's end");
    check(t, kestrel::mem_map(kMemRo, kAt, 0, 1, rw) == e(Error::MissingRight),
          "writable through a read-only capability");
    check(t, kestrel::mem_map(kMem, 0x8000'0000, 0, 1, rw) == e(Error::BadPointer),
          "over the kernel's range");
    check(t, kestrel::mem_map(kMem, kestrel::kUserLimit, 0, 1, rw) == e(Error::BadPointer),
          "outside the user half");
    // Mapped once, the same pages again, overlapping, are refused; a partial unmap too.
    check(t, kestrel::mem_map(kMem, kAt, 0, kPages, rw) == 0, "mem_map of the object");
    check(t, kestrel::mem_map(kMem, kAt + 4096, 0, 1, rw) == e(Error::Exists), "an overlap");
    check(t, kestrel::map(kAt, 4096, kestrel::ProtRead) == e(Error::Exists), "map over it");
    check(t, kestrel::unmap(kAt, 4096) == e(Error::NotMapped), "unmap of object pages");
    check(t, kestrel::mem_unmap(kAt, 4096) == e(Error::NotMapped), "a partial mem_unmap");
    check(t, kestrel::mem_unmap(kAt + 4096, kBytes - 4096) == e(Error::NotMapped),
          "a mem_unmap that starts elsewhere");
}

} // namespace

void test_memory() {
    const char* t = "memory object shared across harts";
    const int before = g_failed;
    const int64_t frames0 = kestrel::frame_count(), objs0 = kestrel::object_count(4);
    const Objects objects0 = snapshot();
    if (!check(t, kestrel::mem_create(kMem, kPages) == 0, "mem_create of 1 MiB")) return;
    check(t, kestrel::object_count(4) == objs0 - 1, "one object record taken");
    check(t, kestrel::frame_count() <= frames0 - static_cast<int64_t>(kPages), "its frames taken");
    check(t, kestrel::cap_mint(kMem, kMemRo, kestrel::RightReceive | kestrel::RightGrant, 0) == 0,
          "a read-only capability");
    check(t,
          kestrel::notification_create(kFull) == 0 && kestrel::notification_create(kEmpty) == 0 &&
              kestrel::endpoint_create(kEp) == 0,
          "the notifications and the endpoint");
    refusals(t);
    // The reader: on another hart than this one when there are two (spawned again, killed,
    // until one starts elsewhere; spawn places each on the next hart in turn).
    int64_t reader = -1, reader_hart = -1;
    for (int tries = 0; tries < 2 * g_cpus + 2 && g_failed == before; ++tries) {
        static const char kArgs[] = "rounds=4";
        reader = kestrel::spawn("memshare", 8, kArgs, sizeof kArgs, kEp, kTask);
        if (!check(t, reader > 0, "spawn memshare", reader)) break;
        reader_hart = give(kMemRo);
        if (g_cpus < 2 || reader_hart != kestrel::current_cpu()) break;
        kestrel::WaitStatus st{};
        (void)kestrel::task_kill(kTask);
        (void)kestrel::task_wait(kTask, &st);
        (void)kestrel::wait(reader, &st);
        (void)kestrel::cap_delete(kTask);
        reader = -1;
    }
    if (reader > 0 && check(t, give(kFull) >= 0 && give(kEmpty) >= 0, "the notifications given")) {
        auto* w = reinterpret_cast<volatile uint64_t*>(kAt);
        int64_t cross = 0;
        for (uint64_t r = 0; r < kRounds; ++r) {
            for (uint64_t i = 0; i < kWords; ++i)
                w[i] = pattern(r, i);
            cross += kestrel::current_cpu() != reader_hart ? 1 : 0;
            uint64_t bits = 0;
            if (!check(t, kestrel::signal(kFull) == 0 && kestrel::notify_wait(kEmpty, bits) == 0,
                       "the handshake"))
                break;
        }
        kestrel::WaitStatus st{};
        const int64_t wr = kestrel::wait(reader, &st);
        Line()
            .put("ULOG: memory object: ")
            .put(static_cast<int64_t>(kRounds))
            .put(" x 1 MiB to the reader on hart ")
            .put(reader_hart)
            .put(", rounds written on another hart ")
            .put(cross)
            .put(", reader exit ")
            .put(st.code)
            .done();
        check(t, wr == 0 && st.kind == kestrel::WaitKind::Exited && st.code == 0,
              "the reader read every word (exit 1 wrong, 2 refused, 3 writable)", st.code);
        if (g_cpus >= 2) check(t, cross > 0, "the rounds crossed harts", cross);
    }
    // Its mapping holds the object after the capabilities go: the frames come back only with
    // the unmap.
    (void)kestrel::cap_delete(kTask);
    check(t, kestrel::cap_delete(kMem) == 0 && kestrel::cap_delete(kMemRo) == 0, "delete the caps");
    check(t, kestrel::object_count(4) == objs0 - 1, "the mapping keeps the object");
    check(t, reinterpret_cast<volatile uint64_t*>(kAt)[5] == pattern(kRounds - 1, 5),
          "the pages still read after the capabilities went");
    check(t, kestrel::mem_unmap(kAt, kBytes) == 0, "mem_unmap");
    check(t, kestrel::object_count(4) == objs0, "the object's record back");
    check(t, kestrel::frame_count() == frames0, "every frame back",
          frames0 - kestrel::frame_count());
    empty_slots(kMem, kOther + 1);
    check_objects(t, objects0);
    pass(t, before);
}

} // namespace init
