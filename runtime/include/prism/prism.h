#pragma once
/// Prism: Ray Core's programming model for supercomputers. Include this one header and link
/// prism::prism.
///
///   #include <prism/prism.h>
///   int Square(int x) { return x * x; }
///   PRISM_REMOTE(Square);
///   int main(int argc, char** argv) {
///     prism::Init(argc, argv);
///     std::cout << *prism::Task(Square).Remote(7).Get() << "\n";   // 49
///     prism::Shutdown();
///   }

#include "prism/runtime/actor.h"
#include "prism/runtime/actor_pool.h"
#include "prism/runtime/api.h"
#include "prism/runtime/config.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/gpu.h"
#include "prism/runtime/memory.h"
#include "prism/runtime/object_ref.h"
#include "prism/runtime/placement_group.h"
#include "prism/runtime/queue.h"
#include "prism/runtime/remote.h"
#include "prism/runtime/scheduling.h"
#include "prism/runtime/shared_span.h"
#include "prism/runtime/task_caller.h"
