#pragma once
/// Expected failures as values: prism::Error and prism::Result<T>.
///
/// A function that can fail for reasons outside the program's control (peer gone, store full,
/// timeout, bad input) returns Result<T>. Broken invariants use PRISM_CHECK instead.
///
///   Result<int> ParsePort(std::string_view s);
///   auto port = ParsePort(text);
///   if (!port) return port.error();          // propagate
///   Use(*port);

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace prism {

/// Error codes, grouped by what the caller can do about them.
enum class ErrorCode : uint8_t {
  kOk = 0,
  // The caller's input is wrong: fix the call.
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  ///< Called in the wrong state (e.g. before Init).
  // Try again later, or wait longer.
  kTimeout,
  kResourceExhausted,  ///< A bounded resource (memory, store, queue) is full.
  // A peer or a part of the cluster is gone: give up on it, fail over.
  kPeerDead,
  kUnavailable,
  // Data from outside did not make sense: drop it.
  kMalformed,
  // The environment failed us: report it.
  kIoError,
  kInternal,
  kCancelled,
};

/// Human-readable name of an error code ("timeout", "peer dead", ...).
const char* ErrorCodeName(ErrorCode code);

/// An error code with a message that names what went wrong.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  /// "timeout: Get(obj 0:12) waited 1000 ms".
  std::string ToString() const;
};

/// Builds an Error; the message should name the value or peer at fault.
inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

/// A T or an Error. [[nodiscard]]: an ignored failure is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

/// Result of an operation that returns nothing on success.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error)
      : error_(std::move(error)), ok_(error_.code == ErrorCode::kOk) {}  // NOLINT: implicit
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  ErrorCode code() const { return ok_ ? ErrorCode::kOk : error_.code; }
  std::string ToString() const { return ok_ ? "ok" : error_.ToString(); }

 private:
  Error error_{ErrorCode::kOk, {}};
  bool ok_ = true;
};

}  // namespace prism
