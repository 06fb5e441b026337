#pragma once
/// SharedSpan<T>: a span that keeps its memory alive (a view into a stored object).
///
///   prism::SharedSpan<const double> v = prism::GetSpan(ref);
///   double first = v[0];                 // no copy of the object was made
///
/// Copyable; thread-safe as a value type.

#include <cstddef>
#include <memory>
#include <span>

namespace prism {

template <typename T>
class SharedSpan {
 public:
  SharedSpan() = default;
  SharedSpan(std::shared_ptr<const void> owner, T* data, size_t size)
      : owner_(std::move(owner)), span_(data, size) {}

  T* data() const { return span_.data(); }
  size_t size() const { return span_.size(); }
  bool empty() const { return span_.empty(); }
  T& operator[](size_t i) const { return span_[i]; }
  auto begin() const { return span_.begin(); }
  auto end() const { return span_.end(); }
  std::span<T> span() const { return span_; }

 private:
  std::shared_ptr<const void> owner_;
  std::span<T> span_;
};

}  // namespace prism
