// The syscall ABI header compiles on the host and keeps its promises: dense numbers, one
// distinct negative code per error, a name for each.
#include "user/include/kestrel/syscall.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

TEST_CASE("syscall numbers are dense and errors distinct and negative", "[abi]") {
    static_assert(static_cast<std::uint64_t>(kestrel::Sys::HartOnline) + 1 == kestrel::kSysCount);
    std::set<std::string> names;
    for (std::int64_t e = -1; e >= kestrel::kErrorMin; --e) {
        const std::string n = kestrel::error_name(e);
        REQUIRE(n != "unknown");
        REQUIRE(names.insert(n).second);
    }
    REQUIRE(std::string(kestrel::error_name(kestrel::kErrorMin - 1)) == "unknown");
    REQUIRE(std::string(kestrel::error_name(0)) == "unknown"); // 0 is success, not an error
    REQUIRE(kestrel::kUserLimit == (std::uint64_t{1} << 38));
    REQUIRE(kestrel::kUserBase % kestrel::kPageSize == 0);
}

TEST_CASE("the IPC tag helpers use the tag word's layout", "[abi]") {
    const std::uint64_t t = kestrel::make_tag(0xabcde, 5, 1);
    REQUIRE(kestrel::tag_label(t) == 0xabcde);
    REQUIRE(kestrel::tag_length(t) == 5);
    REQUIRE(kestrel::tag_caps(t) == 1);
    REQUIRE(((t >> 9) & 7) == 0); // the reserved bits stay clear
    REQUIRE(kestrel::kRightsAll ==
            (kestrel::RightSend | kestrel::RightReceive | kestrel::RightGrant));
}
