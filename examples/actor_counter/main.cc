// actor_counter: a stateful Counter actor (the seed's actor examples): create it from a factory,
// call it, run many in parallel, pass its handle to tasks, find it by name, end it.
//
//   ./build/bin/actor_counter [increments_per_task]
//   mpirun -n 4 ./build/bin/actor_counter 100

#include <prism/prism.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

// A regular C++ class: each actor made from it keeps its own value on the rank that hosts it.
class Counter {
 public:
  int Increment() { return ++value_; }
  int GetCounter() { return value_; }
  // Ends this actor gracefully: calls submitted before it have run, later ones fail.
  void Close() { prism::ExitActor(); }

 private:
  int value_ = 0;
};

// prism::Actor takes a factory that produces the object.
Counter* CreateCounter() { return new Counter(); }

// A task holding a handle calls the actor like the driver does.
void Foo(const prism::ActorHandle<Counter>& counter, int increments) {
  prism::ObjectRef<int> last;
  for (int i = 0; i < increments; ++i) last = counter.Task(&Counter::Increment).Remote();
  // Calls from one caller run in order: once the last one is done, all of them are.
  last.Get();
}

PRISM_REMOTE(CreateCounter, &Counter::Increment, &Counter::GetCounter, &Counter::Close, Foo);

namespace {

void Check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

std::string Join(const std::vector<std::shared_ptr<int>>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : " ") + std::to_string(*v);
  return out;
}

void CallOne() {
  prism::ActorHandle<Counter> counter = prism::Actor(CreateCounter).Remote();
  int one = *counter.Task(&Counter::Increment).Remote().Get();
  std::cout << "a counter on rank " << counter.rank() << ": Increment() -> " << one << "\n";
  Check(one == 1, "the first Increment() should return 1");
}

// Methods of different actors run in parallel; methods of one actor run one at a time, in the
// order they were called, on the same state.
void ParallelAndSerial() {
  std::vector<prism::ActorHandle<Counter>> counters;
  for (int i = 0; i < 10; ++i) counters.push_back(prism::Actor(CreateCounter).Remote());

  std::vector<prism::ObjectRef<int>> refs;
  for (const auto& counter : counters) refs.push_back(counter.Task(&Counter::Increment).Remote());
  std::string ones = Join(prism::Get(refs));
  std::set<int> ranks;
  for (const auto& counter : counters) ranks.insert(counter.rank());
  std::string hosts;
  for (int rank : ranks) hosts += " " + std::to_string(rank);
  std::cout << "ten counters (on ranks" << hosts << "), one call each: " << ones << "\n";
  Check(ones == "1 1 1 1 1 1 1 1 1 1", "ten fresh counters should each return 1");

  refs.clear();
  for (int i = 0; i < 5; ++i) refs.push_back(counters[0].Task(&Counter::Increment).Remote());
  std::string serial = Join(prism::Get(refs));
  std::cout << "first counter, five calls: " << serial << "\n";
  Check(serial == "2 3 4 5 6", "five calls on one counter should return 2..6 in order");
}

// Handles are values: tasks on any rank receive a copy and call the same actor.
void PassHandleToTasks(int increments) {
  constexpr int kTasks = 3;
  prism::ActorHandle<Counter> counter = prism::Actor(CreateCounter).Remote();
  std::vector<prism::ObjectRef<void>> done;
  for (int i = 0; i < kTasks; ++i) done.push_back(prism::Task(Foo).Remote(counter, increments));
  for (const auto& d : done) d.Get();
  int total = *counter.Task(&Counter::GetCounter).Remote().Get();
  std::cout << kTasks << " tasks x " << increments
            << " increments through passed handles: " << total << "\n";
  Check(total == kTasks * increments, "every increment from the tasks should count once");
}

// A named actor is found by name from anywhere in the job; a name in another namespace is not.
void FindByName() {
  prism::ActorHandle<Counter> named =
      prism::Actor(CreateCounter).SetName("shared_counter").Remote();
  std::optional<prism::ActorHandle<Counter>> found = prism::GetActor<Counter>("shared_counter");
  Check(found.has_value() && *found == named, "GetActor should find the named counter");
  found->Task(&Counter::Increment).Remote().Get();
  int value = *named.Task(&Counter::Increment).Remote().Get();
  std::cout << "GetActor(\"shared_counter\") reaches the same actor: value " << value << "\n";
  Check(value == 2, "both handles should update one counter");

  // Held so that the actor stays alive while it is looked up.
  prism::ActorHandle<Counter> orange =
      prism::Actor(CreateCounter).SetName("orange", "colors").Remote();
  Check(prism::GetActor<Counter>("orange", "colors").has_value(),
        "GetActor should find \"orange\" in namespace \"colors\"");
  Check(!prism::GetActor<Counter>("orange").has_value(),
        "\"orange\" should not be visible from the job's own namespace");
  Check(!prism::GetActor<Counter>("no_such_counter").has_value(),
        "GetActor of an unknown name should return nullopt");
  std::cout << "\"orange\" is visible in namespace \"colors\" only\n";
}

// Returns whether calling `counter` now fails with ActorDiedError.
bool CallFailsWithActorDied(const prism::ActorHandle<Counter>& counter) {
  try {
    counter.Task(&Counter::Increment).Remote().Get();
  } catch (const prism::ActorDiedError&) {
    return true;
  }
  return false;
}

// Kill ends an actor at once; ExitActor ends it from inside, after the calls before it.
void EndActors() {
  prism::ActorHandle<Counter> killed = prism::Actor(CreateCounter).Remote();
  killed.Task(&Counter::Increment).Remote().Get();
  killed.Kill();
  Check(CallFailsWithActorDied(killed), "calls after Kill() should fail with ActorDiedError");
  std::cout << "after Kill(): calls fail with ActorDiedError\n";

  prism::ActorHandle<Counter> closed = prism::Actor(CreateCounter).Remote();
  prism::ObjectRef<int> before = closed.Task(&Counter::Increment).Remote();
  prism::ObjectRef<void> close = closed.Task(&Counter::Close).Remote();
  Check(*before.Get() == 1, "a call submitted before ExitActor() should complete");
  bool close_failed = false;
  try {
    close.Get();
  } catch (const prism::ActorDiedError&) {
    close_failed = true;
  }
  Check(close_failed, "the call that ran ExitActor() should fail with ActorDiedError");
  Check(CallFailsWithActorDied(closed), "calls after ExitActor() should fail with ActorDiedError");
  std::cout << "after ExitActor(): earlier calls done, later calls fail with ActorDiedError\n";
}

}  // namespace

int main(int argc, char** argv) {
  prism::Init(argc, argv);  // ranks >= 1 host actors and run tasks from here on
  int increments = argc > 1 ? std::atoi(argv[1]) : 100;
  if (increments <= 0) {
    std::cerr << "usage: actor_counter [increments_per_task > 0]\n";
    prism::Shutdown();
    return 2;
  }

  int code = 0;
  try {
    CallOne();
    ParallelAndSerial();
    PassHandleToTasks(increments);
    FindByName();
    EndActors();
    std::cout << "all actor checks passed on " << prism::GetRuntimeContext().GetWorldSize()
              << " ranks\n";
  } catch (const std::exception& e) {
    std::cerr << "actor_counter: FAILED: " << e.what() << "\n";
    code = 1;
  }
  prism::Shutdown();
  return code;
}
