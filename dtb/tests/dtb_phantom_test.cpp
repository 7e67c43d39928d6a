// The phantom-hart fixture (fixtures/make_phantom.sh): a well-formed cpu node
// for a hart the machine lacks. The reader cannot tell; bring-up does.
#include "dtb/dtb.hpp"
#include "dtb/tests/fdt_builder.hpp"

#include <catch2/catch.hpp>

TEST_CASE("phantom hart fixture: listed and usable like the real ones", "[dtb][fixture]") {
    const auto r = dtbtest::parse_bytes(dtbtest::load_fixture("virt-smp2-phantom5.dtb"));
    REQUIRE(r.status == dtb::Status::Ok);
    // fdtput added cpu@5 as the first child of /cpus: document order.
    REQUIRE(r.p.hart_count == 3);
    CHECK(r.p.harts_dropped == 0);
    const std::uint32_t ids[] = {5, 0, 1};
    for (std::uint32_t i = 0; i < 3; ++i) {
        INFO("hart " << i);
        CHECK(r.p.harts[i].hart_id == ids[i]);
        CHECK(r.p.harts[i].usable());
        CHECK(r.p.harts[i].sstc);
    }
    // The rest of the tree is QEMU's own.
    CHECK(r.p.mem_base == 0x8000'0000);
    CHECK(r.p.mem_size == 256u << 20);
    CHECK(r.p.test_base == 0x10'0000);
    CHECK(r.p.timebase_hz == 10'000'000);
}
