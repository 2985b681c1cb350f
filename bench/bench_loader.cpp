// Data loader throughput: tokens per second delivered by the window loader over a prepared
// shard, with 0, 1 and 2 worker threads (batch 16 x 256 tokens, augmentation on).
//   bench_loader SHARD [--min-seconds S]
// Prints one JSON line per worker count.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "bachgen/data/token_dataset.h"

using namespace bachgen;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_loader SHARD [--min-seconds S]\n");
    return 2;
  }
  const double min_seconds = argc >= 4 ? std::atof(argv[3]) : 2.0;
  auto shard = std::make_shared<const data::TokenShard>(data::read_shard(argv[1]));
  torch::set_num_threads(1);
  for (size_t workers : {0, 1, 2}) {
    data::WindowOptions o;
    o.length = 256;
    o.seed = 1;
    o.examples_per_epoch = 1u << 30;  // effectively endless: we stop on time
    auto loader = torch::data::make_data_loader(
        data::WindowDataset(shard, o), torch::data::samplers::SequentialSampler(o.examples_per_epoch),
        torch::data::DataLoaderOptions().batch_size(16).workers(workers));
    size_t tokens = 0, batches = 0;
    const auto start = std::chrono::steady_clock::now();
    double seconds = 0;
    for (data::TokenBatch& b : *loader) {
      tokens += static_cast<size_t>(b.input.numel());
      ++batches;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (seconds >= min_seconds && batches >= 20) break;
    }
    std::printf("{\"workers\": %zu, \"batches\": %zu, \"seconds\": %.3f, \"tokens_per_second\": %.0f}\n",
                workers, batches, seconds, tokens / seconds);
    std::fflush(stdout);
  }
  return 0;
}
