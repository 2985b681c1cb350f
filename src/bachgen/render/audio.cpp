// FluidSynth rendering through its command-line program.
#include "bachgen/render/audio.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "bachgen/io/files.h"

namespace bachgen::render {

namespace {

// Runs `argv` without a shell; returns its exit status and what it wrote to stdout/stderr.
int run(const std::vector<std::string>& argv, std::string* output) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(fds[1]);
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) output->append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string find_soundfont(const std::string& requested) {
  if (!requested.empty()) {
    if (!io::is_regular_file(requested)) throw std::runtime_error(requested + ": no such soundfont file");
    return requested;
  }
  if (const char* env = std::getenv("BACHGEN_SOUNDFONT"); env != nullptr && *env != '\0') {
    if (!io::is_regular_file(env)) throw std::runtime_error(std::string(env) + " (BACHGEN_SOUNDFONT): no such soundfont file");
    return env;
  }
  for (const char* candidate : {"/usr/share/sounds/sf2/TimGM6mb.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
                                "/usr/share/sounds/sf2/FluidR3_GM.sf2"}) {
    if (io::is_regular_file(candidate)) return candidate;
  }
  throw std::runtime_error(
      "no General MIDI soundfont found (apt install timgm6mb-soundfont, or set BACHGEN_SOUNDFONT=FILE.sf2)");
}

void render_audio(const std::string& midi_path, const std::string& out_path, const AudioOptions& o) {
  if (o.format != "wav" && o.format != "flac") throw std::runtime_error("audio format must be wav or flac, not " + o.format);
  if (!io::is_regular_file(midi_path)) throw std::runtime_error(midi_path + ": no such MIDI file");
  const std::string soundfont = find_soundfont(o.soundfont);
  const std::string temp = out_path + ".tmp-" + std::to_string(::getpid()) + "." + o.format;
  char gain[32];
  std::snprintf(gain, sizeof gain, "%.3f", o.gain);
  std::string output;
  const int status = run({"fluidsynth", "-ni", "-q", "-g", gain, "-r", std::to_string(o.sample_rate), "-T", o.format,
                          "-O", "s16", "-F", temp, soundfont, midi_path},
                         &output);
  if (status == 127) {
    std::remove(temp.c_str());
    throw std::runtime_error(out_path + ": fluidsynth is not installed (apt install fluidsynth; scripts/setup.sh does)");
  }
  if (status != 0 || !io::is_regular_file(temp)) {
    std::remove(temp.c_str());
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    throw std::runtime_error(out_path + ": fluidsynth failed (exit " + std::to_string(status) + ")" +
                             (output.empty() ? "" : ": " + output));
  }
  if (std::rename(temp.c_str(), out_path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temp.c_str());
    throw std::runtime_error(out_path + ": cannot write: " + why);
  }
}

}  // namespace bachgen::render
