// memshare: the reading side of init's memory-object test (issue 19, RFC-0028 "Memory
// objects"). Slot 0 holds an endpoint; init calls it three times, each call carrying one
// capability: a read-only capability to the object (slot 1), the notification `full`
// (slot 2) and `empty` (slot 3). The first reply says which hart this thread is on.
// Then: a writable map must be refused (MissingRight), a readable one works; for each of
// argv "rounds=R" rounds it waits on `full`, checks every word of the object against the
// round's pattern (layout below) and signals `empty`. Exit 0 when every word was right and the
// unmap worked; else 1 (a wrong word), 2 (a refused step), 3 (the writable map was not refused).
#include <kestrel/user.hpp>

using kestrel::IpcMsg;

namespace {

constexpr uint64_t kEp = 0, kMem = 1, kFull = 2, kEmpty = 3;
constexpr uint64_t kAt = 0x28'0000'0000; // where this process maps the object
constexpr uint64_t kPages = kestrel::kMaxMemoryPages;
constexpr uint64_t kWords = kPages * kestrel::kPageSize / 8;

// The word at index i in round r: init writes it, this process checks it.
constexpr uint64_t pattern(uint64_t r, uint64_t i) {
    return (r + 1) << 56 ^ i * 0x9e37'79b9ull ^ 0x5a5a;
}

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

// Takes one capability into `dst` from init's next call and answers it with this hart.
bool take(uint64_t dst) {
    IpcMsg m;
    if (kestrel::recv(kEp, m, nullptr, dst) != 0 || kestrel::tag_caps(m.tag) != 1) return false;
    m.tag = kestrel::make_tag(0, 1);
    m.mr[0] = static_cast<uint64_t>(kestrel::current_cpu());
    return kestrel::reply(m) == 0;
}

} // namespace

int main(int argc, char** argv) {
    uint64_t rounds = 4;
    for (int i = 0; i < argc; ++i)
        if (starts(argv[i], "rounds="))
            rounds = static_cast<uint64_t>(kestrel::parse_int(argv[i] + 7));
    if (!take(kMem) || !take(kFull) || !take(kEmpty)) return 2;
    if (kestrel::mem_map(kMem, kAt, 0, kPages, kestrel::ProtRead | kestrel::ProtWrite) !=
        static_cast<int64_t>(kestrel::Error::MissingRight))
        return 3;
    if (kestrel::mem_map(kMem, kAt, 0, kPages, kestrel::ProtRead) != 0) return 2;
    const auto* w = reinterpret_cast<const volatile uint64_t*>(kAt);
    uint64_t wrong = 0;
    for (uint64_t r = 0; r < rounds; ++r) {
        uint64_t bits = 0;
        if (kestrel::notify_wait(kFull, bits) != 0) return 2;
        for (uint64_t i = 0; i < kWords; ++i)
            wrong += w[i] != pattern(r, i) ? 1 : 0;
        if (kestrel::signal(kEmpty) != 0) return 2;
    }
    if (kestrel::mem_unmap(kAt, kPages * kestrel::kPageSize) != 0) return 2;
    kestrel::Line()
        .put("ULOG: memshare: rounds ")
        .put(static_cast<int64_t>(rounds))
        .put(" wrong words ")
        .put(static_cast<int64_t>(wrong))
        .put(" hart ")
        .put(kestrel::current_cpu())
        .done();
    return wrong == 0 ? 0 : 1;
}
