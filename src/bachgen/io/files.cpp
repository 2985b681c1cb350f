// POSIX implementation of the whole-file helpers.
#include "bachgen/io/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bachgen::io {

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

namespace {

std::string errno_text() { return std::strerror(errno); }

// Closes a descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a named pipe (or a device) must not wait for a writer; it is refused
  // below as not a regular file. Reads of a regular file ignore the flag.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw std::runtime_error("cannot open: " + errno_text());
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw std::runtime_error("cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) throw std::runtime_error("not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    throw std::runtime_error("file is too large (" + std::to_string(st.st_size) +
                             " bytes; the limit is " + std::to_string(max_bytes) + ")");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("read error: " + errno_text());
    }
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

void write_file_atomically(const std::string& path, const void* data, size_t size) {
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw std::runtime_error(path + ": cannot create a temporary file: " + errno_text());
  auto fail = [&](const std::string& what) {
    const std::string reason = errno_text();
    ::close(fd);
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": " + what + ": " + reason);
  };
  const auto* p = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, p + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write error");
    }
    done += static_cast<size_t>(n);
  }
  // mkstemp creates 0600; output files get the usual 0644 (less the umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) fail("cannot set permissions");
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    const std::string reason = errno_text();
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": close failed: " + reason);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = errno_text();
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": cannot rename the temporary file into place: " + reason);
  }
}

namespace {


void list_into(const std::string& root, const std::string& relative,
               const std::vector<std::string>& suffixes, bool recursive,
               std::vector<std::string>& out) {
  const std::string dir = relative.empty() ? root : root + "/" + relative;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw std::runtime_error(dir + ": cannot open folder: " + errno_text());
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string rel = relative.empty() ? name : relative + "/" + name;
    struct stat st {};
    if (::stat((root + "/" + rel).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (recursive) list_into(root, rel, suffixes, recursive, out);
    } else if (ends_with_any(name, suffixes)) {
      out.push_back(rel);
    }
  }
}

}  // namespace

bool ends_with_any(const std::string& name, const std::vector<std::string>& suffixes) {
  for (const std::string& suffix : suffixes) {
    if (name.size() <= suffix.size()) continue;
    bool match = true;
    for (size_t i = 0; i < suffix.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(name[name.size() - suffix.size() + i])) ==
              std::tolower(static_cast<unsigned char>(suffix[i]));
    }
    if (match) return true;
  }
  return false;
}

std::vector<std::string> list_files(const std::string& dir, const std::vector<std::string>& suffixes,
                                    bool recursive) {
  std::vector<std::string> out;
  list_into(dir, "", suffixes, recursive, out);
  return out;
}

void make_directories(const std::string& path) {
  if (path.empty()) return;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      throw std::runtime_error(prefix + ": cannot create folder: " + errno_text());
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error(path + ": exists and is not a folder");
  }
}

}  // namespace bachgen::io
