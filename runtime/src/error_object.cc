#include "error_object.h"

#include <cxxabi.h>
#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "prism/common/wire.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/serializer.h"

namespace prism {

TaskError::TaskError(std::string function, int rank, std::string message,
                     std::string exception_type)
    : PrismError(fmt::format("task {} failed on rank {}: {}{}", function, rank,
                             exception_type.empty() ? "" : exception_type + ": ", message)),
      function_(std::move(function)),
      rank_(rank),
      message_(std::move(message)),
      exception_type_(std::move(exception_type)) {}

namespace runtime {

std::shared_ptr<objstore::ObjectBuffer> MakeErrorObject(
    const std::shared_ptr<objstore::BufferPool>& pool, ErrorKind kind, const std::string& function,
    Rank rank, const std::string& message, const std::string& exception_type) {
  std::vector<std::byte> bytes;
  WireWriter w(bytes);
  w.U8(static_cast<uint8_t>(kind));
  w.String(function);
  w.I32(rank);
  w.String(message);
  w.String(exception_type);
  auto meta = internal::MakeMetadata(internal::ObjectFormat::kError, 0);
  return objstore::ObjectBuffer::CopyOf(pool, meta, bytes);
}

std::string Demangle(const char* mangled) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = status == 0 && demangled != nullptr ? demangled : mangled;
  std::free(demangled);
  return out;
}

std::shared_ptr<objstore::ObjectBuffer> CurrentExceptionError(
    const std::shared_ptr<objstore::BufferPool>& pool, const std::string& function, Rank rank) {
  try {
    std::rethrow_exception(std::current_exception());
  } catch (const std::exception& e) {
    return MakeErrorObject(pool, ErrorKind::kTask, function, rank, e.what(),
                           Demangle(typeid(e).name()));
  } catch (...) {
    return MakeErrorObject(pool, ErrorKind::kTask, function, rank,
                           "a non-standard exception was thrown", "unknown");
  }
}

std::string ErrorMessageOf(const objstore::ObjectBuffer& error) {
  try {
    internal::ThrowStoredError(error);
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace runtime

namespace internal {

void ThrowStoredError(const ObjectBuffer& buffer) {
  WireReader r(buffer.data());
  auto kind = static_cast<runtime::ErrorKind>(r.U8());
  std::string function = r.String();
  int32_t rank = r.I32();
  std::string message = r.String();
  std::string exception_type = r.String();
  if (!r.AtEnd()) throw PrismError("prism: corrupt error object");
  switch (kind) {
    case runtime::ErrorKind::kTask:
      throw TaskError(function, rank, message, exception_type);
    case runtime::ErrorKind::kWorkerCrashed:
      throw WorkerCrashedError(message);
    case runtime::ErrorKind::kObjectLost:
      throw ObjectLostError(message);
    case runtime::ErrorKind::kOwnerDied:
      throw OwnerDiedError(message);
    case runtime::ErrorKind::kUnschedulable:
      throw TaskUnschedulableError(message);
    case runtime::ErrorKind::kActorDied:
      throw ActorDiedError(message);
    case runtime::ErrorKind::kObjectStoreFull:
      throw ObjectStoreFullError(message);
    case runtime::ErrorKind::kOutOfMemory:
      throw OutOfMemoryError(message);
    case runtime::ErrorKind::kTaskPlacementGroupRemoved:
      throw TaskPlacementGroupRemovedError(message);
    case runtime::ErrorKind::kActorPlacementGroupRemoved:
      throw ActorPlacementGroupRemovedError(message);
    case runtime::ErrorKind::kSystem:
      break;
  }
  throw PrismError(message);
}

}  // namespace internal
}  // namespace prism
