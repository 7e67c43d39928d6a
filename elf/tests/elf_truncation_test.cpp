// Every truncation of every real user image is refused; single-byte corruption never crashes
// and never yields a plan that breaks the rules (run under ASan/UBSan as elf-asan).
#include "elf/tests/elf_test_util.hpp"

#include <string_view>
#include <vector>

using elf::ElfError;
using namespace elftest;

// The byte-by-byte sweeps cover hello and exiter, the two smallest images: the other programs
// are built by the same toolchain and linker script, so they add no new shape of file, only
// minutes under ASan (a sweep costs about the square of the size: with init at 248 KB after
// the IPC tests, elf-asan ran past its timeout).
std::vector<ImageFile> swept() {
    std::vector<ImageFile> v;
    for (const ImageFile& f : kImages)
        if (std::string_view(f.name) == "hello" || std::string_view(f.name) == "exiter")
            v.push_back(f);
    return v;
}
const std::vector<ImageFile> kSweptImages = swept();

TEST_CASE("every truncation of every user image is refused", "[elf][truncation]") {
    REQUIRE(kSweptImages.size() == 2);
    std::size_t tested = 0;
    for (const ImageFile& f : kSweptImages) {
        const Bytes b = read_file(f.path);
        REQUIRE(b.size() > 64);
        for (std::size_t len = 0; len < b.size(); ++len) {
            elf::Plan p{};
            const ElfError e = check(b, p, {}, len);
            if (e == ElfError::Ok) FAIL(f.name << " truncated to " << len << " bytes validated");
            REQUIRE(p.count == 0);
            ++tested;
        }
        elf::Plan p{};
        REQUIRE(check(b, p) == ElfError::Ok); // and the whole image is accepted
    }
    WARN("truncations tested: " << tested);
}

TEST_CASE("single-byte corruption: refused or a plan within the rules", "[elf][corrupt]") {
    std::size_t refused = 0, accepted = 0;
    for (const ImageFile& f : kSweptImages) {
        Bytes b = read_file(f.path);
        const Bytes orig = b;
        for (std::size_t at = 0; at < b.size(); ++at) {
            for (const unsigned x : {0x01u, 0x80u, 0xffu}) {
                b[at] = static_cast<unsigned char>(orig[at] ^ x);
                elf::Plan p{};
                if (check(b, p) == ElfError::Ok) {
                    require_sane(p, b.size());
                    ++accepted;
                } else {
                    REQUIRE(p.count == 0);
                    ++refused;
                }
            }
            b[at] = orig[at];
        }
    }
    REQUIRE(refused > 0);
    WARN("corruptions: refused " << refused << ", accepted within the rules " << accepted);
}
