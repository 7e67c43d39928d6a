// A Platform capability's scope (irq/platform_scope.hpp): badge 0 names everything, badge b
// exactly device node b - 1 and its interrupt.
#include "irq/platform_scope.hpp"

#include <catch2/catch.hpp>

using k::irq::kNoNode;
using k::irq::scope_has_node;
using k::irq::scope_has_source;
using k::irq::scope_node;

TEST_CASE("platform scope: badge 0 names every node and every source", "[irq][scope]") {
    CHECK(scope_node(0, 8) == kNoNode);
    for (std::uint32_t i = 0; i < 8; ++i)
        CHECK(scope_has_node(0, i, 8));
    CHECK_FALSE(scope_has_node(0, 8, 8)); // past the list: no node at all
    CHECK(scope_has_source(0, 1, 0));
    CHECK(scope_has_source(0, 127, 0));
}

TEST_CASE("platform scope: badge b names node b - 1 only", "[irq][scope]") {
    CHECK(scope_node(1, 8) == 0);
    CHECK(scope_node(8, 8) == 7);
    for (std::uint32_t i = 0; i < 8; ++i) {
        CHECK(scope_has_node(3, i, 8) == (i == 2));
        CHECK(scope_has_node(8, i, 8) == (i == 7));
    }
}

TEST_CASE("platform scope: a badge past the list names nothing", "[irq][scope]") {
    CHECK(scope_node(9, 8) == kNoNode);
    CHECK(scope_node(~std::uint64_t{0}, 8) == kNoNode);
    CHECK(scope_node(std::uint64_t{1} << 32, 8) == kNoNode); // no truncation to a small index
    CHECK(scope_node((std::uint64_t{1} << 32) + 1, 8) == kNoNode);
    for (std::uint32_t i = 0; i < 8; ++i) {
        CHECK_FALSE(scope_has_node(9, i, 8));
        CHECK_FALSE(scope_has_node((std::uint64_t{1} << 32) + 1, i, 8));
    }
    CHECK(scope_node(1, 0) == kNoNode); // no devices
}

TEST_CASE("platform scope: a restricted badge names its node's interrupt only", "[irq][scope]") {
    CHECK(scope_has_source(5, 11, 11));
    CHECK_FALSE(scope_has_source(5, 10, 11)); // another source (the UART's)
    CHECK_FALSE(scope_has_source(5, 0, 0));   // a node with no interrupt names no source
    CHECK_FALSE(scope_has_source(5, 11, 0));
    CHECK_FALSE(scope_has_source(5, 11 + (std::uint64_t{1} << 32), 11));
}

static_assert(scope_node(2, 4) == 1 && scope_has_node(2, 1, 4) && !scope_has_node(2, 0, 4));
