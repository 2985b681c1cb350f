// Progress output: duration formatting, plain lines every N units with a status text, and no
// output at all for a null stream.
#include "bachgen/io/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace bachgen::io {
namespace {

TEST(Progress, DurationsReadAsSecondsMinutesAndHours) {
  EXPECT_EQ(format_duration(0), "0 s");
  EXPECT_EQ(format_duration(-3), "0 s");
  EXPECT_EQ(format_duration(42.4), "42 s");
  EXPECT_EQ(format_duration(59.6), "1:00");
  EXPECT_EQ(format_duration(725), "12:05");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(36000), "10:00:00");
}

std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
  return text;
}

TEST(Progress, PlainLinesEveryNUnitsCarryTheStatus) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("train", 10, "steps", f);
    ASSERT_FALSE(p.is_tty());
    p.set_plain_every(4);
    for (size_t i = 1; i <= 10; ++i) {
      p.set_status("loss " + std::to_string(i));
      p.update(i);
    }
    p.finish("done");
  }
  const std::string text = read_all(f);
  std::fclose(f);
  // Lines at 4 and 8, then the final line.
  EXPECT_NE(text.find("train: 4/10 steps ("), std::string::npos) << text;
  EXPECT_NE(text.find(") loss 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("train: 8/10 steps ("), std::string::npos) << text;
  EXPECT_EQ(text.find("train: 5/10"), std::string::npos) << text;
  EXPECT_NE(text.find("train: 10 steps in "), std::string::npos) << text;
  EXPECT_NE(text.find(" done\n"), std::string::npos) << text;
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 3u) << text;
}

TEST(Progress, AJobStoppedEarlySaysHowFarItGot) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("train", 450, "steps", f);
    p.update(131);
    p.finish("(stopped)");
  }
  const std::string text = read_all(f);
  std::fclose(f);
  EXPECT_NE(text.find("train: 131/450 steps in "), std::string::npos) << text;
}

TEST(Progress, TenthsByDefaultAndSilentWithoutAStream) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("prepare", 100, "files", f);
    for (size_t i = 1; i <= 100; ++i) p.update(i);
  }
  const std::string text = read_all(f);
  std::fclose(f);
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 9u) << text;  // 10 % ... 90 %; the destructor does not finish
  Progress silent("x", 3, "things", nullptr);
  silent.set_status("s");
  silent.update(1);
  silent.finish("y");  // nothing to check but that it does not crash
}

}  // namespace
}  // namespace bachgen::io
