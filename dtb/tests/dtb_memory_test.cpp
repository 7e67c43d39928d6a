// Every memory range, every /reserved-memory region and every /memreserve/ entry, each value
// checked, bad ones refused (dtc-built fixtures/synthetic/memory-*.dts, memreserve-shapes.dts).
#include "dtb/dtb.hpp"
#include "dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using dtbtest::parse_bytes;

namespace {

bool refused(const dtb::Platform& p, const char* node, dtb::Problem pr, dtb::Effect e) {
    for (std::uint32_t i = 0; i < p.refusal_count; ++i) {
        const dtb::Refusal& r = p.refusals[i];
        if (std::strcmp(r.node, node) == 0 && r.problem == pr && r.effect == e) return true;
    }
    return false;
}

} // namespace

TEST_CASE("memory: every reg entry of every node, size-0 entries refused", "[dtb][memory]") {
    const auto r = parse_bytes(dtbtest::load_fixture("memory-ranges.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    REQUIRE(r.p.memory_count == 3);
    CHECK(r.p.memory[0].base == 0x8000'0000);
    CHECK(r.p.memory[0].size == 0x100'0000);
    CHECK(r.p.memory[1].base == 0x1'0000'0000);
    CHECK(r.p.memory[1].size == 0x1000);
    CHECK(r.p.memory[2].base == 0xc000'0000);
    CHECK(r.p.mem_base == 0x8000'0000);
    CHECK(r.p.mem_size == 0x100'0000);
    CHECK(refused(r.p, "memory@80000000", dtb::Problem::OutOfRange, dtb::Effect::Ignored));
    CHECK(refused(r.p, "memory@b0000000", dtb::Problem::WrongLength, dtb::Effect::NodeSkipped));
    CHECK((r.p.defaulted & dtb::kNoMemory) == 0);
}

TEST_CASE("reserved-memory: children's reg with the node's cells; bad ones refused",
          "[dtb][memory]") {
    const auto r = parse_bytes(dtbtest::load_fixture("memory-reserved.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    REQUIRE(r.p.reserved_count == 4);
    CHECK(r.p.reserved[0].base == 0x8000'0000);
    CHECK(r.p.reserved[0].size == 0x4'0000);
    CHECK(r.p.reserved[1].base == 0x8800'0000);
    CHECK(r.p.reserved[2].base == 0x8900'0000);
    CHECK(r.p.reserved[2].size == 0x2000);
    CHECK(r.p.reserved[3].base == 0xffff'ff00);
    CHECK(refused(r.p, "dynamic", dtb::Problem::Missing, dtb::Effect::NodeSkipped));
    CHECK(refused(r.p, "empty@8b000000", dtb::Problem::OutOfRange, dtb::Effect::NodeSkipped));
    CHECK(r.p.reserved_dropped == 0);
}

TEST_CASE("reserved-memory: more regions than the table holds are counted", "[dtb][memory]") {
    static_assert(dtb::kMaxReserved == 16, "memory-reserved-overflow.dts holds 16 + 3 regions");
    const auto r = parse_bytes(dtbtest::load_fixture("memory-reserved-overflow.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    CHECK(r.p.reserved_count == dtb::kMaxReserved);
    CHECK(r.p.reserved_dropped == 3);
}

TEST_CASE("virt fixtures name no /reserved-memory and one memory range", "[dtb][memory]") {
    const auto r = parse_bytes(dtbtest::load_fixture("virt-smp2.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    CHECK(r.p.reserved_count == 0);
    REQUIRE(r.p.memory_count == 1);
    CHECK(r.p.memory[0].base == 0x8000'0000);
    CHECK(r.p.memory[0].size == 0x1000'0000);
}

TEST_CASE("memreserve: every entry of the header's block; size 0 and wrap-around refused",
          "[dtb][memory]") {
    static_assert(dtb::kMaxReserved == 16, "memreserve-shapes.dts holds 17 usable entries");
    const auto r = parse_bytes(dtbtest::load_fixture("memreserve-shapes.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    REQUIRE(r.p.memreserve_count == dtb::kMaxReserved);
    CHECK(r.p.memreserve[0].base == 0); // an entry at address 0 is not the terminator
    CHECK(r.p.memreserve[0].size == 0x1000);
    for (std::uint32_t i = 1; i < dtb::kMaxReserved; ++i) {
        CHECK(r.p.memreserve[i].base == 0x8800'0000 + i * 0x1'0000);
        CHECK(r.p.memreserve[i].size == 0x1000);
    }
    CHECK(r.p.memreserve_dropped == 1);
    std::uint32_t refusals = 0;
    for (std::uint32_t i = 0; i < r.p.refusal_count; ++i)
        if (std::strcmp(r.p.refusals[i].node, "/memreserve/") == 0) ++refusals;
    CHECK(refusals == 2);
    CHECK(refused(r.p, "/memreserve/", dtb::Problem::OutOfRange, dtb::Effect::Ignored));
    CHECK(r.p.reserved_count == 0);
}

TEST_CASE("memreserve: a real virt tree with one entry, and without", "[dtb][memory]") {
    const auto r = parse_bytes(dtbtest::load_fixture("virt-smp2-memreserve.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    REQUIRE(r.p.memreserve_count == 1);
    CHECK(r.p.memreserve[0].base == 0x8400'0000);
    CHECK(r.p.memreserve[0].size == 0x100'0000);
    CHECK(r.p.refusal_count == 0);
    const auto plain = parse_bytes(dtbtest::load_fixture("virt-smp2.dtb"));
    REQUIRE(plain.status == dtb::Status::Ok);
    CHECK(plain.p.memreserve_count == 0);
    CHECK(plain.p.memreserve_dropped == 0);
}

TEST_CASE("memreserve: a block that runs to totalsize without its terminator is refused whole",
          "[dtb][memory]") {
    // virt-smp2 with 16 bytes appended after its strings, the header's block moved there: the
    // tree itself is untouched, only the block's end is missing (or, as the control, present).
    const dtbtest::Bytes base = dtbtest::load_fixture("virt-smp2.dtb");
    auto moved = [&](std::uint8_t fill) {
        dtbtest::Bytes b = base;
        while (b.size() % 8 != 0)
            b.push_back(0);
        const std::size_t at = b.size();
        b.insert(b.end(), 16, fill);
        dtbtest::put_be32(b, 4, static_cast<std::uint32_t>(b.size())); // totalsize
        dtbtest::put_be32(b, 16, static_cast<std::uint32_t>(at));      // off_mem_rsvmap
        return parse_bytes(b);
    };
    const auto ok = moved(0x00);
    CHECK(ok.status == dtb::Status::Ok);
    CHECK(ok.p.memreserve_count == 0);
    const auto bad = moved(0x11);
    CHECK(bad.status == dtb::Status::BadStructure);
    CHECK(bad.p.memreserve_count == 0); // defaults, as for every broken blob
}
