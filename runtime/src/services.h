#pragma once
// The runtime side of prism/runtime/internal/services.h: the process-wide tables of collective
// message handlers and peer-failure subscribers, and their hook into a runtime's transport.
//
// Thread contract: thread-safe; InstallServiceForwarders before the transport starts.

#include "prism/transport/transport.h"

namespace prism::runtime {

/// Installs forwarders for every collective message type and a peer-failure handler that
/// notifies the subscribers; counts a new runtime generation.
void InstallServiceForwarders(transport::Transport& transport);

}  // namespace prism::runtime
