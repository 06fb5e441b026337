#pragma once
/// Stopwatch: elapsed wall time on the steady clock, for timing one measured section.
///
///   Stopwatch watch;
///   DoWork();
///   double us = watch.ElapsedMicros();

#include <chrono>

namespace prism::bench {

/// Starts at construction; Restart() starts again. Not thread-safe.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}

  /// Starts timing again from now.
  void Restart() { start_ = std::chrono::steady_clock::now(); }

  /// Seconds since construction or the last Restart().
  double ElapsedSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  /// Microseconds since construction or the last Restart().
  double ElapsedMicros() const { return ElapsedSeconds() * 1e6; }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace prism::bench
