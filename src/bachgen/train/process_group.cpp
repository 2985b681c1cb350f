// c10d process groups and the gradient bucketer.
#include "bachgen/train/process_group.h"

// ProcessGroupGloo.hpp compiles only with USE_C10D_GLOO; its gloo headers come from Debian's
// libgloo-dev (LibTorch ships the gloo library, not its headers).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#if defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <stdexcept>

namespace bachgen::train {

namespace {

// --- The version adapter -----------------------------------------------------------------
// LibTorch 1.13: ProcessGroupGloo / ProcessGroupNCCL derive from c10d::ProcessGroup (options:
// ProcessGroup::Options); 2.x: from c10d::Backend (Backend::Options), and a ProcessGroup wraps
// backends. Everything here uses the concrete classes directly (their constructors, Options::
// create(timeout), allreduce/broadcast answering a c10d::Work, TCPStore(host, options)), which
// read the same in both, so the base-class difference never reaches our code. A change of
// those signatures in a later LibTorch belongs in this section.
static_assert(TORCH_VERSION_MAJOR >= 1 && (TORCH_VERSION_MAJOR > 1 || TORCH_VERSION_MINOR >= 13),
              "c10d as used here needs LibTorch 1.13 or later");
using GlooGroup = c10d::ProcessGroupGloo;
using WorkPtr = c10::intrusive_ptr<c10d::Work>;

std::shared_ptr<::gloo::transport::Device> gloo_device(const DistEnv& env) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
    return GlooGroup::createDeviceForInterface(ifname);
  }
  const bool loopback = env.master_addr == "localhost" || env.master_addr.rfind("127.", 0) == 0;
  return loopback ? GlooGroup::createDeviceForHostname("127.0.0.1") : GlooGroup::createDefaultDevice();
}
// -------------------------------------------------------------------------------------------

template <typename Group>
class C10dGroup : public ProcessGroup {
 public:
  C10dGroup(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group, int rank, int size)
      : store_(std::move(store)), group_(std::move(group)), rank_(rank), size_(size) {}

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }

  class Work : public Pending {
   public:
    Work(WorkPtr work, std::vector<at::Tensor> tensors) : work_(std::move(work)), tensors_(std::move(tensors)) {}
    void wait() override { work_->wait(); }

   private:
    WorkPtr work_;
    std::vector<at::Tensor> tensors_;  // kept alive until the collective is done
  };

  std::unique_ptr<Pending> allreduce_sum(torch::Tensor tensor) override {
    std::vector<at::Tensor> tensors = {tensor};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    WorkPtr work = group_->allreduce(tensors, options);
    return std::make_unique<Work>(std::move(work), std::move(tensors));
  }

  void broadcast(torch::Tensor tensor, int root) override {
    std::vector<at::Tensor> tensors = {tensor};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    group_->broadcast(tensors, options)->wait();
  }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Group> group_;
  int rank_, size_;
};

}  // namespace

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const DistEnv& env, bool cuda, std::chrono::milliseconds timeout) {
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(env.master_port);
    options.isServer = env.rank == 0;
    options.numWorkers = static_cast<size_t>(env.world_size);
    options.waitWorkers = true;
    options.timeout = timeout;
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + ": cannot meet the other " + std::to_string(env.world_size - 1) +
                             " process(es) at " + env.master_addr + ":" + std::to_string(env.master_port) + " (MASTER_ADDR:MASTER_PORT): " + e.what());
  }
  if (cuda) {
#if defined(USE_C10D_NCCL)
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
    return std::make_unique<C10dGroup<c10d::ProcessGroupNCCL>>(store, group, env.rank, env.world_size);
#else
    throw std::runtime_error("--device cuda with several processes needs a LibTorch built with NCCL (USE_C10D_NCCL); this one has none");
#endif
  }
  try {
    auto options = GlooGroup::Options::create(timeout);
    options->devices.push_back(gloo_device(env));
    auto group = c10::make_intrusive<GlooGroup>(store, env.rank, env.world_size, options);
    return std::make_unique<C10dGroup<GlooGroup>>(store, group, env.rank, env.world_size);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + ": the gloo process group did not form: " + e.what());
  }
}

// --- GradientBucketer ----------------------------------------------------------------------

GradientBucketer::GradientBucketer(ProcessGroup& group, std::vector<torch::Tensor> parameters, size_t bucket_bytes, bool overlap)
    : group_(group), parameters_(std::move(parameters)), overlap_(overlap) {
  const size_t n = parameters_.size();
  bucket_of_.resize(n);
  offset_of_.resize(n);
  arrived_.assign(n, false);
  size_t filled = 0;
  for (size_t k = n; k-- > 0;) {  // backward produces the last parameters' gradients first
    if (buckets_.empty() || filled >= bucket_bytes) {
      buckets_.emplace_back();
      filled = 0;
    }
    Bucket& b = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    offset_of_[k] = filled / sizeof(float);
    b.members.push_back(k);
    filled += static_cast<size_t>(parameters_[k].numel()) * sizeof(float);
    if (k == 0 || filled >= bucket_bytes) {
      b.flat = torch::zeros({static_cast<int64_t>(filled / sizeof(float))},
                            torch::TensorOptions().dtype(torch::kFloat32).device(parameters_[k].device()));
    }
  }
  if (overlap_) {
    for (size_t k = 0; k < n; ++k) {
      hooks_.push_back(parameters_[k].register_hook([this, k](const torch::Tensor& grad) { on_gradient(k, grad); }));
    }
  }
}

GradientBucketer::~GradientBucketer() {
  for (size_t k = 0; k < hooks_.size(); ++k) parameters_[k].remove_hook(hooks_[k]);
}

void GradientBucketer::arm() {
  armed_ = true;
  std::fill(arrived_.begin(), arrived_.end(), false);
  for (Bucket& b : buckets_) {
    b.pending = b.members.size();
    b.work.reset();
  }
}

void GradientBucketer::on_gradient(size_t k, const torch::Tensor& grad) {
  if (!armed_ || arrived_[k]) return;
  arrived_[k] = true;
  Bucket& b = buckets_[bucket_of_[k]];
  torch::Tensor slice = b.flat.narrow(0, static_cast<int64_t>(offset_of_[k]), parameters_[k].numel());
  const torch::Tensor& earlier = parameters_[k].grad();  // earlier micro-batches of this step
  if (earlier.defined()) {
    slice.copy_((earlier + grad).reshape(-1));
  } else {
    slice.copy_(grad.reshape(-1));
  }
  if (--b.pending == 0) launch(b);
}

void GradientBucketer::launch(Bucket& b) { b.work = group_.allreduce_sum(b.flat); }

CommStats GradientBucketer::finish() {
  const auto start = std::chrono::steady_clock::now();
  CommStats stats;
  for (Bucket& b : buckets_) {
    if (b.work) continue;
    // Without overlap, or for parameters that got no gradient this step: take .grad as it is.
    for (size_t k : b.members) {
      if (arrived_[k]) continue;
      arrived_[k] = true;
      torch::Tensor slice = b.flat.narrow(0, static_cast<int64_t>(offset_of_[k]), parameters_[k].numel());
      const torch::Tensor& g = parameters_[k].grad();
      if (g.defined()) {
        slice.copy_(g.reshape(-1));
      } else {
        slice.zero_();
      }
    }
    launch(b);
  }
  for (Bucket& b : buckets_) {
    b.work->wait();
    b.work.reset();
    ++stats.buckets;
    stats.bytes += b.flat.numel() * static_cast<int64_t>(sizeof(float));
  }
  stats.exposed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (size_t k = 0; k < parameters_.size(); ++k) {
    torch::Tensor& p = parameters_[k];
    const torch::Tensor sum = buckets_[bucket_of_[k]].flat.narrow(0, static_cast<int64_t>(offset_of_[k]), p.numel()).view_as(p);
    if (p.grad().defined()) {
      p.mutable_grad().copy_(sum);
    } else {
      p.mutable_grad() = sum.clone();
    }
  }
  armed_ = false;
  return stats;
}

}  // namespace bachgen::train
