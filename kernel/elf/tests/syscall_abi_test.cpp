// The syscall ABI header compiles on the host and keeps its promises: dense numbers, one
// distinct negative code per error, a name for each.
#include "user/include/kestrel/syscall.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

TEST_CASE("syscall numbers are dense and errors distinct and negative", "[abi]") {
    static_assert(static_cast<std::uint64_t>(kestrel::Sys::Joiners) + 1 == kestrel::kSysCount);
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
