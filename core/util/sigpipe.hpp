// SIGPIPE, ignored process-wide on first need.
#pragma once

namespace sysmetrics {

// Has the process ignore SIGPIPE (once; later calls cost an atomic load):
// a write to a pipe or socket whose reader is gone then fails with EPIPE
// instead of ending the process. For writes that cannot pass MSG_NOSIGNAL:
// writev on a socket, write on a pipe.
void IgnoreSigpipe();

}  // namespace sysmetrics
