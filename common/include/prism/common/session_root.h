#pragma once
/// Where a user's Prism session directories live, shared by the runtime (which makes them) and
/// the `prism` command (which finds them):
///
///   UserSessionRoot("")            // "${TMPDIR:-/tmp}/prism-<user>"
///   UserSessionRoot("/scratch/s")  // "/scratch/s/prism-<user>"
///
/// Thread contract: thread-safe (reads TMPDIR and the password database).

#include <string>

namespace prism {

/// `<root>/prism-<user>`; an empty `root` means $TMPDIR, else /tmp. The user is the effective
/// user's name (uid<N> when it has none).
std::string UserSessionRoot(const std::string& root);

}  // namespace prism
