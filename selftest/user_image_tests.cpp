// User images (RFC-0026): every ELF image embedded in the kernel passes the validator on the
// target, with the plan user/user.ld promises; the validator refuses a cut or misplaced one.
#include "base/console.hpp"
#include "elf/elf.hpp"
#include "proc/images.hpp"
#include "selftest/selftest.hpp"

namespace k::selftest {

namespace {

// init, hello, fault, exiter, waiter, ipcpair, ipcbench, ipcdiff, killer, ipcsrv, fuzz, hotplug,
// fpstorm, memshare, console, shell, shellscript, busy
// (user/meson.build)
constexpr std::size_t kImages = 18;

// The plan of one image: three segments R-X, R--, RW- in that order, the entry inside the
// first one's file bytes, every file range inside the image.
Result check_plan(const elf::Image& img, const elf::Plan& p) {
    KCHECK(p.count == 3);
    KCHECK(p.segments[0].perms == (elf::kRead | elf::kExec));
    KCHECK(p.segments[1].perms == elf::kRead);
    KCHECK(p.segments[2].perms == (elf::kRead | elf::kWrite));
    KCHECK(p.entry >= p.segments[0].vaddr);
    KCHECK(p.entry - p.segments[0].vaddr < p.segments[0].filesz);
    for (std::uint32_t i = 0; i < p.count; ++i) {
        const elf::Segment& s = p.segments[i];
        KCHECK(s.filesz <= s.memsz);
        KCHECK(s.offset <= img.size() && s.filesz <= img.size() - s.offset);
        KCHECK(s.vaddr >= kestrel::kUserBase && s.vaddr + s.memsz <= kestrel::kUserLimit);
    }
    return Result::pass();
}

} // namespace

KSELFTEST(USER0001, "user images validate") {
    KCHECK(k::user::image_count() == kImages);
    for (std::size_t i = 0; i < k::user::image_count(); ++i) {
        const elf::Image& img = k::user::images()[i];
        KCHECK(img.begin != nullptr && img.end > img.begin);
        elf::Plan plan{};
        const elf::ElfError e = elf::validate(img.begin, img.size(), elf::Limits{}, plan);
        if (e != elf::ElfError::Ok) {
            println("KLOG: user image ", img.name, " refused: ", elf::name(e));
            return Result::fail("an embedded user image is refused");
        }
        if (const Result r = check_plan(img, plan); !r.ok) return r;
        println("KLOG: user image ", img.name, ": ", img.size(), " bytes, entry ", hex(plan.entry),
                ", segments ", plan.count, ", pages ", plan.pages, ", abi ",
                elf::name(plan.float_abi));
        // The validator on the target is live: a cut image and a too-low user limit are
        // refused, and a refusal leaves the plan empty.
        KCHECK(elf::validate(img.begin, img.size() - 1, elf::Limits{}, plan) != elf::ElfError::Ok);
        KCHECK(plan.count == 0);
        elf::Limits low{};
        low.user_limit = 0x10000;
        KCHECK(elf::validate(img.begin, img.size(), low, plan) == elf::ElfError::AboveUserLimit);
        // Lookup by name finds this image and only by its exact name.
        std::size_t len = 0;
        while (img.name[len] != '\0')
            ++len;
        KCHECK(k::user::find_image(img.name, len) == &img);
        KCHECK(k::user::find_image(img.name, len - 1) == nullptr);
    }
    KCHECK(k::user::find_image("init", 4) != nullptr);
    KCHECK(k::user::find_image("hello", 5) != nullptr);
    KCHECK(k::user::find_image("nosuch", 6) == nullptr);
    return Result::pass();
}

} // namespace k::selftest
