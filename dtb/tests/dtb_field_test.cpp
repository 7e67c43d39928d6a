// Device trees from the field (issue 7): a real QEMU dump with one edit each (fixtures/regen.sh).
#include "dtb/dtb.hpp"
#include "dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <string>

using dtb::Effect;
using dtb::Problem;
using dtb::Status;
using dtbtest::Bytes;
using dtbtest::load_fixture;
using dtbtest::parse_bytes;

namespace {

// What a virt -smp 2 tree gives apart from the edited fact.
void check_rest_of_virt(const dtb::Platform& p) {
    CHECK(p.mem_base == 0x8000'0000);
    CHECK(p.mem_size == 256u << 20);
    CHECK(p.uart_base == 0x1000'0000);
    CHECK(p.test_base == 0x10'0000);
}

} // namespace

TEST_CASE("field: timebase written as two u32 cells is refused, 10 MHz default", "[dtb][field]") {
    const auto r = parse_bytes(load_fixture("virt-timebase-2cell.dtb"));
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.timebase_hz == dtb::kDefaultTimebaseHz);
    CHECK((r.p.defaulted & dtb::kNoTimebase) != 0);
    REQUIRE(r.p.refusal_count == 1);
    const dtb::Refusal& f = r.p.refusals[0];
    CHECK(std::string(f.node) == "cpus");
    CHECK(std::string(f.prop) == "timebase-frequency");
    CHECK(f.problem == Problem::OutOfRange);
    CHECK(f.effect == Effect::DefaultUsed);
    CHECK(f.value == (std::uint64_t{10'000'000} << 32 | 10'000'000)); // what was not used
    // Nothing else is lost: both harts, memory, devices.
    REQUIRE(r.p.hart_count == 2);
    CHECK(r.p.harts[1].hart_id == 1);
    check_rest_of_virt(r.p);
}

TEST_CASE("field: a memory node without reg before the real one is skipped", "[dtb][field]") {
    const auto r = parse_bytes(load_fixture("virt-memory-noreg.dtb"));
    REQUIRE(r.status == Status::Ok); // it used to be BadStructure: the whole tree thrown away
    REQUIRE(r.p.refusal_count == 1);
    const dtb::Refusal& f = r.p.refusals[0];
    CHECK(std::string(f.node) == "memory@0");
    CHECK(std::string(f.prop) == "reg");
    CHECK(f.problem == Problem::Missing);
    CHECK(f.effect == Effect::NodeSkipped);
    CHECK((r.p.defaulted & (dtb::kNoMemory | dtb::kNoCpus)) == 0);
    REQUIRE(r.p.hart_count == 2); // so the second hart is still started
    CHECK(r.p.harts[0].hart_id == 0);
    CHECK(r.p.harts[1].hart_id == 1);
    CHECK(r.p.timebase_hz == 10'000'000);
    check_rest_of_virt(r.p);
}

TEST_CASE("field: a duplicated hart id is refused, the first node keeps it", "[dtb][field]") {
    const auto r = parse_bytes(load_fixture("virt-dup-hartid.dtb"));
    REQUIRE(r.status == Status::Ok);
    REQUIRE(r.p.hart_count == 1);
    CHECK(r.p.harts[0].hart_id == 0);
    CHECK(r.p.harts[0].usable());
    REQUIRE(r.p.refusal_count == 1);
    const dtb::Refusal& f = r.p.refusals[0];
    CHECK(std::string(f.node) == "cpu@1");
    CHECK(std::string(f.prop) == "reg");
    CHECK(f.problem == Problem::Duplicate);
    CHECK(f.effect == Effect::NodeSkipped);
    CHECK(f.value == 0);
    check_rest_of_virt(r.p);
}

TEST_CASE("field: a DTB above 1 MiB is read whole through parse_blob", "[dtb][field]") {
    const Bytes big = load_fixture("virt-big.dtb");
    REQUIRE(big.size() > (1u << 20));
    REQUIRE(dtb::blob_size(big.data()) == big.size());
    // The old kernel cut the blob at 1 MiB: the header check then fails.
    {
        dtb::Platform p{};
        CHECK(dtb::parse(big.data(), 1u << 20, p) == Status::Truncated);
    }
    const dtbtest::Exact e(big);
    dtb::Platform p{};
    REQUIRE(dtb::parse_blob(e.data(), p) == Status::Ok);
    CHECK(p.hart_count == 2);
    CHECK(p.refusal_count == 0);
    CHECK(p.defaulted == dtb::kNoBootargs);
    check_rest_of_virt(p);
}

TEST_CASE("parse_blob bounds totalsize instead of trusting it", "[dtb][field]") {
    Bytes b = load_fixture("virt-smp2.dtb");
    dtb::Platform p{};
    {
        const dtbtest::Exact e(b);
        CHECK(dtb::parse_blob(e.data(), p) == Status::Ok);
    }
    // Only the header is read before the size is judged: a 40-byte copy is enough.
    dtbtest::put_be32(b, dtbtest::kTotalSize, static_cast<std::uint32_t>(dtb::kMaxBlobSize + 1));
    const dtbtest::Exact header(b.data(), 40);
    CHECK(dtb::parse_blob(header.data(), p) == Status::TooLarge);
    CHECK(dtbtest::is_default(p));
    CHECK(std::string(dtb::status_name(Status::TooLarge)) == "TooLarge");
    CHECK(dtb::parse_blob(nullptr, p) == Status::NullBlob);
    // A bad magic is still named as such.
    dtbtest::put_be32(b, dtbtest::kMagicOff, 0x1234'5678);
    const dtbtest::Exact bad(b.data(), 40);
    CHECK(dtb::parse_blob(bad.data(), p) == Status::BadMagic);
}
