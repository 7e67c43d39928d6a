// User address spaces in the kernel (RFC-0026): the slab, ASIDs, an embedded image loaded,
// map/unmap with every ABI error, and every frame and slot back afterwards.
#include "base/console.hpp"
#include "elf/elf.hpp"
#include "mm/frames.hpp"
#include "mm/user_space.hpp"
#include "proc/images.hpp"
#include "selftest/selftest.hpp"

namespace k::selftest {

namespace {

using kestrel::Error;
constexpr std::uint64_t kPage = mm::kPageSize;
constexpr std::uint64_t kX = 0x3f'0000'0000; // root entry 252: far above any RAM we identity-map

std::int64_t e(Error v) {
    return static_cast<std::int64_t>(v);
}

Result check_map_errors(uspace::UserSpace& s) {
    constexpr std::uint64_t R = kestrel::ProtRead, RW = kestrel::ProtRead | kestrel::ProtWrite;
    KCHECK(!uspace::kernel_range(s, kX, kPage));
    KCHECK(uspace::map(s, kX + 8, kPage, R) == e(Error::BadArgument));
    KCHECK(uspace::map(s, kX, kPage, 0) == e(Error::BadArgument));
    KCHECK(uspace::map(s, kX, kPage, kestrel::ProtWrite) == e(Error::BadArgument));
    KCHECK(uspace::map(s, kX, kPage, R | 4) == e(Error::BadArgument)); // no execute
    KCHECK(uspace::map(s, kX, 0, R) == e(Error::BadLength));
    KCHECK(uspace::map(s, kX, 100, R) == e(Error::BadLength));
    KCHECK(uspace::map(s, 0, kPage, R) == e(Error::BadPointer));
    KCHECK(uspace::map(s, kestrel::kUserLimit, kPage, R) == e(Error::BadPointer));
    KCHECK(uspace::map(s, kestrel::kUserLimit - kPage, 2 * kPage, R) == e(Error::BadPointer));
    KCHECK(uspace::map(s, 0xffff'ffff'ffff'f000, kPage, R) == e(Error::BadPointer));
    KCHECK(uspace::map(s, 0x8020'0000, kPage, R) == e(Error::BadPointer)); // kernel text's entry
    KCHECK(uspace::map(s, 0x20'0000'0000, 1ull << 36, R) == e(Error::NoMemory)); // 64 GiB
    KCHECK(uspace::map(s, kX, 2 * kPage, RW) == 0);
    KCHECK(uspace::map(s, kX + kPage, kPage, R) == e(Error::Exists));
    KCHECK(uspace::map(s, kX - kPage, 2 * kPage, R) == e(Error::Exists));
    KCHECK(!uspace::translate(s, kX - kPage).mapped); // the refused map left nothing
    const std::uint64_t v = 0x1122'3344'5566'7788;
    KCHECK(uspace::write(s, kX + kPage - 4, &v, sizeof v) == mm::SpaceError::None);
    const mm::Translation t = uspace::translate(s, kX + kPage - 4);
    KCHECK(t.mapped && (t.flags & mm::pte::kU) && (t.flags & mm::pte::kW));
    KCHECK(*reinterpret_cast<const std::uint32_t*>(t.pa) == 0x5566'7788u);
    KCHECK(uspace::user_accessible(s, kX, 2 * kPage, true));
    KCHECK(!uspace::user_accessible(s, kX, 3 * kPage, false));
    KCHECK(uspace::unmap(s, kX + 8, kPage) == e(Error::BadArgument));
    KCHECK(uspace::unmap(s, kX, 0) == e(Error::BadLength));
    KCHECK(uspace::unmap(s, kX, 3 * kPage) == e(Error::NotMapped));
    KCHECK(uspace::unmap(s, 0x8020'0000, kPage) == e(Error::NotMapped));
    KCHECK(uspace::unmap(s, kestrel::kUserLimit, kPage) == e(Error::NotMapped));
    KCHECK(uspace::user_pages(s) >= 2);
    KCHECK(uspace::unmap(s, kX, 2 * kPage) == 0);
    KCHECK(!uspace::translate(s, kX).mapped);
    KCHECK(uspace::unmap(s, kX, kPage) == e(Error::NotMapped));
    return Result::pass();
}

} // namespace

KSELFTEST(USER0002, "user space map") {
    const std::uint64_t frames0 = frames::free_count();
    const std::uint64_t spaces0 = uspace::free_spaces();
    KCHECK(spaces0 == uspace::kMaxSpaces);
    uspace::UserSpace* s = uspace::create();
    KCHECK(s != nullptr);
    KCHECK(uspace::satp(*s) >> 60 == mm::kSatpModeSv39);
    KCHECK(((uspace::satp(*s) >> 44) & 0xffff) == uspace::asid(*s));
    // The init image, loaded where user.ld links it: root entry 0 is no longer the kernel's
    // (its devices live in the MMIO window, RFC-0025), so nothing there is borrowed.
    const elf::Image* init = k::user::find_image("init", 4);
    KCHECK(init != nullptr);
    KCHECK(!uspace::kernel_range(*s, kestrel::kUserBase, kPage));
    elf::Plan plan{};
    KCHECK(elf::validate(init->begin, init->size(), elf::Limits{}, plan) == elf::ElfError::Ok);
    const uspace::Loaded l = uspace::load(*s, *init);
    KCHECK(l.error == uspace::LoadError::None && l.entry == 0x1'0000);
    KCHECK(uspace::user_pages(*s) == plan.pages);
    KCHECK(uspace::unmap(*s, 0x1'0000, kPage) == e(Error::NotMapped)); // image, not map()
    const Result r = check_map_errors(*s);
    // The slab: every slot once, distinct ASIDs, then null (NoMemory) with nothing taken.
    static uspace::UserSpace* all[uspace::kMaxSpaces];
    std::uint32_t n = 0, dup = 0, asid_max = 0;
    while (n < uspace::kMaxSpaces) {
        uspace::UserSpace* o = uspace::create();
        if (!o) break;
        if (uspace::asid(*o) > asid_max) asid_max = uspace::asid(*o);
        for (std::uint32_t i = 0; i < n; ++i)
            dup += uspace::asid(*all[i]) == uspace::asid(*o) && uspace::asid(*o) != 0 ? 1 : 0;
        all[n++] = o;
    }
    const std::uint64_t none_left = uspace::free_spaces();
    const bool refused = uspace::create() == nullptr;
    for (std::uint32_t i = 0; i < n; ++i)
        uspace::release(all[i]);
    uspace::retain(*s);
    uspace::release(s);
    const bool kept = uspace::free_spaces() == spaces0 - 1; // one reference left
    uspace::release(s);
    println("KLOG: uspace: slab ", n + 1, "/", uspace::kMaxSpaces, " spaces, highest asid ",
            asid_max, ", image loaded (", plan.pages, " pages)", " frames start=", frames0,
            " end=", frames::free_count(), " spaces free=", uspace::free_spaces());
    if (!r.ok) return r;
    KCHECK(n == uspace::kMaxSpaces - 1 && none_left == 0 && refused && dup == 0 && kept);
    KCHECK(uspace::free_spaces() == spaces0);
    KCHECK(frames::free_count() == frames0);
    return Result::pass();
}

} // namespace k::selftest
