// Collectives for data-parallel training on PyTorch's c10d: a TCPStore rendezvous and
// ProcessGroupGloo on the CPU (ProcessGroupNCCL in CUDA builds that have it), and a gradient
// bucketer that all-reduces buckets of gradients while the backward pass is still running
// (gradient hooks), as DistributedDataParallel does. The c10d API differs between LibTorch
// 1.13 and 2.x only in a few lines, kept together in process_group.cpp. docs/distributed.md.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <vector>

#include "bachgen/train/distributed.h"

namespace bachgen::train {

class ProcessGroup {
 public:
  // Rendezvous at MASTER_ADDR:MASTER_PORT (rank 0 runs the TCPStore); `timeout` bounds every
  // collective, so a peer that vanishes is an error, not a hang. Throws std::runtime_error.
  static std::unique_ptr<ProcessGroup> connect(const DistEnv& env, bool cuda, std::chrono::milliseconds timeout);
  virtual ~ProcessGroup() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // A started all-reduce (sum, in place); wait() returns once `tensor` holds the sum.
  class Pending {
   public:
    virtual ~Pending() = default;
    virtual void wait() = 0;
  };
  virtual std::unique_ptr<Pending> allreduce_sum(torch::Tensor tensor) = 0;
  virtual void broadcast(torch::Tensor tensor, int root) = 0;
};

// What the bucketer measured in one step.
struct CommStats {
  double exposed_seconds = 0;  // waiting for all-reduces after the backward pass ended
  int64_t buckets = 0;
  int64_t bytes = 0;
};

// Sums the gradients of `parameters` over the ranks. With overlap, each bucket (about
// `bucket_bytes`, filled in reverse parameter order, the order a backward pass produces them)
// is all-reduced as soon as its last gradient arrives; without, all buckets after the backward
// pass. Gradients of earlier micro-batches (accumulation) are included.
class GradientBucketer {
 public:
  GradientBucketer(ProcessGroup& group, std::vector<torch::Tensor> parameters, size_t bucket_bytes, bool overlap);
  ~GradientBucketer();  // removes its hooks: the parameters may outlive it
  GradientBucketer(const GradientBucketer&) = delete;
  GradientBucketer& operator=(const GradientBucketer&) = delete;
  // Call before the step's last backward pass.
  void arm();
  // Call after it: waits for the sums and writes them into each parameter's .grad.
  CommStats finish();

 private:
  struct Bucket {
    std::vector<size_t> members;  // parameter indices
    torch::Tensor flat;           // fp32, the members' gradients end to end
    size_t pending = 0;
    std::unique_ptr<ProcessGroup::Pending> work;
  };
  void on_gradient(size_t index, const torch::Tensor& grad);
  void launch(Bucket& bucket);

  ProcessGroup& group_;
  std::vector<torch::Tensor> parameters_;
  std::vector<size_t> bucket_of_, offset_of_;
  std::vector<Bucket> buckets_;
  std::vector<bool> arrived_;
  std::vector<unsigned> hooks_;  // per parameter, when overlapping
  bool overlap_;
  bool armed_ = false;
};

}  // namespace bachgen::train
