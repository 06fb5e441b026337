// hello_tasks: remote tasks across ranks (the seed's first task examples).
//
//   ./build/bin/hello_tasks                 # a one-rank cluster
//   mpirun -n 4 ./build/bin/hello_tasks     # rank 0 drives, ranks 1-3 run tasks

#include <prism/prism.h>

#include <iostream>
#include <set>
#include <string>
#include <vector>

// Any free function can run remotely once registered.
int Square(int x) { return x * x; }

std::string Greet(std::string name) {
  auto ctx = prism::GetRuntimeContext();
  return "hello " + name + " from rank " + std::to_string(ctx.GetRank()) + " on " +
         ctx.GetHostname();
}

int RankOf(int) { return prism::GetRuntimeContext().GetRank(); }

// A task that submits tasks: nested tasks work from any rank.
int SumOfSquares(int n) {
  std::vector<prism::ObjectRef<int>> parts;
  for (int i = 1; i <= n; ++i) parts.push_back(prism::Task(Square).Remote(i));
  int sum = 0;
  for (const auto& v : prism::Get(parts)) sum += *v;
  return sum;
}

PRISM_REMOTE(Square, Greet, RankOf, SumOfSquares);

int main(int argc, char** argv) {
  prism::Init(argc, argv);  // ranks >= 1 serve tasks from here on and never return

  auto ctx = prism::GetRuntimeContext();
  std::cout << "job " << ctx.GetJobId() << " with " << ctx.GetWorldSize() << " ranks\n";

  // Tasks return futures at once; Get waits for the value.
  std::vector<prism::ObjectRef<int>> squares;
  for (int i = 0; i < 10; ++i) squares.push_back(prism::Task(Square).Remote(i));
  int total = 0;
  for (const auto& v : prism::Get(squares)) total += *v;
  std::cout << "sum of squares 0..9 = " << total << "\n";

  // An ObjectRef passed to a task is resolved to its value wherever the task runs.
  prism::ObjectRef<int> seven = prism::Put(7);
  std::cout << "7 squared = " << *prism::Task(Square).Remote(seven).Get() << "\n";

  std::cout << *prism::Task(Greet).Remote(std::string("world")).Get() << "\n";

  // The owner spreads tasks over the ranks with free CPUs.
  std::vector<prism::ObjectRef<int>> where;
  for (int i = 0; i < 8 * ctx.GetWorldSize(); ++i) where.push_back(prism::Task(RankOf).Remote(i));
  std::set<int> ranks;
  for (const auto& r : prism::Get(where)) ranks.insert(*r);
  std::cout << "tasks ran on " << ranks.size() << " of " << ctx.GetWorldSize() << " ranks\n";
  std::cout << "nested: sum of squares 1..20 = " << *prism::Task(SumOfSquares).Remote(20).Get()
            << "\n";

  prism::Shutdown();
  return total == 285 ? 0 : 1;
}
