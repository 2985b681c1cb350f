// Training throughput of `bachgen train` beside the Python PyTorch peer
// (bench/python/train_throughput.py: the same model math, batch, window, threads and
// precision), run alternately in one process tree, plus model FLOPs utilization against this
// machine's measured matmul peak. Prints one JSON line per case.
//
//   bench_train --data DIR --preset jsb-small --batch 16 --length 256 --precision fp32
//               --steps 10 --warmup 2 --rounds 2 --python bench/python/train_throughput.py
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "bachgen/io/files.h"
#include "bachgen/model/model_file.h"
#include "bachgen/runtime/allocator.h"
#include "bachgen/runtime/cpu_features.h"
#include "bachgen/runtime/torch_runtime.h"
#include "bachgen/train/trainer.h"

using nlohmann::json;

namespace {

// Best of a few timed C = A B products of n x n matrices: GFLOP/s.
double matmul_peak_gflops(torch::ScalarType dtype, int64_t n) {
  const torch::Tensor a = torch::randn({n, n}).to(dtype), b = torch::randn({n, n}).to(dtype);
  torch::Tensor c = torch::mm(a, b);  // warm-up
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    c = torch::mm(a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * n * n * n / s / 1e9);
  }
  return best;
}

// bachgen's trainer for warmup + steps steps; tokens/s over the timed steps, from the
// per-step `seconds` and `tokens` of metrics.jsonl (the final validation is not counted).
json run_bachgen(const bachgen::train::TrainSettings& base, int64_t warmup, int round) {
  bachgen::train::TrainSettings s = base;
  s.out = base.out + "/round" + std::to_string(round);
  std::system(("rm -rf '" + s.out + "'").c_str());
  s.steps = warmup + base.steps;
  bachgen::train::train_model(s);
  std::ifstream in(s.out + "/metrics.jsonl");
  double t0 = 0, t1 = 0, tokens = 0, first = 0, last = 0;
  for (std::string line; std::getline(in, line);) {
    const json j = json::parse(line);
    if (!j.contains("loss")) continue;
    const int64_t step = j["step"];
    if (step == 1) first = j["loss"];
    if (step == warmup) t0 = j["seconds"];
    if (step > warmup) {
      tokens += j["tokens"].get<double>();
      t1 = j["seconds"];
      last = j["loss"];
    }
  }
  return {{"peer", "bachgen"}, {"tokens_per_second", tokens / (t1 - t0)}, {"seconds_per_step", (t1 - t0) / base.steps},
          {"first_loss", first}, {"last_loss", last}};
}

json run_python(const std::string& script, const std::string& shard, const bachgen::train::TrainSettings& s,
                int64_t warmup, int threads, bool tuned_malloc) {
  // The peer gets the same malloc settings as bachgen (runtime/allocator.h) unless asked not to,
  // so that the ratio compares the training code, not the allocator.
  const std::string env = tuned_malloc ? "MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864 " : "";
  const std::string command = env + "/usr/bin/python3 '" + script + "' --shard '" + shard + "' --preset " + s.preset +
                              " --batch " + std::to_string(s.batch) + " --length " + std::to_string(s.length) +
                              " --threads " + std::to_string(threads) + " --precision " + s.precision +
                              " --steps " + std::to_string(s.steps) + " --warmup-steps " + std::to_string(warmup);
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  std::string out;
  std::array<char, 4096> buffer;
  for (size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) out.append(buffer.data(), n);
  if (pclose(pipe) != 0) throw std::runtime_error("failed: " + command);
  return json::parse(out.substr(out.rfind('{')));
}

}  // namespace

int main(int argc, char** argv) {
  const bachgen::runtime::AllocatorTuning allocator = bachgen::runtime::keep_large_allocations();
  bachgen::train::TrainSettings s;
  s.preset = "jsb-small";
  s.steps = 10;
  s.precision = "fp32";
  s.eval_every = 0;
  s.checkpoint_every = 0;
  s.quiet = true;
  s.workers = 1;
  int64_t warmup = 2;
  int rounds = 2;
  std::string python = "bench/python/train_throughput.py";
  std::string peer_malloc = "same";
  s.out = "build/bench-data/train-runs";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--data") s.data = v;
    else if (k == "--preset") s.preset = v;
    else if (k == "--batch") s.batch = std::stoll(v);
    else if (k == "--length") s.length = std::stoll(v);
    else if (k == "--precision") s.precision = v;
    else if (k == "--steps") s.steps = std::stoll(v);
    else if (k == "--warmup") warmup = std::stoll(v);
    else if (k == "--rounds") rounds = std::stoi(v);
    else if (k == "--python") python = v;
    else if (k == "--peer-malloc" && (v == "same" || v == "default")) peer_malloc = v;
    else if (k == "--out") s.out = v;
    else {
      std::fprintf(stderr, "bench_train: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (s.data.empty()) {
    std::fprintf(stderr, "usage: bench_train --data DIR [--preset P --batch B --length L --precision fp32|bf16 "
                         "--peer-malloc same|default ...]\n");
    return 2;
  }
  const int threads = bachgen::runtime::set_threads(0);
  const bachgen::runtime::CpuInfo cpu = bachgen::runtime::detect_cpu();
  const bachgen::model::ModelSpec spec = bachgen::model::preset(s.preset, "satb16");
  // Training FLOPs per token: forward + backward = 3 x the forward's 2 x multiply-adds.
  const double flops_per_token = 3.0 * 2.0 * bachgen::model::forward_macs_per_token(spec, s.length);
  const double peak = matmul_peak_gflops(s.precision == "bf16" ? torch::kBFloat16 : torch::kFloat32, 1024);
  bachgen::io::make_directories(s.out);
  json best_ours, best_theirs;
  for (int r = 0; r < rounds; ++r) {  // alternate, so that both see the same machine state
    const json ours = run_bachgen(s, warmup, r);
    const json theirs = run_python(python, s.data + "/train.tokens", s, warmup, threads,
                                     allocator.applied && peer_malloc == "same");
    if (best_ours.is_null() || ours["tokens_per_second"] > best_ours["tokens_per_second"]) best_ours = ours;
    if (best_theirs.is_null() || theirs["tokens_per_second"] > best_theirs["tokens_per_second"]) best_theirs = theirs;
  }
  for (json* j : {&best_ours, &best_theirs}) {
    const double tps = (*j)["tokens_per_second"];
    (*j)["mfu"] = tps * flops_per_token / (peak * 1e9);
  }
  const json result = {{"cpu", cpu.model_name + " (" + cpu.feature_list() + ")"},
                       {"threads", threads},
                       {"malloc", allocator.applied ? "large buffers kept in the heap" : "glibc defaults"},
                       {"peer_malloc", allocator.applied && peer_malloc == "same" ? "same as bachgen" : "glibc defaults"},
                       {"preset", s.preset},
                       {"batch", s.batch},
                       {"length", s.length},
                       {"precision", s.precision},
                       {"gflops_per_token", flops_per_token / 1e9},
                       {"matmul_peak_gflops", peak},
                       {"bachgen", best_ours},
                       {"python", best_theirs},
                       {"ratio", best_ours["tokens_per_second"].get<double>() / best_theirs["tokens_per_second"].get<double>()}};
  std::printf("%s\n", result.dump().c_str());
  return 0;
}
