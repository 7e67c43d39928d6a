// The injected faults that need a task (base/fault.hpp names them all).
#pragma once

namespace k::fault {

// Boot hook: runs the injected fault that needs a task (stack, trap), if this boot has one.
void run_task_faults();

} // namespace k::fault
