#include "raw_frame_sender.h"

#include <ucp/api/ucp.h>

#include <string>

#include "prism/common/clock.h"
#include "prism/common/wire.h"

namespace prism::test {
namespace {

// The AM id that Transport registers its handler on (transport/src/transport.cc).
constexpr unsigned kTransportAmId = 0;
constexpr int64_t kSendTimeoutNs = 10'000'000'000;

Error UcxError(ucs_status_t status, const std::string& what) {
  return MakeError(ErrorCode::kInternal, what + ": " + ucs_status_string(status));
}

ucp_worker_h AsWorker(void* w) { return static_cast<ucp_worker_h>(w); }

// Progresses `worker` until `request` (from a *_nbx call) completes.
ucs_status_t Wait(ucp_worker_h worker, ucs_status_ptr_t request) {
  if (request == nullptr) return UCS_OK;
  if (UCS_PTR_IS_ERR(request)) return UCS_PTR_STATUS(request);
  int64_t deadline = NowNanos() + kSendTimeoutNs;
  ucs_status_t status;
  while ((status = ucp_request_check_status(request)) == UCS_INPROGRESS && NowNanos() < deadline) {
    ucp_worker_progress(worker);
  }
  if (status == UCS_INPROGRESS) return UCS_ERR_TIMED_OUT;  // leaked on purpose: UCX still owns it
  ucp_request_free(request);
  return status;
}

}  // namespace

Result<transport::GatheredBytes> RecordingBootstrap::AllGather(std::span<const std::byte> mine) {
  auto gathered = inner_.AllGather(mine);
  if (gathered.ok() && first_gather_.empty()) first_gather_ = *gathered;
  return gathered;
}

Result<std::unique_ptr<RawFrameSender>> RawFrameSender::Create(
    const transport::GatheredBytes& records, Rank self) {
  std::unique_ptr<RawFrameSender> sender(new RawFrameSender());
  if (Status s = sender->Connect(records, self); !s.ok()) return s.error();
  return sender;
}

Status RawFrameSender::Connect(const transport::GatheredBytes& records, Rank self) {
  if (records.empty())
    return MakeError(ErrorCode::kFailedPrecondition, "no bootstrap record to connect to");
  ucp_config_t* config = nullptr;
  ucs_status_t status = ucp_config_read(nullptr, nullptr, &config);
  if (status != UCS_OK) return UcxError(status, "ucp_config_read");
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES;
  params.features = UCP_FEATURE_AM;
  ucp_context_h context = nullptr;
  status = ucp_init(&params, config, &context);
  ucp_config_release(config);
  if (status != UCS_OK) return UcxError(status, "ucp_init");
  context_ = context;

  ucp_worker_params_t worker_params{};
  worker_params.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  worker_params.thread_mode = UCS_THREAD_MODE_SINGLE;
  ucp_worker_h worker = nullptr;
  status = ucp_worker_create(context, &worker_params, &worker);
  if (status != UCS_OK) return UcxError(status, "ucp_worker_create");
  worker_ = worker;

  endpoints_.assign(records.size(), nullptr);
  for (size_t r = 0; r < records.size(); ++r) {
    if (static_cast<Rank>(r) == self) continue;
    WireReader reader(records[r]);
    static_cast<void>(reader.String());  // host key
    auto address = reader.Bytes();
    if (!reader.AtEnd()) {
      return MakeError(ErrorCode::kMalformed,
                       "unexpected bootstrap record layout for rank " + std::to_string(r));
    }
    std::vector<std::byte> copy(address.begin(), address.end());
    ucp_ep_params_t ep_params{};
    ep_params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE;
    ep_params.address = reinterpret_cast<const ucp_address_t*>(copy.data());
    ep_params.err_mode = UCP_ERR_HANDLING_MODE_NONE;
    ucp_ep_h ep = nullptr;
    status = ucp_ep_create(worker, &ep_params, &ep);
    if (status != UCS_OK) return UcxError(status, "ucp_ep_create to rank " + std::to_string(r));
    endpoints_[r] = ep;
  }
  return Status::Ok();
}

Status RawFrameSender::Send(Rank peer, std::span<const std::byte> header,
                            std::span<const std::byte> payload) {
  if (peer < 0 || static_cast<size_t>(peer) >= endpoints_.size() || endpoints_[peer] == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "no raw endpoint to rank " + std::to_string(peer));
  }
  ucp_request_param_t rp{};
  rp.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  rp.flags = UCP_AM_SEND_FLAG_EAGER;
  ucs_status_ptr_t request =
      ucp_am_send_nbx(static_cast<ucp_ep_h>(endpoints_[peer]), kTransportAmId, header.data(),
                      header.size(), payload.data(), payload.size(), &rp);
  ucs_status_t status = Wait(AsWorker(worker_), request);
  if (status != UCS_OK)
    return UcxError(status, "raw ucp_am_send_nbx to rank " + std::to_string(peer));
  // Flush, so that the frame has left before the caller goes on.
  ucp_request_param_t flush_params{};
  status = Wait(AsWorker(worker_),
                ucp_ep_flush_nbx(static_cast<ucp_ep_h>(endpoints_[peer]), &flush_params));
  if (status != UCS_OK)
    return UcxError(status, "raw ucp_ep_flush_nbx to rank " + std::to_string(peer));
  return Status::Ok();
}

RawFrameSender::~RawFrameSender() {
  ucp_worker_h worker = AsWorker(worker_);
  for (void* ep : endpoints_) {
    if (ep == nullptr) continue;
    ucp_request_param_t rp{};
    static_cast<void>(Wait(worker, ucp_ep_close_nbx(static_cast<ucp_ep_h>(ep), &rp)));
  }
  if (worker != nullptr) ucp_worker_destroy(worker);
  if (context_ != nullptr) ucp_cleanup(static_cast<ucp_context_h>(context_));
}

}  // namespace prism::test
