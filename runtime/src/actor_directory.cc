#include "actor_directory.h"

namespace prism::runtime {

NameReply ActorDirectory::Handle(const NameRequest& request) {
  NameReply reply;
  reply.request_id = request.request_id;
  auto key = std::make_pair(request.scope, request.name);
  std::lock_guard lock(mu_);
  auto it = names_.find(key);
  switch (request.op) {
    case NameRequest::kRegister:
      if (it == names_.end()) {
        names_.emplace(key, Entry{request.actor, request.rank, request.class_tag});
        reply.status = NameReply::kRegistered;
        return reply;
      }
      reply.status = NameReply::kTaken;
      break;
    case NameRequest::kLookup:
      if (it == names_.end()) return reply;  // kAbsent
      reply.status = NameReply::kFound;
      break;
    case NameRequest::kRelease:
      // Only the actor holding the name releases it: a new actor may have taken it since.
      if (it != names_.end() && it->second.actor == request.actor) names_.erase(it);
      return reply;
  }
  reply.actor = it->second.actor;
  reply.rank = it->second.rank;
  reply.class_tag = it->second.class_tag;
  return reply;
}

void ActorDirectory::OnPeerFailure(Rank rank) {
  std::lock_guard lock(mu_);
  std::erase_if(names_, [rank](const auto& kv) { return kv.second.rank == rank; });
}

}  // namespace prism::runtime
