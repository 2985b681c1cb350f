// Whole-file reads with limits, and atomic writes that never leave partial files.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "bachgen/io/files.h"
#include "midi_bytes.h"

namespace bachgen::io {
namespace {

TEST(Files, ReadsWholeFilesWithinTheLimit) {
  const std::string path = testing::temp_path("files_read.bin");
  write_file_atomically(path, std::string("hello"));
  EXPECT_EQ(read_file_bytes(path, 100), (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'}));
  try {
    read_file_bytes(path, 4);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("too large"), std::string::npos);
  }
  EXPECT_THROW(read_file_bytes(testing::temp_path("missing"), 100), std::runtime_error);
}

TEST(Files, ANamedPipeIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = std::string(BACHGEN_TEST_TMP) + "/melody-fifo.mid";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    io::read_file_bytes(fifo, 1024);  // opening it blocking would wait here for ever
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
  ::unlink(fifo.c_str());
}

TEST(Files, AtomicWriteReplacesTheFileWithUsualPermissions) {
  const std::string path = testing::temp_path("files_atomic.txt");
  write_file_atomically(path, std::string("first"));
  write_file_atomically(path, std::string("second, longer"));
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "second, longer");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IRGRP);  // not mkstemp's 0600
}

TEST(Files, AtomicWriteFailsCleanlyWhereItCannotWrite) {
  try {
    write_file_atomically("/nonexistent-dir/x.txt", std::string("x"));
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.txt"), std::string::npos);
  }
}

TEST(Files, ListsFilesBySuffixSortedAndOptionallyRecursively) {
  const std::string dir = testing::temp_path("files_list");
  std::system(("rm -rf '" + dir + "'").c_str());
  make_directories(dir + "/sub/deeper");
  for (const char* name : {"b.mid", "a.MIDI", "c.txt", "sub/d.mid", "sub/deeper/e.Mid"}) {
    write_file_atomically(dir + "/" + name, std::string("x"));
  }
  EXPECT_EQ(list_midi_files(dir), (std::vector<std::string>{"a.MIDI", "b.mid"}));
  EXPECT_EQ(list_midi_files(dir, true),
            (std::vector<std::string>{"a.MIDI", "b.mid", "sub/d.mid", "sub/deeper/e.Mid"}));
  EXPECT_EQ(list_files(dir, {".txt"}), (std::vector<std::string>{"c.txt"}));
  EXPECT_THROW(list_files(dir + "/missing", {".mid"}), std::runtime_error);
  EXPECT_THROW(make_directories(dir + "/c.txt/x"), std::runtime_error);
}

}  // namespace
}  // namespace bachgen::io
