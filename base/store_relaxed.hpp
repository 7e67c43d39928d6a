// Relaxed and release atomic stores that are one store instruction (after
// the release fence) with every compiler.
#pragma once

#include <atomic>

namespace k {

// GCC 12's RISC-V backend emits a relaxed atomic store as `amoswap zero`,
// which has no offset form, so each one costs an extra address add (seen
// ten times on the yield path); GCC 13 and Clang emit a plain sw/sd. Under
// RVWMO an aligned sw/sd is single-copy atomic, which is all a relaxed store
// promises. Elsewhere (Clang, the host tests under TSan) it is the atomic's
// own relaxed store.
template <typename T>
inline void store_relaxed(std::atomic<T>& a, T v) {
#if defined(__riscv) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "a word or a double word");
    static_assert(sizeof(std::atomic<T>) == sizeof(T) && std::atomic<T>::is_always_lock_free);
    if constexpr (sizeof(T) == 8) {
        asm volatile("sd %1, %0" : "=m"(a) : "r"(v));
    } else {
        asm volatile("sw %1, %0" : "=m"(a) : "r"(v));
    }
#else
    a.store(v, std::memory_order_relaxed);
#endif
}

// The release form: RVWMO's mapping of a release store, `fence rw,w` then the
// store (GCC 12 emits `fence iorw,ow` then an amoswap with its address add).
// The memory clobber keeps the compiler from sinking earlier accesses below it.
template <typename T>
inline void store_release(std::atomic<T>& a, T v) {
#if defined(__riscv) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "a word or a double word");
    static_assert(sizeof(std::atomic<T>) == sizeof(T) && std::atomic<T>::is_always_lock_free);
    if constexpr (sizeof(T) == 8) {
        asm volatile("fence rw, w\n\tsd %1, %0" : "=m"(a) : "r"(v) : "memory");
    } else {
        asm volatile("fence rw, w\n\tsw %1, %0" : "=m"(a) : "r"(v) : "memory");
    }
#else
    a.store(v, std::memory_order_release);
#endif
}

} // namespace k
