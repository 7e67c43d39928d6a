// The task the boot hart starts once every hart is up: the selftest ladder, the benchmark or
// the torture run, as the boot mode says. The selftest room defines it (selftest/runner.cpp):
// the one call from kernel code into a room above its own (layers.txt `upcall`, RFC-0029).
#pragma once

namespace k::selftest {

// A sched task entry; it never returns (it ends the run with a shutdown).
void selftest_task(void*);

} // namespace k::selftest
