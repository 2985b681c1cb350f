// `bachgen analyze`.
#include "bachgen/commands/analyze_command.h"

#include <stdexcept>

#include "bachgen/data/jsb.h"
#include "bachgen/io/files.h"
#include "bachgen/midi/midi_reader.h"
#include "bachgen/music/score.h"
#include "bachgen/music/style_report.h"
#include "bachgen/music/voice_leading.h"

namespace bachgen::commands {

using namespace music;

std::string analyze_report(const AnalyzeSettings& settings) {
  std::vector<StyleColumn> columns;
  StyleStats total;
  for (const std::string& path : settings.inputs) {
    StyleStats s;
    try {
      const Score score = score_from_midi(midi::read_midi_file(path));
      if (score.voices() != kVoices) {
        throw std::runtime_error("has " + std::to_string(score.voices()) + " voices; analyze needs 4 (S, A, T, B)");
      }
      s = analyze_grid(score_to_grid(score));
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw std::runtime_error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
    }
    total.add(s);
    columns.push_back({path, s});
  }
  if (settings.inputs.size() > 1) columns.push_back({"all files", total});
  if (!settings.reference.empty()) {
    const std::string& text = settings.reference;
    data::JsbRef ref;
    if ((text.size() >= 5 && text.compare(text.size() - 5, 5, ".json") == 0) || (text.find(':') == std::string::npos && io::is_regular_file(text))) {
      ref.file = text;
      ref.split = "test";
    } else {
      try {
        ref = data::parse_jsb_ref(text, "", /*index_required=*/false);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(std::string("--reference ") + e.what());
      }
    }
    StyleStats bach;
    if (ref.index >= 0) {
      bach.add(analyze_grid(data::load_jsb_piece(ref)));
      columns.push_back({"Bach (JSB " + ref.split + ":" + std::to_string(ref.index) + ")", bach});
    } else {
      const data::JsbCorpus corpus = data::load_jsb(ref.file);
      for (const ChoraleGrid& g : corpus.split(ref.split)) bach.add(analyze_grid(g));
      columns.push_back({"Bach (JSB " + ref.split + ")", bach});
    }
  }
  return style_report(columns, settings.json);
}

}  // namespace bachgen::commands
