// One attention layer, forward + backward, in this process alone, so its peak memory can be
// read: bench_attention skew|naive|plain LENGTH [D_MODEL] [HEADS]. Prints one JSON line with
// the peak resident memory (getrusage), the resident memory before the first pass, and the
// median time of a forward + backward pass (batch 1, fp32, all cores).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bachgen/model/relative_attention.h"

static double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_attention skew|naive|plain LENGTH [D_MODEL] [HEADS]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const int64_t length = std::atoll(argv[2]);
  const int64_t d_model = argc > 3 ? std::atoll(argv[3]) : 512;
  const int64_t heads = argc > 4 ? std::atoll(argv[4]) : 8;
  torch::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  torch::manual_seed(0);
  bachgen::model::AttentionOptions o;
  o.d_model = d_model;
  o.heads = heads;
  o.max_relative = length;
  o.relative = mode != "plain";
  o.dropout = 0.0;
  bachgen::model::RelativeSelfAttention attention(o);
  const torch::Tensor x = torch::randn({1, length, d_model}, torch::requires_grad());
  const torch::Tensor w = torch::randn({1, length, d_model});
  const double before = peak_rss_mb();
  std::vector<double> times;
  try {
    for (int i = 0; i < 4; ++i) {
      const auto start = std::chrono::steady_clock::now();
      const torch::Tensor y = mode == "naive" ? attention->forward_naive(x) : attention(x);
      (y * w).sum().backward();
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      attention->zero_grad();
      x.mutable_grad() = torch::Tensor();
    }
  } catch (const std::exception& e) {
    std::printf("{\"mode\": \"%s\", \"length\": %lld, \"fits\": false, \"peak_rss_mb\": %.0f, \"error\": \"%s\"}\n",
                mode.c_str(), static_cast<long long>(length), peak_rss_mb(),
                std::string(e.what()).substr(0, std::string(e.what()).find('\n')).c_str());
    return 0;
  }
  times.erase(times.begin());  // the first pass warms up
  std::sort(times.begin(), times.end());
  std::printf("{\"mode\": \"%s\", \"length\": %lld, \"fits\": true, \"peak_rss_mb\": %.0f, "
              "\"before_mb\": %.0f, \"seconds\": %.4f}\n",
              mode.c_str(), static_cast<long long>(length), peak_rss_mb(), before, times[times.size() / 2]);
  return 0;
}
