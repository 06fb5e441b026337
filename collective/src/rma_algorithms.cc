#include "rma_algorithms.h"

#include <fmt/format.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "prism/common/logging.h"
#include "prism/common/wire.h"
#include "prism/transport/memory_region.h"
#include "prism/transport/transport.h"
#include "reduce_kernels.h"
#include "segments.h"

namespace prism::collective {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("collective");
  return logger;
}

// Steps of one operation (message tags).
constexpr uint32_t kTagDescriptor = 0;  // address, size, packed rkey, pid of a member's buffer
constexpr uint32_t kTagFinal = 1;       // AllReduce: the sender's segment is reduced
constexpr uint32_t kTagDone = 2;        // the sender finished reading the receiver's buffer

// A descriptor travels in a fixed-size message (receives are posted with exact sizes).
constexpr size_t kDescriptorBytes = 1024;
// AllReduce reads peers' segments in chunks this size (two fit in a core's L2 cache).
constexpr size_t kReduceChunkBytes = 256 * 1024;
// Plain copies are issued as gets of at most this size (all at once), or read in such pieces.
constexpr size_t kCopyPieceBytes = 8 * 1024 * 1024;

// The descriptor's fixed fields: address, size, key length, pid, token address, token.
constexpr size_t kDescriptorFixedBytes = 8 + 8 + 4 + 4 + 8 + 8;

using Descriptor = std::array<std::byte, kDescriptorBytes>;

// A member's buffer as another member's descriptor described it.
struct PeerBuffer {
  uint64_t address = 0;
  uint64_t size = 0;
  std::vector<std::byte> rkey;
  uint32_t pid = 0;  // the owner's process id (0: not offered for process_vm_readv)
  uint64_t token_address = 0;
  uint64_t token = 0;
};

// A random value at a fixed address of this process. Descriptors carry its address and value; a
// member that reads the value back from the descriptor's pid with process_vm_readv knows the pid
// names the sender's process (and not another one, as it could in a different pid namespace).
const uint64_t& ProcessToken() {
  static const uint64_t token = [] {
    std::random_device rd;
    uint64_t t = (uint64_t{rd()} << 32) | rd();
    return t == 0 ? 1 : t;
  }();
  return token;
}

// Reads `size` bytes at `address` of process `pid` into `local` with process_vm_readv: the kernel
// copies them once, on this thread (Linux cross-memory attach).
Status CmaRead(uint32_t pid, uint64_t address, std::byte* local, size_t size) {
  size_t done = 0;
  while (done < size) {
    iovec to{local + done, size - done};
    iovec from{reinterpret_cast<void*>(address + done), size - done};
    ssize_t n = process_vm_readv(static_cast<pid_t>(pid), &to, 1, &from, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      return MakeError(ErrorCode::kIoError,
                       fmt::format("process_vm_readv of {} bytes at {:#x} of process {}: {}",
                                   size - done, address + done, pid, std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// This member's buffer, registered and announced to the members in `to`.
Result<std::unique_ptr<transport::MemoryRegion>> ExposeBuffer(Member& m, HostOp& hop,
                                                              const void* buffer, size_t bytes,
                                                              const std::vector<int>& to) {
  auto region = m.transport().RegisterMemory(const_cast<void*>(buffer), bytes);
  Status exposed;
  if (!region) {
    exposed = MakeError(region.error().code, fmt::format("registering {} bytes for RMA: {}", bytes,
                                                         region.error().message));
  } else if ((*region)->rkey().size() + kDescriptorFixedBytes > kDescriptorBytes) {
    exposed =
        MakeError(ErrorCode::kInternal,
                  fmt::format("the packed remote key takes {} bytes, more than the {} a "
                              "descriptor holds",
                              (*region)->rkey().size(), kDescriptorBytes - kDescriptorFixedBytes));
  }
  // A member that cannot expose its buffer still sends a descriptor (without a key), so that the
  // others fail at once instead of waiting for it.
  std::vector<std::byte> out;
  out.reserve(kDescriptorBytes);
  WireWriter w(out);
  w.U64(exposed ? (*region)->address() : 0);
  w.U64(bytes);
  w.Bytes(exposed ? (*region)->rkey() : std::span<const std::byte>());
  w.U32(static_cast<uint32_t>(::getpid()));
  w.U64(reinterpret_cast<uint64_t>(&ProcessToken()));
  w.U64(ProcessToken());
  out.resize(kDescriptorBytes);
  for (int j : to) {
    if (Status s = hop.Send(j, kTagDescriptor, out.data(), out.size()); !s) return s.error();
  }
  if (!exposed) return exposed.error();
  return std::move(*region);
}

// Waits for member `j`'s descriptor and decodes it; its buffer must hold `expected` bytes.
Status DecodeDescriptor(HostOp& hop, const std::shared_ptr<RecvOp>& op, const Descriptor& raw,
                        int j, size_t expected, PeerBuffer* out) {
  if (Status s = hop.Wait(op); !s) return s;
  WireReader r(raw);
  out->address = r.U64();
  out->size = r.U64();
  auto rkey = r.Bytes();
  out->pid = r.U32();
  out->token_address = r.U64();
  out->token = r.U64();
  if (!r.ok()) {
    return MakeError(ErrorCode::kMalformed,
                     fmt::format("member {} sent a malformed buffer descriptor", j));
  }
  if (rkey.empty()) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("member {} could not expose its buffer for RMA", j));
  }
  if (out->size != expected) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("member {} has {} bytes where member {} has {}: the members' "
                                 "arguments differ",
                                 j, out->size, hop.member().rank(), expected));
  }
  out->rkey.assign(rkey.begin(), rkey.end());
  return Status::Ok();
}

// One RMA operation: its messages (descriptors in, one-byte notices kTagFinal / kTagDone both
// ways), the gets it issued, and this member's exposed buffer. A notice says whether its sender
// is still on course; a member that fails says so in every notice it still owed, so nobody waits
// for it. The receive buffers are members declared before the HostOp, so they outlive its
// withdrawal of pending receives.
//
// Ending early (Fail) is careful about memory: the gets this member issued write into its buffers
// and must be finished first; and its exposed buffer may still be read by members that have not
// noticed the failure yet (UCX 1.13 serves these gets in software from the target's own progress,
// which would read freed memory here, not fail the reader as a CMA read would). So
// Fail waits for every other member's kTagDone notice, and when a member died (its notices never
// come) for a grace period in which the others notice the death.
class RmaOp {
 public:
  explicit RmaOp(Member& m)
      : m_(m),
        w_(static_cast<size_t>(m.world_size())),
        raw_(w_),
        desc_(w_),
        peers_(w_),
        notice_{std::vector<uint8_t>(w_), std::vector<uint8_t>(w_)},
        notice_in_{std::vector<std::shared_ptr<RecvOp>>(w_),
                   std::vector<std::shared_ptr<RecvOp>>(w_)},
        notice_sent_{std::vector<bool>(w_), std::vector<bool>(w_)},
        hop_(m, m.NextSeq()) {
    for (int i = 1; i < m.world_size(); ++i) others_.push_back((m.rank() + i) % m.world_size());
  }

  Member& m() { return m_; }
  const std::vector<int>& others() const { return others_; }
  const PeerBuffer& peer(int j) const { return peers_[static_cast<size_t>(j)]; }

  /// Registers [buffer, buffer + bytes) and sends its descriptor to every other member.
  Status Expose(const void* buffer, size_t bytes) {
    auto region = ExposeBuffer(m_, hop_, buffer, bytes, others_);
    if (!region) return region.error();
    region_ = std::move(*region);
    return Status::Ok();
  }
  void PostDescriptor(int j) {
    auto u = static_cast<size_t>(j);
    desc_[u] = hop_.Recv(j, kTagDescriptor, raw_[u].data(), kDescriptorBytes);
  }
  /// Waits for member j's descriptor; on the first one of the incarnation, also finds out
  /// whether this member can read j's buffers with process_vm_readv (see Probe).
  Status ReadDescriptor(int j, size_t expected) {
    auto u = static_cast<size_t>(j);
    if (Status s = DecodeDescriptor(hop_, desc_[u], raw_[u], j, expected, &peers_[u]); !s) {
      return s;
    }
    if (m_.peer_read(j) == Member::PeerRead::kUnknown) Probe(j);
    return Status::Ok();
  }
  /// True when member j's buffers are read with process_vm_readv rather than RMA gets.
  bool Cma(int j) const { return m_.peer_read(j) == Member::PeerRead::kCma; }
  void PostNotice(int j, uint32_t tag) {
    auto u = static_cast<size_t>(j);
    notice_in_[tag - kTagFinal][u] = hop_.Recv(j, tag, &notice_[tag - kTagFinal][u], 1);
    uses_[tag - kTagFinal] = true;  // the operations are symmetric: they send what they receive
  }
  Status SendNotice(int j, uint32_t tag, bool ok = true) {
    notice_sent_[tag - kTagFinal][static_cast<size_t>(j)] = true;
    uint8_t flag = ok ? kOnCourse : kFailed;
    return hop_.Send(j, tag, &flag, 1);
  }
  Status WaitNotice(int j, uint32_t tag) {
    auto u = static_cast<size_t>(j);
    if (Status s = hop_.Wait(notice_in_[tag - kTagFinal][u]); !s) return s;
    if (notice_[tag - kTagFinal][u] != kOnCourse) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       fmt::format("member {} failed this operation (see its error)", j));
    }
    return Status::Ok();
  }

  /// Reads `size` bytes at `offset` of member j's buffer into `local`.
  std::shared_ptr<SendOp> Get(int j, size_t offset, std::byte* local, size_t size) {
    const PeerBuffer& p = peers_[static_cast<size_t>(j)];
    auto op = m_.Get(j, p.address + offset, p.rkey, local, size);
    gets_.emplace_back(j, op);
    return op;
  }
  /// Reads `size` bytes at `offset` of member j's buffer into `local` now, with
  /// process_vm_readv (only when Cma(j)).
  Status Read(int j, size_t offset, std::byte* local, size_t size) {
    const PeerBuffer& p = peers_[static_cast<size_t>(j)];
    if (Status s = CmaRead(p.pid, p.address + offset, local, size); !s) {
      return MakeError(s.code(),
                       fmt::format("reading member {}'s buffer: {}", j, s.error().message));
    }
    return Status::Ok();
  }
  /// [offset, offset + bytes) of member j's buffer into `local`, in pieces: read at once with
  /// process_vm_readv when Cma(j), else issued as gets (WaitGets waits for them).
  Status Copy(int j, size_t offset, std::byte* local, size_t bytes) {
    for (size_t at = 0; at < bytes; at += kCopyPieceBytes) {
      size_t n = std::min(kCopyPieceBytes, bytes - at);
      if (Cma(j)) {
        if (Status s = Read(j, offset + at, local + at, n); !s) return s;
      } else {
        Get(j, offset + at, local + at, n);
      }
    }
    return Status::Ok();
  }
  Status WaitGet(const std::shared_ptr<SendOp>& op, int j) {
    if (!op->done.load(std::memory_order_acquire)) {
      if (Status s = m_.WaitFor([&] { return op->done.load(std::memory_order_acquire); }); !s) {
        return s;
      }
    }
    if (!op->status) {
      return MakeError(op->status.code(), fmt::format("reading member {}'s buffer: {}", j,
                                                      op->status.error().message));
    }
    return Status::Ok();
  }
  /// Waits for every get issued so far.
  Status WaitGets() {
    for (auto& [j, op] : gets_) {
      if (Status s = WaitGet(op, j); !s) return s;
    }
    gets_.clear();
    return Status::Ok();
  }

  /// Waits for every notice posted and every send: the end of a successful operation.
  Status Finish() {
    for (int j : others_) {
      for (uint32_t tag : {kTagFinal, kTagDone}) {
        if (notice_in_[tag - kTagFinal][static_cast<size_t>(j)]) {
          if (Status s = WaitNotice(j, tag); !s) return Fail(s);
        }
      }
    }
    if (Status s = hop_.WaitAll(); !s) return Fail(s);
    return Status::Ok();
  }

  /// Ends the operation early with `why` (see the class comment).
  Status Fail(Status why) {
    for (int j : others_) {
      for (uint32_t tag : {kTagFinal, kTagDone}) {
        if (uses_[tag - kTagFinal] && !notice_sent_[tag - kTagFinal][static_cast<size_t>(j)]) {
          (void)SendNotice(j, tag, /*ok=*/false);
        }
      }
    }
    m_.Drain(
        [&] {
          return std::all_of(gets_.begin(), gets_.end(), [](const auto& g) {
            return g.second->done.load(std::memory_order_acquire);
          });
        },
        kDrainNs);
    if (region_) {
      // (A failed group gets no more notices: the grace below stands in for them.)
      m_.Drain(
          [&] {
            return m_.failed() || std::all_of(others_.begin(), others_.end(), [&](int j) {
                     const auto& op = notice_in_[kTagDone - kTagFinal][static_cast<size_t>(j)];
                     return !op || op->done.load(std::memory_order_acquire);
                   });
          },
          kDrainNs);
      if (m_.failed()) m_.Drain([] { return false; }, kGraceNs);
    }
    return why;
  }

 private:
  // Reads member j's process token back through process_vm_readv: when that works and the value
  // matches the descriptor's, j's buffers are read that way from now on (one kernel copy instead
  // of UCX's two software copies); otherwise (EPERM under a restrictive ptrace_scope or in a
  // container without the capability, another pid namespace) with RMA gets, as before.
  void Probe(int j) {
    const PeerBuffer& p = peers_[static_cast<size_t>(j)];
    uint64_t token = 0;
    Status s = p.pid == 0 ? MakeError(ErrorCode::kFailedPrecondition, "no process id offered")
                          : CmaRead(p.pid, p.token_address, reinterpret_cast<std::byte*>(&token),
                                    sizeof token);
    if (s && token != p.token) {
      s = MakeError(
          ErrorCode::kFailedPrecondition,
          fmt::format("process {} is not member {}'s process here (token differs)", p.pid, j));
    }
    m_.set_peer_read(j, s ? Member::PeerRead::kCma : Member::PeerRead::kRma);
    if (s) {
      Log().debug("group '{}' member {}: reads member {}'s buffers with process_vm_readv (pid {})",
                  m_.name(), m_.rank(), j, p.pid);
    } else {
      Log().debug("group '{}' member {}: reads member {}'s buffers with RMA gets ({})", m_.name(),
                  m_.rank(), j, s.error().message);
    }
  }

  static constexpr uint8_t kOnCourse = 1;
  static constexpr uint8_t kFailed = 2;
  // Longest wait for gets and notices when ending early, and the grace after a member died.
  static constexpr int64_t kDrainNs = 10'000'000'000;
  static constexpr int64_t kGraceNs = 300'000'000;

  Member& m_;
  const size_t w_;
  std::vector<int> others_;
  std::vector<Descriptor> raw_;
  std::vector<std::shared_ptr<RecvOp>> desc_;
  std::vector<PeerBuffer> peers_;
  std::vector<uint8_t> notice_[2];  // by tag - kTagFinal, then member
  std::vector<std::shared_ptr<RecvOp>> notice_in_[2];
  std::vector<bool> notice_sent_[2];
  bool uses_[2] = {false, false};
  std::vector<std::pair<int, std::shared_ptr<SendOp>>> gets_;
  std::unique_ptr<transport::MemoryRegion> region_;
  HostOp hop_;  // last: destroyed first, withdrawing receives into the buffers above
};

}  // namespace

Status RmaAllReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op) {
  RmaOp rop(m);
  const int w = m.world_size();
  const int r = m.rank();
  const size_t es = DataTypeSize(type);
  const size_t bytes = count * es;
  auto* d = static_cast<std::byte*>(data);
  for (int j : rop.others()) {
    rop.PostDescriptor(j);
    rop.PostNotice(j, kTagFinal);
    rop.PostNotice(j, kTagDone);
  }
  if (Status s = rop.Expose(d, bytes); !s) return rop.Fail(s);

  // Phase 1: reduce segment r of every member into this buffer, chunk by chunk (the get of the
  // next chunk is issued before the current one is reduced).
  const Segments seg{count, w};
  const size_t mine = seg.start(r) * es;
  const size_t mine_len = seg.len(r) * es;
  const size_t chunk = std::max(es, kReduceChunkBytes - kReduceChunkBytes % es);
  const size_t chunks = (mine_len + chunk - 1) / chunk;
  std::byte* scratch[2] = {m.Scratch(0, chunk), m.Scratch(1, chunk)};
  for (int j : rop.others()) {
    if (Status s = rop.ReadDescriptor(j, bytes); !s) return rop.Fail(s);
    if (rop.Cma(j)) {
      // One kernel copy per chunk into the cache-hot scratch, reduced at once.
      for (size_t off = 0; off < mine_len; off += chunk) {
        size_t n = std::min(chunk, mine_len - off);
        if (Status s = rop.Read(j, mine + off, scratch[0], n); !s) return rop.Fail(s);
        ReduceElements(d + mine + off, d + mine + off, scratch[0], n / es, type, op);
      }
      continue;
    }
    auto get = [&](size_t k) {
      size_t off = k * chunk;
      return rop.Get(j, mine + off, scratch[k % 2], std::min(chunk, mine_len - off));
    };
    std::shared_ptr<SendOp> next = chunks > 0 ? get(0) : nullptr;
    for (size_t k = 0; k < chunks; ++k) {
      std::shared_ptr<SendOp> current = std::move(next);
      if (k + 1 < chunks) next = get(k + 1);
      if (Status s = rop.WaitGet(current, j); !s) return rop.Fail(s);
      size_t off = k * chunk;
      size_t n = std::min(chunk, mine_len - off);
      ReduceElements(d + mine + off, d + mine + off, scratch[k % 2], n / es, type, op);
    }
  }
  if (Status s = rop.WaitGets(); !s) return rop.Fail(s);
  for (int j : rop.others()) {
    if (Status s = rop.SendNotice(j, kTagFinal); !s) return rop.Fail(s);
  }

  // Phase 2: every other member's final segment, straight into place.
  for (int j : rop.others()) {
    if (Status s = rop.WaitNotice(j, kTagFinal); !s) return rop.Fail(s);
    size_t at = seg.start(j) * es;
    if (Status s = rop.Copy(j, at, d + at, seg.len(j) * es); !s) {
      return rop.Fail(s);
    }
  }
  if (Status s = rop.WaitGets(); !s) return rop.Fail(s);
  for (int j : rop.others()) {
    if (Status s = rop.SendNotice(j, kTagDone); !s) return rop.Fail(s);
  }
  return rop.Finish();  // every member finished reading this buffer
}

Status RmaBroadcast(Member& m, void* data, size_t bytes, int root) {
  RmaOp rop(m);
  if (m.rank() == root) {
    for (int j : rop.others()) rop.PostNotice(j, kTagDone);
    if (Status s = rop.Expose(data, bytes); !s) return rop.Fail(s);
    return rop.Finish();
  }
  // A non-root only reads: it owes the root one notice, and exposes nothing.
  rop.PostDescriptor(root);
  auto fail = [&](Status s) {
    (void)rop.SendNotice(root, kTagDone, /*ok=*/false);
    return rop.Fail(s);
  };
  if (Status s = rop.ReadDescriptor(root, bytes); !s) return fail(s);
  if (Status s = rop.Copy(root, 0, static_cast<std::byte*>(data), bytes); !s) {
    return fail(s);
  }
  if (Status s = rop.WaitGets(); !s) return fail(s);
  if (Status s = rop.SendNotice(root, kTagDone); !s) return rop.Fail(s);
  return rop.Finish();
}

Status RmaAllGather(Member& m, const void* send, void* recv, size_t bytes) {
  RmaOp rop(m);
  auto* out = static_cast<std::byte*>(recv);
  for (int j : rop.others()) {
    rop.PostDescriptor(j);
    rop.PostNotice(j, kTagDone);
  }
  if (Status s = rop.Expose(send, bytes); !s) return rop.Fail(s);
  for (int j : rop.others()) {
    if (Status s = rop.ReadDescriptor(j, bytes); !s) return rop.Fail(s);
    if (Status s = rop.Copy(j, 0, out + static_cast<size_t>(j) * bytes, bytes); !s) {
      return rop.Fail(s);
    }
  }
  std::byte* own = out + static_cast<size_t>(m.rank()) * bytes;
  if (own != send) std::memmove(own, send, bytes);
  if (Status s = rop.WaitGets(); !s) return rop.Fail(s);
  for (int j : rop.others()) {
    if (Status s = rop.SendNotice(j, kTagDone); !s) return rop.Fail(s);
  }
  return rop.Finish();
}

}  // namespace prism::collective
