// dtb reader tests on hand-built blobs with one bad value each: refused, the rest is used.
#include "kernel/dtb/dtb.hpp"
#include "kernel/dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <string>

using dtb::Status;
using dtbtest::FdtBuilder;
using dtbtest::parse_bytes;

namespace {

// Each tree has one bad value; the reader refuses it with one Refusal and keeps the rest.
struct BadValue {
    const char* what;
    void (*build)(FdtBuilder&);
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
        {"#address-cells not 1 cell",
         [](FdtBuilder& b) {
             b.begin("").cells("#address-cells", {0, 2}).end();
         },
         "", "#address-cells", Problem::WrongLength, Effect::Ignored},
        {"#size-cells 7", [](FdtBuilder& b) { b.begin("").cells("#size-cells", {7}).end(); }, "",
         "#size-cells", Problem::OutOfRange, Effect::Ignored},
        {"compatible not NUL-terminated",
         [](FdtBuilder& b) {
             b.begin("").begin("a").prop("compatible", {'n', 's'}).end().end();
         },
         "a", "compatible", Problem::NotString, Effect::NodeSkipped},
        {"empty compatible",
         [](FdtBuilder& b) { b.begin("").begin("a").prop("compatible", {}).end().end(); }, "a",
         "compatible", Problem::NotString, Effect::NodeSkipped},
        {"device_type not a string",
         [](FdtBuilder& b) { b.begin("").begin("a").prop("device_type", {'x'}).end().end(); }, "a",
         "device_type", Problem::NotString, Effect::NodeSkipped},
        {"bootargs not a string",
         [](FdtBuilder& b) { b.begin("").begin("chosen").prop("bootargs", {'x'}).end().end(); },
         "chosen", "bootargs", Problem::NotString, Effect::DefaultUsed},
        {"bootargs with a NUL inside",
         [](FdtBuilder& b) {
             b.begin("").begin("chosen").prop("bootargs", {'a', 0, 'b', 0}).end().end();
         },
         "chosen", "bootargs", Problem::NotString, Effect::DefaultUsed},
        {"stdout-path not a string",
         [](FdtBuilder& b) { b.begin("").begin("chosen").prop("stdout-path", {'/'}).end().end(); },
         "chosen", "stdout-path", Problem::NotString, Effect::Ignored},
        {"memory without reg",
         [](FdtBuilder& b) { b.begin("").begin("m").str("device_type", "memory").end().end(); },
         "m", "reg", Problem::Missing, Effect::NodeSkipped},
        {"memory reg short",
         [](FdtBuilder& b) {
             b.begin("").begin("m").str("device_type", "memory").cells("reg", {0, 1}).end().end();
         },
         "m", "reg", Problem::WrongLength, Effect::NodeSkipped},
        {"memory wraps",
         [](FdtBuilder& b) {
             b.begin("")
                 .begin("m")
                 .str("device_type", "memory")
                 .cells("reg", {0xffff'ffff, 0xffff'f000, 0x10000})
                 .end()
                 .end();
         },
         "m", "reg", Problem::OutOfRange, Effect::NodeSkipped},
        {"memory of size 0",
         [](FdtBuilder& b) {
             b.begin("")
                 .begin("m")
                 .str("device_type", "memory")
                 .cells("reg", {0, 0, 0})
                 .end()
                 .end();
         },
         "m", "reg", Problem::OutOfRange, Effect::NodeSkipped},
        {"uart reg with 3 address cells",
         [](FdtBuilder& b) {
             b.begin("")
                 .cells("#address-cells", {3})
                 .begin("u")
                 .str("compatible", "ns16550a")
                 .cells("reg", {0, 0, 1, 1})
                 .end()
                 .end();
         },
         "u", "reg", Problem::BadCells, Effect::NodeSkipped},
        {"uart reg-shift 9",
         [](FdtBuilder& b) {
             b.begin("")
                 .begin("u")
                 .str("compatible", "ns16550a")
                 .cells("reg", {0, 1, 1})
                 .cells("reg-shift", {9})
                 .end()
                 .end();
         },
         "u", "reg-shift", Problem::OutOfRange, Effect::NodeSkipped},
        {"uart reg-shift as two cells",
         [](FdtBuilder& b) {
             b.begin("")
                 .begin("u")
                 .str("compatible", "ns16550a")
                 .cells("reg", {0, 1, 1})
                 .cells("reg-shift", {0, 2})
                 .end()
                 .end();
         },
         "u", "reg-shift", Problem::WrongLength, Effect::NodeSkipped},
        {"test device without reg",
         [](FdtBuilder& b) {
             b.begin("").begin("t").str("compatible", "sifive,test0").end().end();
         },
         "t", "reg", Problem::Missing, Effect::NodeSkipped},
        {"cpu without reg",
         [](FdtBuilder& b) {
             b.begin("").begin("cpus").begin("cpu@0").str("device_type", "cpu").end().end().end();
         },
         "cpu@0", "reg", Problem::Missing, Effect::NodeSkipped},
        {"cpu status not a string",
         [](FdtBuilder& b) {
             b.begin("")
                 .begin("cpus")
                 .cells("#size-cells", {0})
                 .begin("cpu@0")
                 .str("device_type", "cpu")
                 .cells("reg", {0, 0})
                 .prop("status", {'o', 'k'})
                 .end()
                 .end()
                 .end();
         },
         "cpu@0", "status", Problem::NotString, Effect::NodeSkipped},
        {"timebase 3 bytes",
         [](FdtBuilder& b) {
             b.begin("").begin("cpus").prop("timebase-frequency", {1, 2, 3}).end().end();
         },
         "cpus", "timebase-frequency", Problem::WrongLength, Effect::DefaultUsed},
        {"timebase 999 Hz",
         [](FdtBuilder& b) {
             b.begin("").begin("cpus").cells("timebase-frequency", {999}).end().end();
         },
         "cpus", "timebase-frequency", Problem::OutOfRange, Effect::DefaultUsed},
        {"timebase as two u32 cells <10000000 10000000>",
         [](FdtBuilder& b) {
             b.begin("")
                 .begin("cpus")
                 .cells("timebase-frequency", {10'000'000, 10'000'000})
                 .end()
                 .end();
         },
         "cpus", "timebase-frequency", Problem::OutOfRange, Effect::DefaultUsed},
    };
    for (const BadValue& c : cases) {
        INFO(c.what);
        FdtBuilder b;
        c.build(b);
        const auto r = parse_bytes(b.finish());
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
    FdtBuilder b;
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    b.begin("memory@0").str("device_type", "memory").end(); // no reg (a bootloader's blank)
    b.begin("memory@80000000").str("device_type", "memory");
    b.cells("reg", {0, 0x8000'0000, 0, 0x1000'0000}).end();
    b.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0});
    b.cells("timebase-frequency", {10'000'000, 10'000'000});
    b.begin("cpu@0").str("device_type", "cpu").cells("reg", {0}).end();
    b.begin("cpu@1").str("device_type", "cpu").cells("reg", {0}).end(); // duplicate id
    b.begin("cpu@2").str("device_type", "cpu").cells("reg", {2}).end();
    b.begin("cpu@3").str("device_type", "cpu");       // no reg
    b.cells("timebase-frequency", {5'000'000}).end(); // only on a refused node: not taken
    b.begin("cpu@4").str("device_type", "cpu").cells("reg", {4});
    b.cells("timebase-frequency", {4'000'000}).end(); // the first usable one
    const auto r = parse_bytes(b.end().end().finish());
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
    FdtBuilder b;
    b.begin("");
    for (int i = 0; i < 20; ++i)
        b.begin("m").str("device_type", "memory").end();
    const auto r = parse_bytes(b.end().finish());
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.refusal_count == dtb::kMaxRefusals);
    CHECK(r.p.refusals_dropped == 20 - dtb::kMaxRefusals);
}
