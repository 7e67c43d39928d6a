// Host tests of the intrusive list: order, O(1) unlink anywhere, ownership checks.
#include "base/intrusive_list.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

namespace {

struct Node {
    k::ListLink link;
    int id = 0;
};
using List = k::IntrusiveList<Node, &Node::link>;

std::vector<int> ids(const List& l) {
    std::vector<int> out;
    l.for_each([&](const Node& n) { out.push_back(n.id); });
    return out;
}

} // namespace

TEST_CASE("intrusive list: push, pop, remove, insert_after", "[base][list]") {
    Node n[6];
    for (int i = 0; i < 6; ++i)
        n[i].id = i;
    List l;
    CHECK(l.empty());
    CHECK(l.front() == nullptr);
    CHECK(l.pop_front() == nullptr);
    CHECK(l.pop_back() == nullptr);

    l.push_back(n[1]);
    l.push_back(n[2]);
    l.push_front(n[0]);
    l.push_back(n[3]);
    CHECK(ids(l) == std::vector<int>{0, 1, 2, 3});
    CHECK(l.size() == 4);
    CHECK(l.front() == &n[0]);
    CHECK(l.back() == &n[3]);
    CHECK(List::next(n[1]) == &n[2]);
    CHECK(List::prev(n[1]) == &n[0]);
    CHECK(n[1].link.linked());
    CHECK_FALSE(n[4].link.linked());

    CHECK(l.remove(n[2])); // middle
    CHECK(ids(l) == std::vector<int>{0, 1, 3});
    CHECK_FALSE(n[2].link.linked());
    CHECK_FALSE(l.remove(n[2])); // not on the list any more
    CHECK(l.remove(n[0]));       // head
    CHECK(l.remove(n[3]));       // tail
    CHECK(ids(l) == std::vector<int>{1});
    CHECK(l.front() == l.back());

    l.insert_after(&n[1], n[4]);
    l.insert_after(nullptr, n[5]);
    l.insert_after(&n[1], n[2]);
    CHECK(ids(l) == std::vector<int>{5, 1, 2, 4});
    CHECK(l.pop_front() == &n[5]);
    CHECK(l.pop_back() == &n[4]);
    CHECK(ids(l) == std::vector<int>{1, 2});
    CHECK(l.size() == 2);
}

TEST_CASE("intrusive list: remove from another list is refused", "[base][list]") {
    Node a, b;
    List l1, l2;
    l1.push_back(a);
    l2.push_back(b);
    CHECK(l1.contains(a));
    CHECK_FALSE(l2.contains(a));
    CHECK_FALSE(l2.remove(a));
    CHECK(l1.size() == 1);
    CHECK(l2.size() == 1);
    CHECK(l1.remove(a));
    CHECK(l2.remove(b));
    CHECK(l1.empty());
    CHECK(l2.empty());
}
