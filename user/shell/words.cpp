// A command line's words and numbers (user/shell/words.hpp).
#include "words.hpp"

namespace shell {

uint64_t split(char* line, char** words) {
    uint64_t n = 0;
    char* p = line;
    for (;;) {
        while (*p == ' ')
            *p++ = '\0';
        if (!*p) return n;
        if (n == kMaxWords) return kMaxWords + 1;
        words[n++] = p;
        while (*p && *p != ' ')
            ++p;
    }
}

bool same(const char* a, const char* b) {
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return *a == *b;
}

bool number(const char* s, uint64_t& v) {
    v = 0;
    uint64_t digits = 0;
    for (; *s; ++s, ++digits) {
        if (*s < '0' || *s > '9' || digits == 9) return false;
        v = v * 10 + static_cast<uint64_t>(*s - '0');
    }
    return digits > 0;
}

} // namespace shell
