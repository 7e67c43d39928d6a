// dtb reader tests against real QEMU device trees (fixtures/README.md), plus the small API helpers.
#include "dtb/dtb.hpp"
#include "dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

using dtbtest::Bytes;
using dtbtest::load_fixture;
using dtbtest::parse_bytes;

namespace {

constexpr std::uint64_t kMiB = 1u << 20;

// Pointer lies inside the blob and its string ends there too.
bool points_into(const char* s, const dtbtest::Exact& blob) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(s);
    if (p < blob.data() || p >= blob.data() + blob.size()) return false;
    return std::memchr(p, 0, static_cast<std::size_t>(blob.data() + blob.size() - p)) != nullptr;
}

void check_virt(const dtb::Platform& p, std::uint32_t harts) {
    REQUIRE(p.hart_count == harts);
    CHECK(p.harts_dropped == 0);
    for (std::uint32_t i = 0; i < harts; ++i) {
        INFO("hart " << i);
        CHECK(p.harts[i].hart_id == i);
        CHECK(p.harts[i].enabled);
        CHECK(p.harts[i].s_mode);
        CHECK(p.harts[i].sstc);
        CHECK(p.harts[i].usable());
    }
    CHECK(p.mem_base == 0x8000'0000);
    CHECK(p.mem_size == 256 * kMiB);
    CHECK(p.uart_base == 0x1000'0000);
    CHECK(p.uart_reg_shift == 0);
    CHECK(p.test_base == 0x10'0000);
    CHECK(p.timebase_hz == 10'000'000);
}

} // namespace

TEST_CASE("virt fixtures: harts, memory, uart, test device, timebase", "[dtb][fixture]") {
    for (std::uint32_t n : {1u, 2u, 4u, 8u}) {
        const std::string name = "virt-smp" + std::to_string(n) + ".dtb";
        INFO(name);
        const Bytes blob = load_fixture(name);
        REQUIRE(blob.size() > 40);
        const auto r = parse_bytes(blob);
        REQUIRE(r.status == dtb::Status::Ok);
        check_virt(r.p, n);
        // QEMU only adds /chosen/bootargs with -append.
        CHECK(r.p.defaulted == dtb::kNoBootargs);
        CHECK(std::string(r.p.bootargs).empty());
    }
}

TEST_CASE("virt fixture with more cpus than kMaxHarts drops the rest", "[dtb][fixture]") {
    const auto r = parse_bytes(load_fixture("virt-smp40.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    REQUIRE(r.p.hart_count == dtb::kMaxHarts);
    CHECK(r.p.harts_dropped == 40 - dtb::kMaxHarts);
    for (std::uint32_t i = 0; i < dtb::kMaxHarts; ++i)
        CHECK(r.p.harts[i].hart_id == i);
    CHECK(r.p.uart_base == 0x1000'0000);
    CHECK(r.p.defaulted == dtb::kNoBootargs);
}

TEST_CASE("virt fixture with -append carries bootargs", "[dtb][fixture]") {
    const auto r = parse_bytes(load_fixture("virt-bootargs.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    check_virt(r.p, 2);
    CHECK(r.p.defaulted == 0);
    CHECK(std::string(r.p.bootargs) == "console=uart quiet");
    CHECK(points_into(r.p.bootargs, r.blob));

    const char* v = nullptr;
    std::size_t len = 0;
    REQUIRE(dtb::bootarg_value(r.p.bootargs, "console", v, len));
    CHECK(std::string(v, len) == "uart");
    CHECK(dtb::bootarg_value_is(v, len, "uart"));
    CHECK_FALSE(dtb::bootarg_value_is(v, len, "uar"));
    CHECK_FALSE(dtb::bootarg_value_is(v, len, "uarts"));
    REQUIRE(dtb::bootarg_value(r.p.bootargs, "quiet", v, len));
    CHECK(len == 0);
    CHECK_FALSE(dtb::bootarg_value(r.p.bootargs, "cons", v, len));
}

TEST_CASE("spike fixture: one hart, HTIF console, no ns16550a or test device", "[dtb][fixture]") {
    const auto r = parse_bytes(load_fixture("spike.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    REQUIRE(r.p.hart_count == 1);
    CHECK(r.p.harts[0].hart_id == 0);
    CHECK(r.p.harts[0].usable());
    CHECK(r.p.harts[0].sstc);
    CHECK(r.p.mem_base == 0x8000'0000);
    CHECK(r.p.mem_size == 256 * kMiB);
    CHECK(r.p.timebase_hz == 10'000'000);
    // stdout-path is "/htif" (ucb,htif0): not an ns16550a, and there is no other one.
    CHECK(r.p.defaulted == (dtb::kNoUart | dtb::kNoTestDevice | dtb::kNoBootargs));
    CHECK(r.p.uart_base == dtb::kDefaultUartBase);
    CHECK(r.p.test_base == 0);
}

TEST_CASE("sifive_u fixture: hart 0 is the E51 monitor core without S-mode", "[dtb][fixture]") {
    const auto r = parse_bytes(load_fixture("sifive_u-smp2.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    REQUIRE(r.p.hart_count == 2);
    const dtb::Hart& e51 = r.p.harts[0];
    const dtb::Hart& u54 = r.p.harts[1];
    CHECK(e51.hart_id == 0);
    CHECK(e51.enabled);
    CHECK_FALSE(e51.s_mode); // no mmu-type: rv64imac machine-mode-only core
    CHECK_FALSE(e51.usable());
    CHECK(u54.hart_id == 1);
    CHECK(u54.usable());
    CHECK_FALSE(e51.sstc);
    CHECK_FALSE(u54.sstc);
    CHECK(r.p.mem_base == 0x8000'0000);
    CHECK(r.p.mem_size == 128 * kMiB);
    CHECK(r.p.timebase_hz == 1'000'000); // sifive_u's CLINT runs at 1 MHz
    // Its UARTs are sifive,uart0 and it has no sifive,test0 (reset goes through gpio-restart).
    CHECK(r.p.defaulted == (dtb::kNoUart | dtb::kNoTestDevice | dtb::kNoBootargs));
}

TEST_CASE("an unaligned copy parses the same", "[dtb][fixture]") {
    const Bytes blob = load_fixture("virt-bootargs.dtb");
    for (std::size_t shift = 1; shift < 8; ++shift) {
        INFO("shift " << shift);
        const auto r = parse_bytes(blob, shift);
        REQUIRE(r.status == dtb::Status::Ok);
        check_virt(r.p, 2);
        CHECK(std::string(r.p.bootargs) == "console=uart quiet");
    }
}

TEST_CASE("a failed parse leaves safe defaults", "[dtb]") {
    Bytes blob = load_fixture("virt-smp4.dtb");
    dtb::Platform p{};
    p.hart_count = 7;
    p.bootargs = nullptr;
    blob[0] ^= 1;
    const dtbtest::Exact e(blob);
    CHECK(dtb::parse(e.data(), e.size(), p) == dtb::Status::BadMagic);
    CHECK(dtbtest::is_default(p));
    CHECK(dtb::parse(nullptr, 100, p) == dtb::Status::NullBlob);
    CHECK(dtbtest::is_default(p));
}

TEST_CASE("blob_size reads totalsize", "[dtb]") {
    const Bytes blob = load_fixture("virt-smp2.dtb");
    CHECK(dtb::blob_size(blob.data()) == blob.size());
    CHECK(dtb::blob_size(nullptr) == 0);
    Bytes bad = blob;
    bad[3] = 0;
    CHECK(dtb::blob_size(bad.data()) == 0);
    bad = blob;
    dtbtest::put_be32(bad, dtbtest::kTotalSize, 39);
    CHECK(dtb::blob_size(bad.data()) == 0);
    // Only the first 8 bytes are read.
    const dtbtest::Exact head(blob.data(), 8);
    CHECK(dtb::blob_size(head.data()) == blob.size());
}

TEST_CASE("status_name names every status", "[dtb]") {
    CHECK(std::string(dtb::status_name(dtb::Status::Ok)) == "Ok");
    CHECK(std::string(dtb::status_name(dtb::Status::NullBlob)) == "NullBlob");
    CHECK(std::string(dtb::status_name(dtb::Status::BadMagic)) == "BadMagic");
    CHECK(std::string(dtb::status_name(dtb::Status::Truncated)) == "Truncated");
    CHECK(std::string(dtb::status_name(dtb::Status::BadVersion)) == "BadVersion");
    CHECK(std::string(dtb::status_name(dtb::Status::BadStructure)) == "BadStructure");
    CHECK(std::string(dtb::status_name(static_cast<dtb::Status>(99))) == "Unknown");
}

TEST_CASE("bootarg_value finds key=value tokens", "[dtb][bootargs]") {
    const char* v = nullptr;
    std::size_t len = 99;
    auto value = [&](const char* args, const char* key) -> std::string {
        if (!dtb::bootarg_value(args, key, v, len)) return "<absent>";
        return std::string(v, len);
    };
    CHECK(value("console=uart quiet", "console") == "uart");
    CHECK(value("console=uart quiet", "quiet") == "");
    CHECK(value("  smp=4\tlog=debug\n", "log") == "debug");
    CHECK(value("a=1 ab=2 abc=3", "ab") == "2");
    CHECK(value("abc=3", "ab") == "<absent>");
    CHECK(value("xab=3", "ab") == "<absent>");
    CHECK(value("ab", "abc") == "<absent>");
    CHECK(value("k=1 k=2", "k") == "2"); // last one wins
    CHECK(value("k= other", "k") == "");
    CHECK(value("k=a=b", "k") == "a=b");
    CHECK(value("", "k") == "<absent>");
    CHECK(value("   ", "k") == "<absent>");
    CHECK(value("k=1", "") == "<absent>");

    v = nullptr;
    len = 42;
    CHECK_FALSE(dtb::bootarg_value(nullptr, "k", v, len));
    CHECK_FALSE(dtb::bootarg_value("k=1", nullptr, v, len));
    CHECK(v == nullptr); // untouched on failure
    CHECK(len == 42);

    const char* args = "test=selftest smp=2";
    REQUIRE(dtb::bootarg_value(args, "smp", v, len));
    CHECK(v == args + 18); // points into the caller's string
    CHECK(len == 1);
}
