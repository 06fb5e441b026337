#pragma once
// Registry: the group members living in this process, keyed by (group name, member identity).
// A member's identity is its actor (the actor id) or, outside actors, its thread. The registry
// joins groups (rendezvous through the controller's key-value store), finds the caller's member
// (joining a group declared with CreateGroup on first use), and fails the members whose group
// lost a rank.
//
// Thread contract: thread-safe.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "member.h"

namespace prism::collective {

class Registry {
 public:
  static Registry& Get();

  /// InitGroup for the caller; throws CollectiveError.
  std::shared_ptr<Member> Join(int world_size, int rank, Backend backend, const std::string& name,
                               const GroupOptions& options, uint64_t declaration = 0);
  /// The caller's member of `name`, joining a declared group if needed; throws CollectiveError
  /// naming `api` when the caller is not a member.
  std::shared_ptr<Member> Find(const std::string& name, const char* api);
  /// The caller's member of `name` without joining, or null.
  std::shared_ptr<Member> FindLocal(const std::string& name);
  /// True when a CreateGroup declaration of `name` lists the calling actor (no rendezvous).
  bool IsDeclaredMember(const std::string& name);
  /// Removes the caller's member of `name` (failing its pending operations); true if there was one.
  bool Leave(const std::string& name);

  /// Records a CreateGroup declaration in the key-value store.
  void Declare(const std::vector<std::string>& actor_ids, Backend backend, const std::string& name,
               const GroupOptions& options);
  /// Removes the declaration of `name`, if any.
  void Undeclare(const std::string& name);

 private:
  Registry();
  void OnPeerFailure(Rank rank, const std::string& why);
  static const std::string& CallerIdentity();
  static void CheckName(const std::string& name, const char* api);

  struct Entry {
    std::shared_ptr<Member> member;
    uint64_t declaration = 0;  // the declaration it joined from, or 0 (InitGroup)
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> members_;  // (name, identity)
  // Bumped (under mu_) whenever members_ changes: a thread's cached Find result is valid while
  // this has not moved (Find's fast path takes no lock and copies no string).
  std::atomic<uint64_t> version_{1};
};

}  // namespace prism::collective
