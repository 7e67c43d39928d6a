// dtb reader tests on hand-built blobs: defaults, cell sizes, stdout-path, cpu flags, bad shapes.
#include "kernel/dtb/dtb.hpp"
#include "kernel/dtb/fdt.hpp"
#include "kernel/dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <string>

using dtb::Status;
using dtbtest::Bytes;
using dtbtest::FdtBuilder;
using dtbtest::parse_bytes;

namespace {

// A small valid tree: root 2/2, /cpus 1/0 with `harts` cpus, memory, /soc 1/1 with two UARTs.
FdtBuilder& soc(FdtBuilder& b, const char* stdout_path) {
    b.begin("chosen").str("stdout-path", stdout_path).str("bootargs", "a=b").end();
    b.begin("aliases").str("serial0", "/soc/serial@1000").str("serial1", "/soc/serial@2000").end();
    b.begin("soc").cells("#address-cells", {1}).cells("#size-cells", {1}).str("ranges", "");
    b.begin("serial@1000").cells("reg", {0x1000, 0x100}).str("compatible", "ns16550a").end();
    b.begin("serial@2000").cells("reg", {0x2000, 0x100}).cells("reg-shift", {2});
    b.strs("compatible", {"vendor,uart", "ns16550a"}).end();
    b.begin("test@3000").cells("reg", {0x3000, 0x10});
    b.strs("compatible", {"sifive,test1", "sifive,test0", "syscon"}).end();
    return b.end();
}

Bytes with_stdout(const char* stdout_path) {
    FdtBuilder b;
    b.begin("").cells("#address-cells", {2}).cells("#size-cells", {2});
    soc(b, stdout_path);
    return b.end().finish();
}

// One cpu node under /cpus (1/0 cells) with the given extra properties.
template <typename F>
Bytes one_cpu(F&& props) {
    FdtBuilder b;
    b.begin("").begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0});
    b.begin("cpu@5").str("device_type", "cpu").cells("reg", {5});
    props(b);
    return b.end().end().end().finish();
}

} // namespace

TEST_CASE("a minimal tree defaults every optional fact", "[dtb][build]") {
    const auto r = parse_bytes(FdtBuilder().begin("").end().finish());
    REQUIRE(r.status == Status::Ok);
    CHECK(dtbtest::is_default(r.p));
    CHECK(r.p.defaulted == (dtb::kNoMemory | dtb::kNoUart | dtb::kNoTestDevice | dtb::kNoTimebase |
                            dtb::kNoBootargs | dtb::kNoCpus));
}

TEST_CASE("cpus and memory only: the rest is defaulted", "[dtb][build]") {
    FdtBuilder b;
    b.begin("").nop(); // NOP tokens are skipped anywhere
    // No #address-cells/#size-cells at the root: 2 and 1 per the spec.
    b.begin("memory@40000000").str("device_type", "memory").cells("reg", {0, 0x4000'0000, 0x1000});
    b.end().begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0});
    b.cells("timebase-frequency", {1'000'000});
    b.begin("cpu@0").str("device_type", "cpu").cells("reg", {0}).str("mmu-type", "riscv,sv39");
    b.end().nop().end().end();
    const auto r = parse_bytes(b.finish());
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.defaulted == (dtb::kNoUart | dtb::kNoTestDevice | dtb::kNoBootargs));
    CHECK(r.p.mem_base == 0x4000'0000);
    CHECK(r.p.mem_size == 0x1000);
    CHECK(r.p.timebase_hz == 1'000'000);
    REQUIRE(r.p.hart_count == 1);
    CHECK(r.p.harts[0].usable()); // status absent: enabled
    CHECK_FALSE(r.p.harts[0].sstc);
}

TEST_CASE("stdout-path selects the uart, by path, alias or unit-less name", "[dtb][build]") {
    struct Case {
        const char* stdout_path;
        std::uint64_t base;
        std::uint32_t shift;
    };
    const Case cases[] = {
        {"/soc/serial@2000", 0x2000, 2},
        {"/soc/serial@2000:115200n8", 0x2000, 2},
        {"/soc/serial@1000", 0x1000, 0},
        {"serial1", 0x2000, 2},
        {"serial1:115200", 0x2000, 2},
        {"serial0", 0x1000, 0},
        {"/soc/serial", 0x1000, 0},    // first node matching without unit address
        {"/soc/test@3000", 0x1000, 0}, // not an ns16550a: the first one
        {"/nowhere", 0x1000, 0},
        {"serial7", 0x1000, 0}, // unknown alias
        {"", 0x1000, 0},
        {"/soc/serial@2000/", 0x2000, 2},
    };
    for (const Case& c : cases) {
        INFO("stdout-path " << c.stdout_path);
        const auto r = parse_bytes(with_stdout(c.stdout_path));
        REQUIRE(r.status == Status::Ok);
        CHECK(r.p.uart_base == c.base);
        CHECK(r.p.uart_reg_shift == c.shift);
        CHECK(r.p.test_base == 0x3000);
        CHECK(std::string(r.p.bootargs) == "a=b");
        CHECK(r.p.defaulted == (dtb::kNoMemory | dtb::kNoTimebase | dtb::kNoCpus));
    }
}

TEST_CASE("linux,stdout-path is the fallback", "[dtb][build]") {
    FdtBuilder b;
    b.begin("").begin("chosen").str("linux,stdout-path", "/u@2").end();
    b.begin("u@1").cells("reg", {0, 1, 0}).str("compatible", "ns16550a").end();
    b.begin("u@2").cells("reg", {0, 2, 0}).str("compatible", "ns16550a").end();
    const auto r = parse_bytes(b.end().finish());
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.uart_base == 2);
}

TEST_CASE("cpu flags: status, mmu-type, sstc tokens", "[dtb][build]") {
    auto hart = [](auto props) {
        const auto r = parse_bytes(one_cpu(props));
        REQUIRE(r.status == Status::Ok);
        REQUIRE(r.p.hart_count == 1);
        CHECK(r.p.harts[0].hart_id == 5);
        return r.p.harts[0];
    };
    CHECK(hart([](FdtBuilder& b) { b.str("status", "okay"); }).enabled);
    CHECK(hart([](FdtBuilder& b) { b.str("status", "ok"); }).enabled);
    CHECK_FALSE(hart([](FdtBuilder& b) { b.str("status", "disabled"); }).enabled);
    CHECK_FALSE(hart([](FdtBuilder& b) { b.str("status", "fail"); }).enabled);
    CHECK_FALSE(hart([](FdtBuilder& b) { b.str("status", "okay2"); }).enabled);
    CHECK(hart([](FdtBuilder& b) { b.str("mmu-type", "riscv,sv57"); }).s_mode);
    CHECK_FALSE(hart([](FdtBuilder& b) { b.str("mmu-type", "riscv,none"); }).s_mode);
    CHECK_FALSE(hart([](FdtBuilder&) {}).s_mode);
    const dtb::Hart off =
        hart([](FdtBuilder& b) { b.str("status", "disabled").str("mmu-type", "riscv,sv39"); });
    CHECK(off.s_mode);
    CHECK_FALSE(off.usable());

    auto sstc = [&](const char* isa) {
        return hart([isa](FdtBuilder& b) { b.str("riscv,isa", isa); }).sstc;
    };
    CHECK(sstc("rv64imafdch_zicsr_sstc"));
    CHECK(sstc("rv64imac_sstc_zicsr"));
    CHECK(sstc("rv64i_SSTC"));
    CHECK(sstc("rv64i_sstc1p0"));
    CHECK(sstc("rv64i_sstc1"));
    CHECK_FALSE(sstc("rv64imac_zicsr"));
    CHECK_FALSE(sstc("rv64imac_xsstc"));
    CHECK_FALSE(sstc("rv64imac_sstcx"));
    CHECK_FALSE(sstc("rv64imac_sst"));
    CHECK_FALSE(sstc("rv64imac_sstc1p"));
    CHECK_FALSE(sstc("sstc"));
    CHECK_FALSE(sstc("rv64imac_"));
    CHECK(hart([](FdtBuilder& b) { b.strs("riscv,isa-extensions", {"i", "m", "sstc"}); }).sstc);
    CHECK_FALSE(hart([](FdtBuilder& b) { b.strs("riscv,isa-extensions", {"i", "sstcx"}); }).sstc);
}

TEST_CASE("timebase-frequency on a cpu node, 64-bit values", "[dtb][build]") {
    auto timebase = [](auto props) {
        const auto r = parse_bytes(one_cpu(props));
        REQUIRE(r.status == Status::Ok);
        return r.p;
    };
    CHECK(timebase([](FdtBuilder& b) { b.cells("timebase-frequency", {4'000'000}); }).timebase_hz ==
          4'000'000);
    CHECK(timebase([](FdtBuilder& b) {
              b.cells("timebase-frequency", {1, 0});
          }).timebase_hz == std::uint64_t{1} << 32);
    const dtb::Platform zero = timebase([](FdtBuilder& b) { b.cells("timebase-frequency", {0}); });
    CHECK(zero.timebase_hz == 10'000'000); // zero counts as absent
    CHECK((zero.defaulted & dtb::kNoTimebase) != 0);
}

TEST_CASE("hart ids that do not fit 32 bits are dropped", "[dtb][build]") {
    FdtBuilder b;
    b.begin("").begin("cpus").cells("#address-cells", {2}).cells("#size-cells", {0});
    b.begin("cpu@100000000").str("device_type", "cpu").cells("reg", {1, 0}).end();
    b.begin("cpu@7").str("device_type", "cpu").cells("reg", {0, 7}).end();
    b.begin("cpu-map").begin("cluster0").end().end(); // no device_type: not a cpu
    const auto r = parse_bytes(b.end().end().finish());
    REQUIRE(r.status == Status::Ok);
    REQUIRE(r.p.hart_count == 1);
    CHECK(r.p.harts[0].hart_id == 7);
    CHECK(r.p.harts_dropped == 1);
}

TEST_CASE("memory: first node with a nonzero size, 1-cell sizes", "[dtb][build]") {
    FdtBuilder b;
    b.begin("").cells("#address-cells", {1}).cells("#size-cells", {1});
    b.begin("memory@0").str("device_type", "memory").cells("reg", {0, 0}).end();
    b.begin("memory@1000").str("device_type", "memory").cells("reg", {0x1000, 0x2000, 0, 1}).end();
    b.begin("memory@9000").str("device_type", "memory").cells("reg", {0x9000, 0x1000}).end();
    const auto r = parse_bytes(b.end().finish());
    REQUIRE(r.status == Status::Ok);
    CHECK(r.p.mem_base == 0x1000);
    CHECK(r.p.mem_size == 0x2000);
    CHECK((r.p.defaulted & dtb::kNoMemory) == 0);
}

TEST_CASE("nesting: 16 levels are fine, 17 are not", "[dtb][build]") {
    for (int levels : {16, 17}) {
        FdtBuilder b;
        b.begin("");
        for (int i = 1; i < levels; ++i)
            b.begin("n");
        for (int i = 0; i < levels; ++i)
            b.end();
        const auto r = parse_bytes(b.finish());
        CHECK(r.status == (levels <= 16 ? Status::Ok : Status::BadStructure));
    }
}

TEST_CASE("a malformed blob is BadStructure", "[dtb][build]") {
    using F = void (*)(FdtBuilder&);
    const std::pair<const char*, F> cases[] = {
        {"property after a subnode",
         [](FdtBuilder& b) { b.begin("").begin("a").end().str("x", "y").end(); }},
        {"property outside the root", [](FdtBuilder& b) { b.str("x", "y").begin("").end(); }},
        {"two roots", [](FdtBuilder& b) { b.begin("").end().begin("").end(); }},
        {"END inside a node", [](FdtBuilder& b) { b.begin("").begin("a").word(9); }},
        {"END_NODE without node", [](FdtBuilder& b) { b.begin("").end().end(); }},
        {"no root", [](FdtBuilder&) {}},
        {"unknown token", [](FdtBuilder& b) { b.begin("").word(5).end(); }},
        {"empty child name", [](FdtBuilder& b) { b.begin("").begin("").end().end(); }},
        {"name offset past strings",
         [](FdtBuilder& b) { b.begin("").word(3).word(0).word(999).end(); }},
        {"length past struct",
         [](FdtBuilder& b) { b.begin("").word(3).word(0xffff'fff0).word(0).end(); }},
    };
    for (const auto& [what, build] : cases) {
        INFO(what);
        FdtBuilder b;
        build(b);
        const auto r = parse_bytes(b.finish());
        CHECK(r.status == Status::BadStructure);
        CHECK(dtbtest::is_default(r.p));
    }
    // Without FDT_END the walk runs off the struct block.
    const auto r = parse_bytes(FdtBuilder().begin("").end().finish(false));
    CHECK(r.status == Status::BadStructure);
}

TEST_CASE("the walker rejects an overlong property at the property itself", "[dtb][build]") {
    // parse() would also fail at the next token; the walker must not even hand the value out.
    for (std::uint32_t len : {5u, 8u, 1000u, 0xffff'ffffu}) {
        INFO("len " << len);
        FdtBuilder b;
        b.begin("").str("x", "y").word(3).word(len).word(0).word(0x0101'0101); // 4 bytes of room
        const dtbtest::Exact e(b.finish(false));
        dtb::fdt::Blob blob;
        REQUIRE(dtb::fdt::check_header(e.data(), e.size(), blob) == Status::Ok);
        dtb::fdt::Walker w(blob);
        dtb::fdt::Event ev;
        REQUIRE(w.next(ev) == Status::Ok);
        CHECK(ev.kind == dtb::fdt::Token::BeginNode);
        REQUIRE(w.next(ev) == Status::Ok);
        CHECK(ev.kind == dtb::fdt::Token::Prop);
        CHECK(w.next(ev) == Status::BadStructure);
    }
}
