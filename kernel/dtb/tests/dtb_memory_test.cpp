// Every memory range and every /reserved-memory region, each value checked, bad ones refused.
#include "kernel/dtb/dtb.hpp"
#include "kernel/dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using dtbtest::FdtBuilder;
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
    FdtBuilder b;
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    b.begin("memory@80000000")
        .str("device_type", "memory")
        .cells("reg", {0, 0x8000'0000, 0, 0x100'0000, 0, 0x9000'0000, 0, 0, 1, 0, 0, 0x1000})
        .end();
    b.begin("memory@a0000000")
        .str("device_type", "memory")
        .str("status", "disabled")
        .cells("reg", {0, 0xa000'0000, 0, 0x1000})
        .end();
    b.begin("memory@b0000000")
        .str("device_type", "memory")
        .cells("reg", {0, 0xb000'0000, 0})
        .end(); // 12 bytes: not whole entries
    b.begin("memory@c0000000")
        .str("device_type", "memory")
        .cells("reg", {0, 0xc000'0000, 0, 0x2000})
        .end();
    const auto r = parse_bytes(b.end().finish());
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
    FdtBuilder b;
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    b.begin("memory@80000000")
        .str("device_type", "memory")
        .cells("reg", {0, 0x8000'0000, 0, 0x1000'0000})
        .end();
    b.begin("reserved-memory")
        .cells("#address-cells", {1})
        .cells("#size-cells", {1})
        .prop("ranges", {});
    b.begin("mmode_resv0@80000000").cells("reg", {0x8000'0000, 0x4'0000}).end();
    b.begin("two@88000000").cells("reg", {0x8800'0000, 0x1000, 0x8900'0000, 0x2000}).end();
    b.begin("dynamic").cells("size", {0x10'0000}).end(); // no reg
    b.begin("off@8a000000").str("status", "disabled").cells("reg", {0x8a00'0000, 0x1000}).end();
    b.begin("empty@8b000000").cells("reg", {0x8b00'0000, 0}).end();     // size 0
    b.begin("wrap@ffffff00").cells("reg", {0xffff'ff00, 0x1000}).end(); // fits 64 bits: kept
    b.end();
    b.begin("soc").begin("reserved-memory").cells("reg", {0, 0x1000}).end().end(); // not /
    const auto r = parse_bytes(b.end().finish());
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
    FdtBuilder b;
    b.begin("").cells("#address-cells", {1}).cells("#size-cells", {1});
    b.begin("reserved-memory").cells("#address-cells", {1}).cells("#size-cells", {1});
    for (std::uint32_t i = 0; i < dtb::kMaxReserved + 3; ++i)
        b.begin("r").cells("reg", {0x8000'0000 + i * 0x1000, 0x1000}).end();
    b.end();
    const auto r = parse_bytes(b.end().finish());
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
