// Writes seed archives for fuzz_mxl: a deflated .mxl with its container, a stored one without,
// and one whose container names a missing score.
#include <cstdio>
#include <string>
#include <vector>

#include "bachgen/io/files.h"
#include "bachgen/io/zip_archive.h"

int main(int argc, char** argv) {
  using namespace bachgen::io;
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  const auto bytes = [](const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); };
  const std::string container =
      R"(<container><rootfiles><rootfile full-path="s.musicxml"/></rootfiles></container>)";
  const std::string score =
      R"(<score-partwise><part id="P1"><measure number="1"><attributes><divisions>2</divisions><time><beats>3</beats>)"
      R"(<beat-type>4</beat-type></time></attributes><note><pitch><step>D</step><octave>5</octave></pitch>)"
      R"(<duration>2</duration></note><note><rest/><duration>4</duration></note></measure></part></score-partwise>)";
  write_file_atomically(dir + "/seed-0.mxl", make_zip({{"META-INF/container.xml", bytes(container)}, {"s.musicxml", bytes(score)}}, true));
  write_file_atomically(dir + "/seed-1.mxl", make_zip({{"song.xml", bytes(score)}}, false));
  write_file_atomically(dir + "/seed-2.mxl", make_zip({{"META-INF/container.xml", bytes(container)}}, true));
  std::printf("3 seeds written to %s\n", dir.c_str());
  return 0;
}
