// ZIP reading: archives made by our writer (stored and deflated) read back byte for byte, one
// made by Info-ZIP's `zip` (when installed) too, and every damage the reader checks for is
// named: not an archive, a directory or local header out of bounds, a bad CRC, an entry larger
// than allowed, an unsupported method, encryption, ZIP64.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "bachgen/io/files.h"
#include "bachgen/io/zip_archive.h"

namespace bachgen::io {
namespace {

std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

std::string error_of(const std::vector<uint8_t>& archive, const std::string& entry = "", size_t max_bytes = 1 << 20) {
  try {
    const ZipArchive zip(archive, "a.zip");
    if (!entry.empty()) zip.read(*zip.find(entry), max_bytes);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::pair<std::string, std::vector<uint8_t>>> sample_files() {
  std::string long_text;
  for (int i = 0; i < 2000; ++i) long_text += "measure " + std::to_string(i % 37) + "\n";
  std::vector<uint8_t> binary(300);
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<uint8_t>(i * 7 + 3);
  return {{"META-INF/container.xml", bytes_of("<container/>")}, {"empty", {}}, {"dir/long.txt", bytes_of(long_text)},
          {"binary.bin", binary}};
}

TEST(ZipArchive, ReadsBackWhatWasWritten) {
  for (const bool deflate : {false, true}) {
    const auto files = sample_files();
    const ZipArchive zip(make_zip(files, deflate), "a.zip");
    ASSERT_EQ(zip.entries().size(), files.size());
    for (size_t i = 0; i < files.size(); ++i) {
      const ZipEntry& e = zip.entries()[i];
      EXPECT_EQ(e.name, files[i].first);
      EXPECT_EQ(e.method, deflate ? 8 : 0);
      EXPECT_EQ(e.size, files[i].second.size());
      EXPECT_EQ(zip.read(e, 1 << 20), files[i].second) << e.name;
    }
    EXPECT_EQ(zip.find("dir/long.txt"), &zip.entries()[2]);
    EXPECT_EQ(zip.find("missing"), nullptr);
    if (deflate) {
      EXPECT_LT(zip.entries()[2].compressed_size, zip.entries()[2].size / 10);
    }
  }
}

TEST(ZipArchive, ReadsInfoZipArchives) {
  if (std::system("command -v zip >/dev/null 2>&1") != 0) GTEST_SKIP() << "Info-ZIP's zip is not installed";
  const std::string dir = std::string(BACHGEN_TEST_TMP) + "/zip_in";
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "/sub'").c_str());
  std::string text;
  for (int i = 0; i < 500; ++i) text += "line " + std::to_string(i) + "\n";
  write_file_atomically(dir + "/sub/a.txt", text);
  write_file_atomically(dir + "/b.txt", std::string("short"));
  const std::string archive = std::string(BACHGEN_TEST_TMP) + "/info.zip";
  ASSERT_EQ(std::system(("rm -f '" + archive + "' && cd '" + dir + "' && zip -q -r -z '" + archive + "' sub b.txt <<EOF\na comment\n.\nEOF").c_str()), 0);
  const ZipArchive zip(read_file_bytes(archive, 1 << 20), archive);
  ASSERT_NE(zip.find("sub/a.txt"), nullptr);
  EXPECT_EQ(zip.read(*zip.find("sub/a.txt"), 1 << 20), bytes_of(text));
  EXPECT_EQ(zip.read(*zip.find("b.txt"), 1 << 20), bytes_of("short"));
}

TEST(ZipArchive, NamesEachDamage) {
  const std::vector<uint8_t> good = make_zip({{"x.txt", bytes_of("hello hello hello hello")}}, true);
  EXPECT_EQ(error_of({}), "a.zip: not a ZIP archive (too short)");
  EXPECT_EQ(error_of(bytes_of(std::string(100, 'z'))), "a.zip: not a ZIP archive (no end-of-central-directory record)");
  // Offsets in the end record (22 bytes at the end): the directory's size at 12, offset at 16.
  std::vector<uint8_t> far = good;
  far[far.size() - 22 + 16] = 0xf0;
  EXPECT_EQ(error_of(far), "a.zip: the central directory lies outside the archive");
  std::vector<uint8_t> zip64 = good;
  for (int k = 0; k < 4; ++k) zip64[zip64.size() - 22 + 16 + k] = 0xff;
  EXPECT_EQ(error_of(zip64), "a.zip: ZIP64 archives are not read");
  std::vector<uint8_t> split = good;
  split[split.size() - 22 + 4] = 1;
  EXPECT_EQ(error_of(split), "a.zip: archives split over several disks are not read");
  // The first central entry starts right after the local header (30), the name (5) and the data.
  const ZipArchive zip(good, "a.zip");
  const size_t central = 30 + 5 + zip.entries()[0].compressed_size;
  std::vector<uint8_t> encrypted = good;
  encrypted[central + 8] |= 1;
  EXPECT_EQ(error_of(encrypted), "a.zip: x.txt: encrypted entries are not read");
  std::vector<uint8_t> method = good;
  method[central + 10] = 12;  // bzip2
  EXPECT_EQ(error_of(method, "x.txt"), "a.zip: x.txt: compression method 12 is not read (only stored and deflated)");
  std::vector<uint8_t> crc = good;
  crc[central + 16] ^= 1;
  EXPECT_EQ(error_of(crc, "x.txt"), "a.zip: x.txt: CRC-32 mismatch: the data is damaged");
  std::vector<uint8_t> local = good;
  local[central + 42] = 7;  // the local header's offset
  EXPECT_EQ(error_of(local, "x.txt"), "a.zip: x.txt: its local header at byte 7 is damaged");
  std::vector<uint8_t> longer = good;
  longer[central + 24] += 1;  // one byte more stated than the data inflates to
  EXPECT_EQ(error_of(longer, "x.txt"), "a.zip: x.txt: inflates to 23 bytes, not the stated 24");
  std::vector<uint8_t> shorter = good;
  shorter[central + 24] -= 1;
  EXPECT_EQ(error_of(shorter, "x.txt"), "a.zip: x.txt: inflates to 23 bytes, not the stated 22");
  std::vector<uint8_t> garbled = good;
  garbled[30 + 5] ^= 0xff;
  EXPECT_NE(error_of(garbled, "x.txt").find("a.zip: x.txt: "), std::string::npos);
  EXPECT_EQ(error_of(good, "x.txt", 10), "a.zip: x.txt: is 23 bytes, more than the 10 allowed");
  EXPECT_EQ(error_of(good, "x.txt"), "no error");
}

}  // namespace
}  // namespace bachgen::io
