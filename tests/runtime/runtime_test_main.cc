// Entry point of the multi-rank runtime tests: every rank calls prism::Init; rank 0 (the driver)
// runs the test cases and the other ranks serve their tasks until the driver shuts down. The
// job's exit code is the driver's: mpirun reports the first non-zero exit.

#include <gtest/gtest.h>
#include <prism/prism.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  prism::Init(argc, argv);  // ranks >= 1 never return
  int rc = RUN_ALL_TESTS();
  prism::Shutdown();
  return rc;
}
