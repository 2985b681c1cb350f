// ZIP reading (and a small writer for tests): every offset and size is checked against the
// archive's bytes before it is used.
#include "bachgen/io/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace bachgen::io {

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndOfDirectory = 0x06054b50;
constexpr size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22;

uint32_t u16(const uint8_t* p) { return static_cast<uint32_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

void put16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v)), out.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& out, uint32_t v) { put16(out, v & 0xffff), put16(out, v >> 16); }

std::string at_byte(uint64_t v) {
  char text[32];
  std::snprintf(text, sizeof text, "byte %llu", static_cast<unsigned long long>(v));
  return text;
}

}  // namespace

ZipArchive::ZipArchive(std::vector<uint8_t> bytes, std::string name) : bytes_(std::move(bytes)), name_(std::move(name)) {
  const size_t n = bytes_.size();
  const auto fail = [this](const std::string& problem) { throw std::runtime_error(name_ + ": " + problem); };
  if (n < kEndSize) fail("not a ZIP archive (too short)");
  // The end-of-central-directory record: the last one whose comment reaches the end (a comment
  // is at most 65535 bytes).
  size_t end = std::string::npos;
  const size_t lowest = n > kEndSize + 0xffff ? n - kEndSize - 0xffff : 0;
  for (size_t at = n - kEndSize + 1; at-- > lowest;) {
    if (u32(&bytes_[at]) == kEndOfDirectory && at + kEndSize + u16(&bytes_[at + 20]) <= n) {
      end = at;
      break;
    }
  }
  if (end == std::string::npos) fail("not a ZIP archive (no end-of-central-directory record)");
  const uint8_t* e = &bytes_[end];
  const uint32_t disk = u16(e + 4), directory_disk = u16(e + 6), on_disk = u16(e + 8), count = u16(e + 10);
  const uint32_t directory_size = u32(e + 12), directory_offset = u32(e + 16);
  if (count == 0xffff || directory_size == 0xffffffffu || directory_offset == 0xffffffffu) fail("ZIP64 archives are not read");
  if (disk != 0 || directory_disk != 0 || on_disk != count) fail("archives split over several disks are not read");
  if (static_cast<uint64_t>(directory_offset) + directory_size > end) fail("the central directory lies outside the archive");
  size_t at = directory_offset;
  const size_t directory_end = static_cast<size_t>(directory_offset) + directory_size;
  for (uint32_t i = 0; i < count; ++i) {
    if (at + kCentralSize > directory_end || u32(&bytes_[at]) != kCentralHeader) {
      fail("central directory entry " + std::to_string(i + 1) + " at " + at_byte(at) + " is damaged");
    }
    const uint8_t* c = &bytes_[at];
    const size_t name_length = u16(c + 28), extra = u16(c + 30), comment = u16(c + 32);
    if (at + kCentralSize + name_length + extra + comment > directory_end) {
      fail("central directory entry " + std::to_string(i + 1) + " runs past the directory");
    }
    ZipEntry entry;
    entry.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_length);
    const uint32_t flags = u16(c + 8);
    entry.method = static_cast<uint16_t>(u16(c + 10));
    entry.crc32 = u32(c + 16);
    entry.compressed_size = u32(c + 20);
    entry.size = u32(c + 24);
    entry.local_header = u32(c + 42);
    if (entry.compressed_size == 0xffffffffu || entry.size == 0xffffffffu || entry.local_header == 0xffffffffu) {
      fail(entry.name + ": ZIP64 entries are not read");
    }
    if (flags & 1u) fail(entry.name + ": encrypted entries are not read");
    entries_.push_back(std::move(entry));
    at += kCentralSize + name_length + extra + comment;
  }
}

const ZipEntry* ZipArchive::find(const std::string& entry_name) const {
  for (const ZipEntry& e : entries_) {
    if (e.name == entry_name) return &e;
  }
  return nullptr;
}

std::vector<uint8_t> ZipArchive::read(const ZipEntry& entry, size_t max_bytes) const {
  const auto fail = [&](const std::string& problem) { throw std::runtime_error(name_ + ": " + entry.name + ": " + problem); };
  if (entry.size > max_bytes) fail("is " + std::to_string(entry.size) + " bytes, more than the " + std::to_string(max_bytes) + " allowed");
  const size_t n = bytes_.size();
  if (entry.local_header + kLocalSize > n || u32(&bytes_[entry.local_header]) != kLocalHeader) {
    fail("its local header at " + at_byte(entry.local_header) + " is damaged");
  }
  const uint8_t* l = &bytes_[entry.local_header];
  const uint64_t data = entry.local_header + kLocalSize + u16(l + 26) + u16(l + 28);
  if (data + entry.compressed_size > n) fail("its data runs past the end of the archive");
  const uint8_t* in = &bytes_[data];
  std::vector<uint8_t> out(entry.size);
  if (entry.method == 0) {
    if (entry.compressed_size != entry.size) fail("a stored entry whose two sizes differ");
    std::copy(in, in + entry.size, out.begin());
  } else if (entry.method == 8) {
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("zlib could not start");
    z.next_in = const_cast<Bytef*>(in);
    z.avail_in = static_cast<uInt>(entry.compressed_size);
    // One byte more than stated, so that data inflating past its stated size is seen.
    std::vector<uint8_t> buffer(static_cast<size_t>(entry.size) + 1);
    z.next_out = buffer.data();
    z.avail_out = static_cast<uInt>(buffer.size());
    const int status = inflate(&z, Z_FINISH);
    const uint64_t produced = z.total_out;
    inflateEnd(&z);
    if (status != Z_STREAM_END) {
      fail(produced > entry.size ? "inflates to more than its stated " + std::to_string(entry.size) + " bytes"
                                 : "its deflated data is damaged");
    }
    if (produced != entry.size) fail("inflates to " + std::to_string(produced) + " bytes, not the stated " + std::to_string(entry.size));
    std::copy(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(entry.size), out.begin());
  } else {
    fail("compression method " + std::to_string(entry.method) + " is not read (only stored and deflated)");
  }
  if (crc32(crc32(0L, Z_NULL, 0), out.data(), static_cast<uInt>(out.size())) != entry.crc32) fail("CRC-32 mismatch: the data is damaged");
  return out;
}

std::vector<uint8_t> make_zip(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& files, bool compress) {
  std::vector<uint8_t> out, directory;
  for (const auto& [name, bytes] : files) {
    std::vector<uint8_t> data = bytes;
    if (compress) {
      z_stream z{};
      deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      data.assign(deflateBound(&z, static_cast<uLong>(bytes.size())), 0);
      z.next_in = const_cast<Bytef*>(bytes.data());
      z.avail_in = static_cast<uInt>(bytes.size());
      z.next_out = data.data();
      z.avail_out = static_cast<uInt>(data.size());
      deflate(&z, Z_FINISH);
      data.resize(z.total_out);
      deflateEnd(&z);
    }
    const uint32_t crc = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(bytes.size())));
    const uint32_t offset = static_cast<uint32_t>(out.size());
    const uint32_t method = compress ? 8 : 0;
    put32(out, kLocalHeader), put16(out, 20), put16(out, 0), put16(out, method), put16(out, 0), put16(out, 0x21);
    put32(out, crc), put32(out, static_cast<uint32_t>(data.size())), put32(out, static_cast<uint32_t>(bytes.size()));
    put16(out, static_cast<uint32_t>(name.size())), put16(out, 0);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), data.begin(), data.end());
    put32(directory, kCentralHeader), put16(directory, 20), put16(directory, 20), put16(directory, 0);
    put16(directory, method), put16(directory, 0), put16(directory, 0x21), put32(directory, crc);
    put32(directory, static_cast<uint32_t>(data.size())), put32(directory, static_cast<uint32_t>(bytes.size()));
    put16(directory, static_cast<uint32_t>(name.size())), put16(directory, 0), put16(directory, 0), put16(directory, 0);
    put16(directory, 0), put32(directory, 0), put32(directory, offset);
    directory.insert(directory.end(), name.begin(), name.end());
  }
  const uint32_t directory_offset = static_cast<uint32_t>(out.size());
  out.insert(out.end(), directory.begin(), directory.end());
  put32(out, kEndOfDirectory), put16(out, 0), put16(out, 0);
  put16(out, static_cast<uint32_t>(files.size())), put16(out, static_cast<uint32_t>(files.size()));
  put32(out, static_cast<uint32_t>(directory.size())), put32(out, directory_offset), put16(out, 0);
  return out;
}

}  // namespace bachgen::io
