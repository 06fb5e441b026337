// Must NOT compile: a struct without MSGPACK_DEFINE cannot be stored (see CMakeLists.txt).
#include <prism/prism.h>

struct Opaque {
  int* pointer;
};

int main() {
  prism::Init();
  auto ref = prism::Put(Opaque{nullptr});
  prism::Shutdown();
  return 0;
}
