// dtb reader tests on trees with one bad value each (dtc-built fixtures/synthetic/bad-*.dts):
// refused, the rest is used.
#include "dtb/dtb.hpp"
#include "dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <string>

using dtb::Status;
using dtbtest::load_fixture;
using dtbtest::parse_bytes;

namespace {

// Each tree has one bad value; the reader refuses it with one Refusal and keeps the rest.
struct BadValue {
    const char* fixture; // fixtures/synthetic/<fixture>.dts, built into <fixture>.dtb
    const char* node;
    const char* prop;
    dtb::Problem problem;
    dtb::Effect effect;
};

} // namespace

TEST_CASE("a bad value is refused, the rest of the tree is used", "[dtb][build]") {
    using dtb::Effect;
    using dtb::Problem;
    const BadValue cases[] = {
        {"bad-address-cells-2cells", "", "#address-cells", Problem::WrongLength, Effect::Ignored},
        {"bad-size-cells-7", "", "#size-cells", Problem::OutOfRange, Effect::Ignored},
        {"bad-compatible-unterminated", "a", "compatible", Problem::NotString, Effect::NodeSkipped},
        {"bad-compatible-empty", "a", "compatible", Problem::NotString, Effect::NodeSkipped},
        {"bad-device-type-not-string", "a", "device_type", Problem::NotString, Effect::NodeSkipped},
        {"bad-bootargs-not-string", "chosen", "bootargs", Problem::NotString, Effect::DefaultUsed},
        {"bad-bootargs-inner-nul", "chosen", "bootargs", Problem::NotString, Effect::DefaultUsed},
        {"bad-stdout-path-not-string", "chosen", "stdout-path", Problem::NotString,
         Effect::Ignored},
        {"bad-memory-noreg", "m", "reg", Problem::Missing, Effect::NodeSkipped},
        {"bad-memory-reg-short", "m", "reg", Problem::WrongLength, Effect::NodeSkipped},
        {"bad-memory-wraps", "m", "reg", Problem::OutOfRange, Effect::NodeSkipped},
        {"bad-memory-size0", "m", "reg", Problem::OutOfRange, Effect::NodeSkipped},
        {"bad-uart-address-cells-3", "u", "reg", Problem::BadCells, Effect::NodeSkipped},
        {"bad-uart-reg-shift-9", "u", "reg-shift", Problem::OutOfRange, Effect::NodeSkipped},
        {"bad-uart-reg-shift-2cells", "u", "reg-shift", Problem::WrongLength, Effect::NodeSkipped},
        {"bad-test-noreg", "t", "reg", Problem::Missing, Effect::NodeSkipped},
        {"bad-cpu-noreg", "cpu@0", "reg", Problem::Missing, Effect::NodeSkipped},
        {"bad-cpu-status-not-string", "cpu@0", "status", Problem::NotString, Effect::NodeSkipped},
        {"bad-timebase-3bytes", "cpus", "timebase-frequency", Problem::WrongLength,
         Effect::DefaultUsed},
        {"bad-timebase-999", "cpus", "timebase-frequency", Problem::OutOfRange,
         Effect::DefaultUsed},
        {"bad-timebase-2cells", "cpus", "timebase-frequency", Problem::OutOfRange,
         Effect::DefaultUsed},
    };
    for (const BadValue& c : cases) {
        INFO(c.fixture);
        const dtbtest::Bytes blob = load_fixture(std::string(c.fixture) + ".dtb");
        REQUIRE(!blob.empty());
        const auto r = parse_bytes(blob);
        REQUIRE(r.status == Status::Ok);
        REQUIRE(r.p.refusal_count == 1);
        const dtb::Refusal& f = r.p.refusals[0];
        CHECK(std::string(f.node) == c.node);
        CHECK(std::string(f.prop) == c.prop);
        CHECK(f.problem == c.problem);
        CHECK(f.effect == c.effect);
    }
}

TEST_CASE("a refused node does not hide a good one after it", "[dtb][build]") {
    const auto r = parse_bytes(load_fixture("refused-keeps-rest.dtb"));
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.mem_base == 0x8000'0000);
    CHECK(r.p.mem_size == 0x1000'0000);
    REQUIRE(r.p.hart_count == 3);
    CHECK(r.p.harts[0].hart_id == 0);
    CHECK(r.p.harts[1].hart_id == 2);
    CHECK(r.p.harts[2].hart_id == 4);
    CHECK(r.p.timebase_hz == 4'000'000);
    CHECK((r.p.defaulted & (dtb::kNoMemory | dtb::kNoCpus | dtb::kNoTimebase)) == 0);
    REQUIRE(r.p.refusal_count == 4);
    CHECK(std::string(r.p.refusals[0].node) == "memory@0");
    CHECK(r.p.refusals[0].problem == dtb::Problem::Missing);
    CHECK(std::string(r.p.refusals[1].prop) == "timebase-frequency");
    CHECK(std::string(r.p.refusals[2].node) == "cpu@1");
    CHECK(r.p.refusals[2].problem == dtb::Problem::Duplicate);
    CHECK(r.p.refusals[2].value == 0);
    CHECK(std::string(r.p.refusals[3].node) == "cpu@3");
}

TEST_CASE("refusals beyond the table are counted", "[dtb][build]") {
    // 20 memory nodes "m" without reg.
    const auto r = parse_bytes(load_fixture("refusals-overflow.dtb"));
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.refusal_count == dtb::kMaxRefusals);
    CHECK(r.p.refusals_dropped == 20 - dtb::kMaxRefusals);
}
