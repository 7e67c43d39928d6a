// dtb reader robustness: header checks, every truncation, deterministic corruption of real blobs.
#include "dtb/dtb.hpp"
#include "dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

using dtb::Status;
using dtbtest::Bytes;
using dtbtest::get_be32;
using dtbtest::put_be32;

namespace {

const char* const kFixtures[] = {
    "virt-smp1.dtb",         "virt-smp2.dtb",       "virt-smp4.dtb",
    "virt-smp8.dtb",         "virt-smp40.dtb",      "spike.dtb",
    "sifive_u-smp2.dtb",     "virt-bootargs.dtb",   "virt-timebase-2cell.dtb",
    "virt-memory-noreg.dtb", "virt-dup-hartid.dtb",
};

// Parses an exact-size copy and checks the result is self-consistent. Returns the status.
Status parse_checked(const Bytes& blob) {
    const dtbtest::Exact e(blob);
    dtb::Platform p{};
    const Status s = dtb::parse(e.data(), e.size(), p);
    REQUIRE(static_cast<unsigned>(s) <= static_cast<unsigned>(Status::TooLarge));
    if (s != Status::Ok) {
        REQUIRE(dtbtest::is_default(p));
        return s;
    }
    REQUIRE(p.hart_count <= dtb::kMaxHarts);
    REQUIRE(p.timebase_hz >= dtb::kMinTimebaseHz);
    REQUIRE(p.timebase_hz <= dtb::kMaxTimebaseHz);
    for (std::uint32_t i = 0; i < p.hart_count; ++i)
        for (std::uint32_t j = i + 1; j < p.hart_count; ++j)
            REQUIRE(p.harts[i].hart_id != p.harts[j].hart_id);
    REQUIRE(p.refusal_count <= dtb::kMaxRefusals);
    for (std::uint32_t i = 0; i < p.refusal_count; ++i)
        REQUIRE((p.refusals[i].node != nullptr && p.refusals[i].prop != nullptr));
    REQUIRE(p.uart_reg_shift <= 3);
    REQUIRE(p.mem_size != 0);
    REQUIRE(p.mem_base + p.mem_size > p.mem_base);
    REQUIRE(p.bootargs != nullptr);
    if (p.bootargs[0] != '\0') { // then it lies inside the blob, NUL included
        const auto* b = reinterpret_cast<const std::uint8_t*>(p.bootargs);
        REQUIRE(b >= e.data());
        REQUIRE(b < e.data() + e.size());
        REQUIRE(std::memchr(b, 0, static_cast<std::size_t>(e.data() + e.size() - b)));
    }
    REQUIRE(((p.defaulted & dtb::kNoCpus) != 0) == (p.hart_count == 0));
    if (p.defaulted & dtb::kNoUart)
        REQUIRE((p.uart_base == dtb::kDefaultUartBase && p.uart_reg_shift == 0));
    if (p.defaulted & dtb::kNoTestDevice) REQUIRE(p.test_base == 0);
    if (p.defaulted & dtb::kNoMemory)
        REQUIRE((p.mem_base == dtb::kDefaultMemBase && p.mem_size == dtb::kDefaultMemSize));
    if (p.defaulted & dtb::kNoBootargs) REQUIRE(p.bootargs[0] == '\0');
    // Deterministic: the same bytes give the same answer.
    dtb::Platform again{};
    REQUIRE(dtb::parse(e.data(), e.size(), again) == Status::Ok);
    REQUIRE(std::memcmp(&p, &again, sizeof p) == 0);
    return s;
}

// Offsets of interesting words in a valid blob: header fields, every token, every property's
// length and name offset. Found with an independent (test-side) scan of the struct block.
std::vector<std::size_t> interesting_words(const Bytes& b) {
    std::vector<std::size_t> out;
    for (std::size_t off = 0; off < 40; off += 4)
        out.push_back(off);
    std::size_t pos = get_be32(b, dtbtest::kOffStruct);
    const std::size_t end = pos + get_be32(b, dtbtest::kSizeStruct);
    while (pos + 4 <= end) {
        const std::uint32_t token = get_be32(b, pos);
        out.push_back(pos);
        pos += 4;
        if (token == 1) { // BEGIN_NODE name
            while (b[pos] != 0)
                ++pos;
            pos = (pos + 4) & ~std::size_t{3};
        } else if (token == 3) { // PROP len nameoff data
            out.push_back(pos);
            out.push_back(pos + 4);
            pos = (pos + 8 + get_be32(b, pos) + 3) & ~std::size_t{3};
        } else if (token == 9) {
            break;
        }
    }
    return out;
}

// xorshift64*: deterministic across platforms and runs.
struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545'f491'4f6c'dd1dull;
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

} // namespace

TEST_CASE("header checks", "[dtb][robust]") {
    const Bytes good = dtbtest::load_fixture("virt-smp1.dtb");
    REQUIRE(parse_checked(good) == Status::Ok);
    auto with = [&](std::size_t field, std::uint32_t v) {
        Bytes b = good;
        put_be32(b, field, v);
        return parse_checked(b);
    };
    const auto total = static_cast<std::uint32_t>(good.size());
    const std::uint32_t off_struct = get_be32(good, dtbtest::kOffStruct);
    const std::uint32_t off_strings = get_be32(good, dtbtest::kOffStrings);
    CHECK(with(dtbtest::kMagicOff, 0xfeedd00d) == Status::BadMagic);
    CHECK(with(dtbtest::kTotalSize, total + 1) == Status::Truncated);
    CHECK(with(dtbtest::kTotalSize, 0xffff'ffff) == Status::Truncated);
    CHECK(with(dtbtest::kTotalSize, 39) == Status::BadStructure);
    CHECK(with(dtbtest::kVersionOff, 16) == Status::BadVersion);
    CHECK(with(dtbtest::kVersionOff, 18) == Status::Ok); // newer, still compatible
    CHECK(with(dtbtest::kLastComp, 18) == Status::BadVersion);
    CHECK(with(dtbtest::kOffStruct, off_struct + 2) == Status::BadStructure);
    CHECK(with(dtbtest::kOffStruct, 0) == Status::BadStructure);
    CHECK(with(dtbtest::kOffStruct, 0xffff'fffc) == Status::BadStructure);
    CHECK(with(dtbtest::kSizeStruct, total) == Status::BadStructure);
    CHECK(with(dtbtest::kSizeStruct, 0) == Status::BadStructure);
    CHECK(with(dtbtest::kOffStrings, 0xffff'ffff) == Status::BadStructure);
    CHECK(with(dtbtest::kSizeStrings, total - off_strings + 1) == Status::BadStructure);
    CHECK(with(dtbtest::kSizeStrings, 0) == Status::BadStructure);
    CHECK(with(dtbtest::kOffRsvmap, 4) == Status::BadStructure);
    CHECK(with(dtbtest::kOffRsvmap, 44) == Status::BadStructure);
    CHECK(with(dtbtest::kOffRsvmap, total - 8) == Status::BadStructure);
    CHECK(with(dtbtest::kBootCpu, 3) == Status::Ok); // not used

    // Fewer bytes than the header claims, or than a header.
    dtb::Platform p{};
    for (std::size_t n : {0u, 1u, 3u, 4u, 39u, 40u}) {
        INFO("size " << n);
        const dtbtest::Exact e(good.data(), n);
        const Status s = dtb::parse(e.data(), n, p);
        CHECK(s == Status::Truncated);
        CHECK(dtbtest::is_default(p));
    }
    CHECK(dtb::parse(nullptr, 0, p) == Status::NullBlob);
    const Bytes junk(64, 0xab);
    CHECK(parse_checked(junk) == Status::BadMagic);
}

TEST_CASE("every truncation of every fixture fails cleanly", "[dtb][robust]") {
    std::size_t cases = 0, bytes = 0;
    for (const char* name : kFixtures) {
        INFO(name);
        const Bytes full = dtbtest::load_fixture(name);
        REQUIRE(full.size() > 40);
        bytes += full.size();
        for (std::size_t n = 0; n < full.size(); ++n) {
            const dtbtest::Exact e(full.data(), n);
            dtb::Platform p{};
            const Status s = dtb::parse(e.data(), n, p);
            if (s != Status::Truncated) {
                INFO("prefix " << n << ": " << dtb::status_name(s));
                FAIL();
            }
            REQUIRE(dtbtest::is_default(p));
            ++cases;
        }
    }
    CHECK(cases == bytes); // one per prefix length: about 50k
}

TEST_CASE("truncations that also shrink totalsize fail or stay consistent", "[dtb][robust]") {
    // The header now agrees with the short buffer, so the block bounds must catch it.
    std::size_t ok = 0, cases = 0;
    for (const char* name : kFixtures) {
        INFO(name);
        const Bytes full = dtbtest::load_fixture(name);
        for (std::size_t n = 40; n < full.size(); n += 3) {
            INFO("prefix " << n);
            Bytes b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            put_be32(b, dtbtest::kTotalSize, static_cast<std::uint32_t>(n));
            if (parse_checked(b) == Status::Ok) ++ok;
            ++cases;
        }
    }
    // The strings block is last: every prefix cuts it, so none may parse.
    CHECK(ok == 0);
    CHECK(cases > 15'000);
}

TEST_CASE("deterministic corruption of real blobs gives a defined Status", "[dtb][robust]") {
    Rng rng{0x6b65'7374'7265'6c21ull};
    std::size_t counts[7] = {};
    constexpr int kPerFixture = 1500;
    for (const char* name : kFixtures) {
        INFO(name);
        const Bytes good = dtbtest::load_fixture(name);
        const std::vector<std::size_t> words = interesting_words(good);
        REQUIRE(words.size() > 40);
        for (int i = 0; i < kPerFixture; ++i) {
            Bytes b = good;
            const int edits = 1 + static_cast<int>(rng.below(3));
            for (int k = 0; k < edits; ++k) {
                const std::size_t w = words[rng.below(words.size())];
                switch (rng.below(6)) {
                case 0: // flip one bit anywhere
                    b[rng.below(b.size())] ^= static_cast<std::uint8_t>(1u << rng.below(8));
                    break;
                case 1: // a random byte anywhere
                    b[rng.below(b.size())] = static_cast<std::uint8_t>(rng.next());
                    break;
                case 2: // flip one bit of a header field, token, length or name offset
                    put_be32(b, w, get_be32(b, w) ^ (1u << rng.below(32)));
                    break;
                case 3: // a small value there (tokens 0..15, tiny lengths and offsets)
                    put_be32(b, w, static_cast<std::uint32_t>(rng.below(16)));
                    break;
                case 4: // a huge value there
                    put_be32(b, w, 0xffff'ffffu - static_cast<std::uint32_t>(rng.below(16)));
                    break;
                default: // nudge it by a few bytes
                    put_be32(b, w, get_be32(b, w) + static_cast<std::uint32_t>(rng.below(9)) - 4);
                    break;
                }
            }
            INFO("case " << i);
            ++counts[static_cast<unsigned>(parse_checked(b))];
        }
    }
    std::size_t total = 0;
    for (std::size_t c : counts)
        total += c;
    CHECK(total == kPerFixture * std::size(kFixtures));
    // Both outcomes occur: corruption the reader cannot notice (e.g. in an unused property)
    // and corruption it rejects.
    CHECK(counts[static_cast<unsigned>(Status::Ok)] > 0);
    CHECK(counts[static_cast<unsigned>(Status::BadStructure)] > 0);
    WARN("corruption outcomes: Ok " << counts[0] << ", BadMagic " << counts[2] << ", Truncated "
                                    << counts[3] << ", BadVersion " << counts[4]
                                    << ", BadStructure " << counts[5]);
}
