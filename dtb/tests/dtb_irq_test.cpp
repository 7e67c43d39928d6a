// The interrupt facts (dtb/irq_info.hpp) of real QEMU trees: the PLIC's S contexts per hart,
// the device nodes, and the APLIC of -M virt,aia=aplic recognised.
#include "dtb/irq_info.hpp"
#include "dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using dtbtest::Bytes;
using dtbtest::load_fixture;

TEST_CASE("irq: virt's PLIC, each hart's S context, the RTC and UART nodes", "[dtb][irq]") {
    for (const unsigned harts : {1u, 2u, 4u, 8u}) {
        INFO("harts " << harts);
        const Bytes b = load_fixture("virt-smp" + std::to_string(harts) + ".dtb");
        REQUIRE(!b.empty());
        dtb::IrqInfo info{};
        REQUIRE(dtb::parse_irq(b.data(), b.size(), info) == dtb::Status::Ok);
        CHECK(std::strcmp(info.refused, "") == 0);
        REQUIRE(info.controller == dtb::IrqController::Plic);
        CHECK(info.base == 0x0c00'0000);
        CHECK(info.size == 0x60'0000);
        CHECK(info.sources == 0x60);
        REQUIRE(info.context_count == harts);
        for (unsigned i = 0; i < harts; ++i) {
            // QEMU: context 2h is hart h's M mode, 2h + 1 its S mode.
            CHECK(info.contexts[i].context == 2 * info.contexts[i].hart_id + 1);
        }
        const dtb::DeviceNode* rtc = dtb::find_device(info, "google,goldfish-rtc");
        REQUIRE(rtc != nullptr);
        CHECK(rtc->base == 0x10'1000);
        CHECK(rtc->irq == 11);
        const dtb::DeviceNode* uart = dtb::find_device(info, "ns16550a");
        REQUIRE(uart != nullptr);
        CHECK(uart->base == 0x1000'0000);
        CHECK(uart->irq == 10);
        CHECK(dtb::find_device(info, "sifive,plic-1.0.0") == nullptr);
        CHECK(dtb::find_device(info, "no,such") == nullptr);
        const dtb::DeviceNode* test = dtb::find_device(info, "sifive,test0"); // its 2nd string
        REQUIRE(test != nullptr);
        CHECK(test->base == 0x10'0000);
        CHECK(std::strcmp(test->compatible, "sifive,test1") == 0);
        CHECK(dtb::compatible_with(*test, "syscon", 6));
        CHECK(!dtb::compatible_with(*test, "sifive,test", 11));
    }
}

TEST_CASE("irq: aia=aplic is recognised as an APLIC, no PLIC contexts", "[dtb][irq]") {
    const Bytes b = load_fixture("virt-smp2-aplic.dtb");
    REQUIRE(!b.empty());
    dtb::IrqInfo info{};
    REQUIRE(dtb::parse_irq(b.data(), b.size(), info) == dtb::Status::Ok);
    CHECK(info.controller == dtb::IrqController::Aplic);
    CHECK(info.context_count == 0);
    CHECK(dtb::find_device(info, "ns16550a") != nullptr);
}

TEST_CASE("irq: a broken blob gives nothing", "[dtb][irq]") {
    const unsigned char junk[64] = {1, 2, 3};
    dtb::IrqInfo info{};
    CHECK(dtb::parse_irq(junk, sizeof junk, info) != dtb::Status::Ok);
    CHECK(info.controller == dtb::IrqController::None);
    CHECK(info.device_count == 0);
    CHECK(dtb::parse_irq(nullptr, 0, info) != dtb::Status::Ok);
}
