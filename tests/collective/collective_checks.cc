#include "collective_checks.h"

#include <fmt/format.h>

#include <cstdint>
#include <exception>
#include <span>

namespace prism::collective::testing {
namespace {

using collective::ReduceOp;

template <typename T>
T Value(int member, size_t i, ReduceOp op) {
  if (op == ReduceOp::kProduct)
    return static_cast<T>((static_cast<size_t>(member) + i) % 3 == 0 ? 2 : 1);
  return static_cast<T>(static_cast<int64_t>((static_cast<size_t>(member) * 7 + i * 13) % 23) - 11);
}

template <typename T>
T Combine(T a, T b, ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return static_cast<T>(a + b);
    case ReduceOp::kProduct:
      return static_cast<T>(a * b);
    case ReduceOp::kMin:
      return std::min(a, b);
    case ReduceOp::kMax:
      return std::max(a, b);
  }
  return a;
}

template <typename T>
T Reference(int world, size_t i, ReduceOp op) {
  T acc = Value<T>(0, i, op);
  for (int m = 1; m < world; ++m) acc = Combine(acc, Value<T>(m, i, op), op);
  return acc;
}

template <typename T>
std::string Mismatch(const char* what, size_t count, ReduceOp op, size_t i, T got, T want) {
  return fmt::format("{} {} count {} {}: element {} is {}, expected {}", what,
                     DataTypeName(DataTypeOf<T>()), count, ReduceOpName(op), i, got, want);
}

template <typename T>
std::string CheckOps(const std::string& group, size_t count, ReduceOp op) {
  const int w = GetWorldSize(group);
  const int me = GetRank(group);
  // AllReduce (blocking), then the async form.
  for (bool async : {false, true}) {
    std::vector<T> buf(count);
    for (size_t i = 0; i < count; ++i) buf[i] = Value<T>(me, i, op);
    if (async) {
      Work work = AllReduceAsync(std::span<T>(buf), op, group);
      work.Wait();
      if (!work.Done()) return "AllReduceAsync: Wait returned before Done";
    } else {
      AllReduce(buf, op, group);
    }
    for (size_t i = 0; i < count; ++i) {
      if (buf[i] != Reference<T>(w, i, op)) {
        return Mismatch(async ? "AllReduceAsync" : "AllReduce", count, op, i, buf[i],
                        Reference<T>(w, i, op));
      }
    }
  }
  {
    const int root = static_cast<int>(count % static_cast<size_t>(w));
    std::vector<T> buf(count);
    for (size_t i = 0; i < count; ++i) buf[i] = Value<T>(me, i, op);
    Reduce(std::span<T>(buf), root, op, group);
    if (me == root) {
      for (size_t i = 0; i < count; ++i) {
        if (buf[i] != Reference<T>(w, i, op)) {
          return Mismatch("Reduce", count, op, i, buf[i], Reference<T>(w, i, op));
        }
      }
    }
  }
  {
    std::vector<T> send(count * static_cast<size_t>(w));
    for (size_t i = 0; i < send.size(); ++i) send[i] = Value<T>(me, i, op);
    std::vector<T> recv(count, T(-99));
    ReduceScatter(std::span<const T>(send), std::span<T>(recv), op, group);
    for (size_t i = 0; i < count; ++i) {
      T want = Reference<T>(w, static_cast<size_t>(me) * count + i, op);
      if (recv[i] != want) return Mismatch("ReduceScatter", count, op, i, recv[i], want);
    }
  }
  return "";
}

template <typename T>
std::string CheckMoves(const std::string& group, size_t count) {
  const int w = GetWorldSize(group);
  const int me = GetRank(group);
  const ReduceOp op = ReduceOp::kSum;
  {
    const int root = static_cast<int>((count + 1) % static_cast<size_t>(w));
    std::vector<T> buf(count, T(-99));
    if (me == root) {
      for (size_t i = 0; i < count; ++i) buf[i] = Value<T>(root, i, op);
    }
    Broadcast(buf, root, group);
    for (size_t i = 0; i < count; ++i) {
      if (buf[i] != Value<T>(root, i, op)) {
        return Mismatch("Broadcast", count, op, i, buf[i], Value<T>(root, i, op));
      }
    }
  }
  {
    std::vector<T> send(count);
    for (size_t i = 0; i < count; ++i) send[i] = Value<T>(me, i, op);
    std::vector<T> recv = AllGather(std::span<const T>(send), group);
    for (int m = 0; m < w; ++m) {
      for (size_t i = 0; i < count; ++i) {
        T got = recv[static_cast<size_t>(m) * count + i];
        if (got != Value<T>(m, i, op)) {
          return Mismatch("AllGather", count, op, static_cast<size_t>(m) * count + i, got,
                          Value<T>(m, i, op));
        }
      }
    }
  }
  Barrier(group);
  if (w > 1) {  // a ring of point-to-point messages, twice (ordering between one pair)
    for (int round = 0; round < 2; ++round) {
      std::vector<T> out(count);
      for (size_t i = 0; i < count; ++i) out[i] = Value<T>(me + round, i, op);
      std::vector<T> in(count, T(-99));
      const int src = (me + w - 1) % w;
      Work sent = SendAsync(std::span<const T>(out), (me + 1) % w, group);
      Recv(std::span<T>(in), src, group);
      sent.Wait();
      for (size_t i = 0; i < count; ++i) {
        if (in[i] != Value<T>(src + round, i, op)) {
          return Mismatch("Send/Recv", count, op, i, in[i], Value<T>(src + round, i, op));
        }
      }
    }
  }
  return "";
}

template <typename T>
std::string CheckType(const std::string& group, size_t count, bool all_ops) {
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kProduct, ReduceOp::kMin, ReduceOp::kMax}) {
    if (!all_ops && op != ReduceOp::kSum && op != ReduceOp::kMax) continue;
    if (std::string e = CheckOps<T>(group, count, op); !e.empty()) return e;
  }
  return CheckMoves<T>(group, count);
}

}  // namespace

std::string CheckAll(const std::string& group, const std::vector<int64_t>& counts, bool all_types) {
  try {
    for (int64_t c : counts) {
      auto count = static_cast<size_t>(c);
      if (std::string e = CheckType<float>(group, count, all_types); !e.empty()) return e;
      if (std::string e = CheckType<int32_t>(group, count, all_types); !e.empty()) return e;
      if (!all_types) continue;
      if (std::string e = CheckType<double>(group, count, true); !e.empty()) return e;
      if (std::string e = CheckType<int64_t>(group, count, true); !e.empty()) return e;
    }
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  }
  return "";
}

std::string CheckLarge(const std::string& group, int64_t bytes) {
  try {
    const size_t count = static_cast<size_t>(bytes) / sizeof(float);
    const int w = GetWorldSize(group);
    const int me = GetRank(group);
    {
      std::vector<float> buf(count);
      for (size_t i = 0; i < count; ++i) buf[i] = Value<float>(me, i, ReduceOp::kSum);
      AllReduce(buf, ReduceOp::kSum, group);
      for (size_t i = 0; i < count; ++i) {
        if (buf[i] != Reference<float>(w, i, ReduceOp::kSum)) {
          return Mismatch("AllReduce", count, ReduceOp::kSum, i, buf[i],
                          Reference<float>(w, i, ReduceOp::kSum));
        }
      }
    }
    if (std::string e = CheckMoves<float>(group, count / static_cast<size_t>(w)); !e.empty()) {
      return e;
    }
    {
      std::vector<float> buf(count, -1.0F);
      if (me == 0) {
        for (size_t i = 0; i < count; ++i) buf[i] = Value<float>(0, i, ReduceOp::kSum);
      }
      Broadcast(buf, 0, group);
      for (size_t i = 0; i < count; ++i) {
        if (buf[i] != Value<float>(0, i, ReduceOp::kSum)) {
          return Mismatch("Broadcast", count, ReduceOp::kSum, i, buf[i],
                          Value<float>(0, i, ReduceOp::kSum));
        }
      }
    }
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  }
  return "";
}

}  // namespace prism::collective::testing
