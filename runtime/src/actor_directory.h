#pragma once
// ActorDirectory: the controller's table of actor names (rank 0 only).
//
// A name lives in a scope: "ns:<namespace>" for SetName (the job's namespace or an explicit one)
// and "global" for SetGlobalName. Registering a taken name answers with the actor that holds it
// (so that get-if-exists can return it); a name is released when its actor dies for good or its
// rank dies.
//
// Thread contract: thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "messages.h"

namespace prism::runtime {

class ActorDirectory {
 public:
  /// Answers a kRegister or kLookup request; applies a kRelease (and answers kAbsent).
  NameReply Handle(const NameRequest& request);
  /// Forgets the names of actors that lived on `rank`.
  void OnPeerFailure(Rank rank);

 private:
  struct Entry {
    ActorId actor;
    Rank rank = kNoRank;
    std::string class_tag;
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> names_;  // (scope, name)
};

}  // namespace prism::runtime
