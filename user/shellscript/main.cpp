// shellscript: a stand-in console server for the shell's tests ONLY (RFC-0032). It serves the
// console protocol (kestrel/console.hpp) on the endpoint in its slot 0, feeding the reads from a
// script built in (argv "script=selftest" or "script=demo", with "cpus=N": the harts the
// machine has) instead of a keyboard, and checks what the shell writes against the script's
// expectations. Every write is also copied to the kernel console, line by line, so the serial
// log holds the whole session as a person would have seen it.
//
// A script is a list of steps: an input line (sent on the next read, with a CR), and after it
// expectations about what the shell writes before its next read: text that must appear, or
// text that must not, or (Until, first after its input) text that must appear within 5 s: the
// input is sent again each time the shell asks for more until it does (a condition with a
// deadline, never a fixed pause: a job's threads start when the scheduler runs them). A failed
// expectation prints a ULOG line naming it. When the script has no input left, a read is refused
// (the shell then ends: its console is gone). A call with label shell::kScriptVerdict is answered
// with the number of failed expectations, and ends it.
#include <kestrel/console.hpp>
#include <kestrel/user.hpp>

#include "../shell/proto.hpp"

using kestrel::IpcMsg;
using kestrel::Line;

namespace {

enum class Kind { Input, Expect, Forbid, Until };
constexpr int64_t kUntilUs = 5'000'000;
struct Step {
    Kind kind;
    const char* text;
};

// The selftest's script at one hart (no hart to take offline: those commands must refuse).
// Steps up to the marker kSmpOnly are common to both.
constexpr const char* kLong = "x"; // expanded to a line of 200 bytes (see input_of)

const Step kCommon[] = {
    {Kind::Input, "help"},
    {Kind::Expect, "commands:"},
    {Kind::Expect, "shutdown"},
    {Kind::Input, "ps"},
    {Kind::Expect, " shell "},
    {Kind::Expect, " init "},
    {Kind::Input, "harts"},
    {Kind::Expect, "hart 0 online"},
    // Line editing: a typo erased with DEL, then with BS ("\x7f" and "\b" in the text).
    {Kind::Input, "pz\x7fs"},
    {Kind::Expect, "\b \b"},
    {Kind::Expect, " shell "},
    {Kind::Input, "hepl\b\blp"},
    {Kind::Expect, "commands:"},
    // Bad input: every kind gets a message and the next prompt.
    {Kind::Input, "frobnicate now"},
    {Kind::Expect, "unknown command 'frobnicate'"},
    {Kind::Input, kLong},
    {Kind::Expect, "line too long"},
    {Kind::Input, "offline"},
    {Kind::Expect, "offline: usage"},
    {Kind::Input, "offline x1"},
    {Kind::Expect, "offline: bad number 'x1'"},
    {Kind::Input, "online 99999999999"},
    {Kind::Expect, "online: bad number"},
    {Kind::Input, "offline 0"},
    {Kind::Expect, "offline 0: BootHart"},
    {Kind::Input, "online 0"},
    {Kind::Expect, "online 0: BootHart"},
    {Kind::Input, "offline 63"},
    {Kind::Expect, "offline 63: BadArgument (no such hart)"},
    {Kind::Input, "run nosuchimage a b"},
    {Kind::Expect, "run nosuchimage: NoImage"},
    {Kind::Input, "run"},
    {Kind::Expect, "run: usage"},
    {Kind::Input, "kill 99999"},
    {Kind::Expect, "kill: no job with task id 99999"},
    {Kind::Input, "kill %x"},
    {Kind::Expect, "kill: bad number"},
    {Kind::Input, "fuzz 1"},
    {Kind::Expect, "fuzz: usage"},
    {Kind::Input, "fuzz 1 0"},
    {Kind::Expect, "fuzz: bad number '0'"},
    {Kind::Input, "a b c d e f g h i"},
    {Kind::Expect, "too many words"},
    // A job that ends by itself is reported at the next prompt; one killed says so.
    {Kind::Input, "run hello one"},
    {Kind::Expect, "[1] task "},
    {Kind::Expect, " hello started"},
    {Kind::Input, "run busy ms=0"},
    {Kind::Expect, " busy started"},
    {Kind::Input, "jobs"},
    {Kind::Expect, " busy"},
    {Kind::Input, "kill %2"},
    {Kind::Expect, " busy killed"},
    {Kind::Input, "fuzz 7 300"},
    {Kind::Expect, "fuzz: fuzz exited 0 (ok)"},
    {Kind::Input, "bench 0"},
    {Kind::Expect, "bench: bad number '0'"},
    // The shell runs the bench and reports its status. Which status is the bench's: in the
    // ladder, under its load and jitter, a server can be stolen to the client's hart and
    // ipcbench's own placement check then says FAILED (seen at SMP=4 in a clean-clone run).
    {Kind::Input, "bench 5"},
    {Kind::Expect, "bench: task "},
    {Kind::Expect, "bench: ipcbench exited "},
};

// At two harts or more: hart 1 taken offline while two jobs are busy on it, one free to move
// and one pinned there; then brought back and the jobs killed.
// '#' stands for the hart under test (argv "hart=H", 1..9: the first online one after the
// boot hart). Jobs 3 and 4 spin unpinned, job 5 is pinned to hart #.
const Step kSmp[] = {
    {Kind::Input, "harts"},
    {Kind::Expect, "hart # online"},
    {Kind::Input, "run busy"},
    {Kind::Expect, "[3] task "},
    {Kind::Input, "run busy"},
    {Kind::Expect, "[4] task "},
    {Kind::Input, "run busy pin=#"},
    {Kind::Expect, "[5] task "},
    {Kind::Input, "ps"},
    {Kind::Until, "h# pinned thread"},
    {Kind::Input, "offline #"},
    {Kind::Expect, "hart # offline, 1 pinned task(s) parked on it until it is back"},
    {Kind::Input, "offline #"},
    {Kind::Expect, "offline #: HartState"},
    {Kind::Input, "harts"},
    {Kind::Expect, "hart # offline"},
    {Kind::Input, "ps"},
    {Kind::Expect, "h# pinned thread"},
    {Kind::Forbid, "h# thread"}, // no unpinned thread stays on the offline hart
    {Kind::Input, "online #"},
    {Kind::Expect, "hart # online"},
    {Kind::Input, "online #"},
    {Kind::Expect, "online #: HartState"},
    {Kind::Input, "jobs"},
    {Kind::Expect, "[3] task "},
    {Kind::Expect, "[4] task "},
    {Kind::Expect, "[5] task "},
    {Kind::Input, "kill %3"},
    {Kind::Expect, " busy killed"},
    {Kind::Input, "kill %4"},
    {Kind::Expect, " busy killed"},
    {Kind::Input, "kill %5"},
    {Kind::Expect, " busy killed"},
};

const Step kOneHart[] = {
    {Kind::Input, "offline 1"},
    {Kind::Expect, "offline 1: BadArgument (no such hart)"},
};

const Step kEnd[] = {
    {Kind::Input, "shutdown"},
    {Kind::Expect, "shutdown: bye"},
};

// The README's short session (scripts/shell.sh's stand-in until the console driver is there).
const Step kDemo[] = {
    {Kind::Input, "help"},     {Kind::Input, "harts"},       {Kind::Input, "run busy pin=#"},
    {Kind::Input, "ps"},       {Kind::Input, "offline #"},   {Kind::Input, "ps"},
    {Kind::Input, "online #"}, {Kind::Input, "frobnicate"},  {Kind::Input, "offline 0"},
    {Kind::Input, "kill %1"},  {Kind::Input, "fuzz 3 2000"}, {Kind::Input, "shutdown"},
};

struct Part {
    const Step* steps;
    uint64_t n;
};
Part g_parts[4];
uint64_t g_part_count = 0, g_part = 0, g_at = 0;

template <uint64_t N>
void add(const Step (&s)[N]) {
    g_parts[g_part_count++] = {s, N};
}

// The next step, or nullptr at the end of the script (g_part, g_at move on).
const Step* peek() {
    while (g_part < g_part_count && g_at == g_parts[g_part].n) {
        ++g_part;
        g_at = 0;
    }
    return g_part < g_part_count ? &g_parts[g_part].steps[g_at] : nullptr;
}

// What the shell wrote since the last input (cut at its capacity: the expectations look at
// the first 8 KiB of a command's output).
char g_out[8192];
uint64_t g_out_len = 0;
const char* g_last_input = "(start)";
const Step* g_last_step = nullptr; // the last input step (an Until sends it again)
int64_t g_until_deadline = 0;      // when an Until step of the last input gives up
int64_t g_failures = 0;
int64_t g_sent_at = 0; // when the last input was first sent (µs)

// The transcript's copy on the kernel console: whole lines only.
char g_line[256];
uint64_t g_line_len = 0;

void transcript(const char* s, uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
        const char c = s[i];
        if (c == '\b') { // a terminal would move back: so does the copy
            if (g_line_len > 0) --g_line_len;
            continue;
        }
        if (c != '\n' && g_line_len < sizeof g_line - 1) g_line[g_line_len++] = c;
        if (c == '\n' || g_line_len == sizeof g_line - 1) {
            g_line[g_line_len++] = '\n';
            (void)kestrel::console_write(g_line, g_line_len);
            g_line_len = 0;
        }
    }
}

char g_hart = '1'; // what '#' in a step's text stands for

// A step's text with '#' replaced (into buf, NUL-terminated; at most 127 bytes).
const char* expand(const char* text, char* buf) {
    uint64_t n = 0;
    for (; text[n] && n < 127; ++n)
        buf[n] = text[n] == '#' ? g_hart : text[n];
    buf[n] = '\0';
    return buf;
}

bool contains(const char* raw) {
    char tmp[128];
    const char* text = expand(raw, tmp);
    const uint64_t n = kestrel::str_len(text);
    for (uint64_t i = 0; i + n <= g_out_len; ++i) {
        uint64_t k = 0;
        while (k < n && g_out[i + k] == text[k])
            ++k;
        if (k == n) return true;
    }
    return false;
}

// Checks the expectations that follow the last input, up to the next input. True when that
// input must be sent again (an Until step not met yet, with time left).
bool check_pending() {
    for (const Step* s = peek(); s && s->kind != Kind::Input; s = peek()) {
        const bool found = contains(s->text);
        if (s->kind == Kind::Until && !found && kestrel::time_us() < g_until_deadline) {
            g_out_len = 0;
            return true;
        }
        if (found != (s->kind != Kind::Forbid)) {
            ++g_failures;
            Line()
                .put("ULOG: shellscript: after '")
                .put(g_last_input)
                .put(s->kind == Kind::Forbid ? "' unwanted: '" : "' missing: '")
                .put(s->text) // '#' is the hart under test
                .put("'")
                .done();
        }
        ++g_at;
    }
    g_out_len = 0;
    return false;
}

// The bytes of an input step: its text (kLong: 200 bytes), then CR.
uint64_t input_of(const Step& s, char* buf) {
    uint64_t n = 0;
    if (s.text == kLong) {
        for (; n < 200; ++n)
            buf[n] = 'x';
    } else {
        for (; s.text[n]; ++n)
            buf[n] = s.text[n] == '#' ? g_hart : s.text[n];
    }
    buf[n++] = '\r';
    return n;
}

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

} // namespace

int main(int argc, char** argv) {
    int64_t cpus = 1;
    bool demo = false;
    for (int i = 0; i < argc; ++i) {
        if (starts(argv[i], "cpus=")) cpus = kestrel::parse_int(argv[i] + 5);
        if (starts(argv[i], "script=demo")) demo = true;
        if (starts(argv[i], "hart=") && argv[i][5] >= '1' && argv[i][5] <= '9') g_hart = argv[i][5];
    }
    if (demo) {
        add(kDemo);
    } else {
        add(kCommon);
        if (cpus >= 2)
            add(kSmp);
        else
            add(kOneHart);
        add(kEnd);
    }
    constexpr uint64_t kSlot = 0;
    uint64_t words[kestrel::kMaxIpcLength] = {};
    IpcMsg m;
    int64_t r = kestrel::recv(kSlot, m, words + kestrel::kMessageRegisters);
    for (;;) {
        if (r != 0) return 2; // the endpoint went away
        for (uint64_t i = 0; i < kestrel::kMessageRegisters; ++i)
            words[i] = m.mr[i];
        const uint64_t label = kestrel::tag_label(m.tag);
        IpcMsg rep;
        rep.tag = kestrel::make_tag(kestrel::kConsoleRefused, 0);
        if (label == kestrel::kConsoleWrite && words[0] <= kestrel::kConsoleWriteMax &&
            kestrel::tag_length(m.tag) >= 1 + kestrel::console_words(words[0])) {
            char text[kestrel::kConsoleWriteMax];
            kestrel::console_unpack(words + 1, words[0], text);
            for (uint64_t i = 0; i < words[0] && g_out_len < sizeof g_out; ++i)
                g_out[g_out_len++] = text[i];
            transcript(text, words[0]);
            rep.tag = kestrel::make_tag(words[0], 0);
        } else if (label == kestrel::kConsoleRead && words[0] >= 1 &&
                   words[0] <= kestrel::kConsoleReadMax) {
            // A slow command is named (the selftest's time budget: RFC-0032).
            if (g_last_step && kestrel::time_us() - g_sent_at > 200'000)
                Line()
                    .put("ULOG: shellscript: '")
                    .put(g_last_input)
                    .put("' took ")
                    .put((kestrel::time_us() - g_sent_at) / 1000)
                    .put(" ms")
                    .done();
            const bool again = check_pending();
            const Step* s = again ? g_last_step : peek();
            if (s) {
                char in[kestrel::kConsoleReadMax];
                uint64_t n = input_of(*s, in);
                if (n > words[0]) n = words[0]; // a short read: the rest is lost (never here)
                if (!again) {
                    g_last_input = s->text == kLong ? "(200 bytes)" : s->text;
                    g_last_step = s;
                    g_until_deadline = kestrel::time_us() + kUntilUs;
                    g_sent_at = kestrel::time_us();
                    ++g_at;
                }
                for (uint64_t i = 0; i < kestrel::kMaxIpcLength; ++i)
                    words[i] = 0;
                kestrel::console_pack(in, n, words);
                rep.tag = kestrel::make_tag(n, kestrel::console_words(n));
                for (uint64_t i = 0; i < kestrel::kMessageRegisters; ++i)
                    rep.mr[i] = words[i];
            }
        } else if (label == shell::kScriptVerdict) {
            (void)check_pending();
            if (g_line_len > 0) transcript("\n", 1);
            rep.tag = kestrel::make_tag(static_cast<uint64_t>(g_failures), 0);
            (void)kestrel::reply(rep);
            return g_failures == 0 ? 0 : 1;
        }
        m = rep;
        r = kestrel::reply_recv(kSlot, m, words + kestrel::kMessageRegisters);
    }
}
