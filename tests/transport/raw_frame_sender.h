#pragma once
// RawFrameSender: sends hand-made frames to other ranks' transports, bypassing Transport::Send,
// so that tests can check how a receiver treats frames that Transport itself never produces.
//
// It runs its own UCX worker and connects it to each peer's transport worker, whose address it
// reads from the record that Transport::Create gathered through the bootstrap (a host key
// string, then the worker address bytes; see transport/src/transport.cc).
//
//   RecordingBootstrap recording(*boot);
//   auto transport = Transport::Create(recording, options);
//   auto raw = RawFrameSender::Create(recording.first_gather(), rank);
//   (*raw)->Send(peer, header_bytes, payload_bytes);
//
// Thread contract: one thread at a time.

#include <memory>
#include <span>
#include <vector>

#include "prism/common/result.h"
#include "prism/transport/bootstrap.h"

namespace prism::test {

/// A Bootstrap that forwards to another one and keeps the result of the first AllGather.
class RecordingBootstrap final : public transport::Bootstrap {
 public:
  explicit RecordingBootstrap(transport::Bootstrap& inner) : inner_(inner) {}

  Rank rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  int local_rank() const override { return inner_.local_rank(); }
  int local_size() const override { return inner_.local_size(); }
  const std::vector<std::string>& hostnames() const override { return inner_.hostnames(); }
  std::string launcher() const override { return inner_.launcher(); }
  Result<transport::GatheredBytes> AllGather(std::span<const std::byte> mine) override;
  Result<std::vector<std::byte>> Broadcast(std::span<const std::byte> data, Rank root) override {
    return inner_.Broadcast(data, root);
  }
  Status Barrier(const std::function<void()>& progress) override {
    return inner_.Barrier(progress);
  }
  void Finalize() override { inner_.Finalize(); }
  void FinalizeForExit() override { inner_.FinalizeForExit(); }
  void Abandon() override { inner_.Abandon(); }

  /// What the first AllGather returned (empty before it).
  const transport::GatheredBytes& first_gather() const { return first_gather_; }

 private:
  transport::Bootstrap& inner_;
  transport::GatheredBytes first_gather_;
};

class RawFrameSender {
 public:
  static Result<std::unique_ptr<RawFrameSender>> Create(const transport::GatheredBytes& records,
                                                        Rank self);
  ~RawFrameSender();
  RawFrameSender(const RawFrameSender&) = delete;
  RawFrameSender& operator=(const RawFrameSender&) = delete;

  /// Sends one active message on the transport's AM id with `header` as the UCX AM header and
  /// `payload` as its data, and waits until UCX is done with both.
  Status Send(Rank peer, std::span<const std::byte> header, std::span<const std::byte> payload);

 private:
  RawFrameSender() = default;
  Status Connect(const transport::GatheredBytes& records, Rank self);

  void* context_ = nullptr;       // ucp_context_h
  void* worker_ = nullptr;        // ucp_worker_h
  std::vector<void*> endpoints_;  // ucp_ep_h by rank; null for self
};

}  // namespace prism::test
