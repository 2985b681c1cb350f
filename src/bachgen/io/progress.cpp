// Progress bar and plain progress lines.
#include "bachgen/io/progress.h"

#include <unistd.h>

#include <algorithm>

namespace bachgen::io {

std::string format_duration(double seconds) {
  const long long total = seconds <= 0 ? 0 : static_cast<long long>(seconds + 0.5);
  char text[48];
  if (total < 60) {
    std::snprintf(text, sizeof text, "%lld s", total);
  } else if (total < 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  }
  return text;
}

Progress::Progress(std::string label, size_t total, std::string unit, std::FILE* out)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      out_(out),
      tty_(out != nullptr && ::isatty(::fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(size_t done) {
  done_ = done;
  if (finished_ || out_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    draw(done, false);
    return;
  }
  if (plain_every_ > 0) {
    if (done % plain_every_ == 0 && done < total_) draw(done, false);
    return;
  }
  const size_t tenth = total_ == 0 ? 10 : done * 10 / total_;
  if (tenth > last_tenth_ && tenth < 10) {
    last_tenth_ = tenth;
    draw(done, false);
  }
}

void Progress::draw(size_t done, bool final) {
  const double seconds = std::max(elapsed_seconds(), 1e-9);
  const double rate = static_cast<double>(done) / seconds;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : 0;
  if (tty_ && !final) {
    constexpr int kWidth = 30;
    const int filled = total_ == 0 ? kWidth : static_cast<int>(kWidth * std::min(done, total_) / total_);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    // \033[K clears what a longer previous line left behind.
    std::fprintf(out_, "\r%s [%s] %zu/%zu %s, %.*f %s/s, ETA %s%s%s\033[K", label_.c_str(), bar.c_str(),
                 done, total_, unit_.c_str(), rate < 10 ? 2 : 0, rate, unit_.c_str(),
                 format_duration(eta).c_str(), status_.empty() ? "" : "  ", status_.c_str());
  } else if (!final) {
    std::fprintf(out_, "%s: %zu/%zu %s (%.*f %s/s, ETA %s)%s%s\n", label_.c_str(), done, total_,
                 unit_.c_str(), rate < 10 ? 2 : 0, rate, unit_.c_str(), format_duration(eta).c_str(),
                 status_.empty() ? "" : " ", status_.c_str());
  }
  std::fflush(out_);
}

void Progress::finish(const std::string& summary) {
  if (finished_) return;
  finished_ = true;
  if (out_ == nullptr) return;
  const double seconds = std::max(elapsed_seconds(), 1e-9);
  const size_t done = done_ > 0 ? done_ : total_;
  const double rate = static_cast<double>(done) / seconds;
  const std::string count = done < total_ ? std::to_string(done) + "/" + std::to_string(total_) : std::to_string(total_);
  std::fprintf(out_, "%s%s: %s %s in %.2f s (%.*f %s/s)%s%s\n", tty_ ? "\r\033[K" : "", label_.c_str(), count.c_str(),
               unit_.c_str(), seconds, rate < 10 ? 2 : 0, rate, unit_.c_str(), summary.empty() ? "" : " ",
               summary.c_str());
  std::fflush(out_);
}

}  // namespace bachgen::io
