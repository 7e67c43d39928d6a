// Intrusive doubly linked list: nodes embed a ListLink, the list allocates nothing.
#pragma once

#include "base/panic.hpp"

#include <cstdint>

namespace k {

// Embedded in the element. prev/next point at the neighbouring elements
// themselves (not at their links), so no container_of arithmetic is needed.
// `owner` names the list the node is on: remove() on the wrong list is a
// refused no-op instead of a corruption. A node is on at most one list.
struct ListLink {
    void* prev = nullptr;
    void* next = nullptr;
    const void* owner = nullptr; // nullptr while unlinked

    constexpr ListLink() = default;
    ListLink(const ListLink&) = delete;
    ListLink& operator=(const ListLink&) = delete;

    [[nodiscard]] constexpr bool linked() const { return owner != nullptr; }
};

template <typename T, ListLink T::*Link>
// 32 bytes (aligned so): an array of lists (the run queue's classes) is
// indexed with a shift.
class alignas(32) IntrusiveList final {
  public:
    constexpr IntrusiveList() = default;
    IntrusiveList(const IntrusiveList&) = delete;
    IntrusiveList& operator=(const IntrusiveList&) = delete;

    [[nodiscard]] bool empty() const { return head_ == nullptr; }
    [[nodiscard]] std::uint32_t size() const { return size_; }
    [[nodiscard]] T* front() const { return head_; }
    [[nodiscard]] T* back() const { return tail_; }
    [[nodiscard]] bool contains(const T& t) const { return link(t).owner == this; }

    // Neighbours of an element on this list (nullptr at the ends).
    [[nodiscard]] static T* next(const T& t) { return static_cast<T*>(link(t).next); }
    [[nodiscard]] static T* prev(const T& t) { return static_cast<T*>(link(t).prev); }

    // push_back and pop_front are insert_after(tail) and unlink(front)
    // written for their one position (the run queue's hot path): the same
    // checks, without the branches for a position they never have.
    void push_back(T& t) {
        ListLink& l = link(t);
        if (l.linked()) [[unlikely]]
            k::panic("intrusive list: node already linked");
        T* tail = tail_;
        l.prev = tail;
        l.next = nullptr;
        l.owner = this;
        if (tail != nullptr) {
            if (!contains(*tail)) [[unlikely]]
                k::panic("intrusive list: position not on list");
            link(*tail).next = &t;
        } else {
            head_ = &t;
        }
        tail_ = &t;
        ++size_;
    }
    void push_front(T& t) { insert_after(nullptr, t); }

    // Inserts t after pos (pos == nullptr: at the front). pos must be on this list.
    void insert_after(T* pos, T& t) {
        ListLink& l = link(t);
        if (l.linked()) k::panic("intrusive list: node already linked");
        if (pos != nullptr && !contains(*pos)) k::panic("intrusive list: position not on list");
        T* after = pos != nullptr ? next(*pos) : head_;
        l.prev = pos;
        l.next = after;
        l.owner = this;
        if (pos != nullptr) {
            link(*pos).next = &t;
        } else {
            head_ = &t;
        }
        if (after != nullptr) {
            link(*after).prev = &t;
        } else {
            tail_ = &t;
        }
        ++size_;
    }

    [[nodiscard]] T* pop_front() {
        T* t = head_;
        if (t == nullptr) return nullptr;
        ListLink& l = link(*t);
        T* n = static_cast<T*>(l.next);
        head_ = n;
        if (n != nullptr) {
            link(*n).prev = nullptr;
        } else {
            tail_ = nullptr;
        }
        l.prev = nullptr;
        l.next = nullptr;
        l.owner = nullptr;
        --size_;
        return t;
    }

    [[nodiscard]] T* pop_back() {
        T* t = tail_;
        if (t != nullptr) unlink(*t);
        return t;
    }

    // False (and nothing changes) when t is not on this list.
    [[nodiscard]] bool remove(T& t) {
        if (!contains(t)) return false;
        unlink(t);
        return true;
    }

    // Front to back. fn(T&) must not link or unlink nodes of this list.
    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (T* t = head_; t != nullptr; t = next(*t))
            fn(*t);
    }

  private:
    static ListLink& link(T& t) { return t.*Link; }
    static const ListLink& link(const T& t) { return t.*Link; }

    void unlink(T& t) {
        ListLink& l = link(t);
        T* p = static_cast<T*>(l.prev);
        T* n = static_cast<T*>(l.next);
        if (p != nullptr) {
            link(*p).next = n;
        } else {
            head_ = n;
        }
        if (n != nullptr) {
            link(*n).prev = p;
        } else {
            tail_ = p;
        }
        l.prev = nullptr;
        l.next = nullptr;
        l.owner = nullptr;
        --size_;
    }

    T* head_ = nullptr;
    T* tail_ = nullptr;
    std::uint32_t size_ = 0;
};

} // namespace k
