// Tick <-> seconds conversion: hand-computed values, tempo changes in any track, SMPTE, and
// exactness over many changes against an integer computation.
#include <gtest/gtest.h>

#include "bachgen/midi/tempo_map.h"

namespace bachgen::midi {
namespace {

TEST(TempoMap, DefaultsTo120Bpm) {
  const TempoMap map(Division::ticks_per_quarter(480));
  EXPECT_DOUBLE_EQ(map.seconds_at(0), 0.0);
  EXPECT_DOUBLE_EQ(map.seconds_at(480), 0.5);
  EXPECT_DOUBLE_EQ(map.seconds_at(960 * 3), 3.0);
  EXPECT_EQ(map.tick_at(0.5), 480);
  EXPECT_EQ(map.tempo_at(123456), kDefaultTempo);
}

TEST(TempoMap, HandComputedTempoChanges) {
  // 480 tpq: 120 bpm for 2 quarters (1 s), 240 bpm for 4 quarters (1 s), then 60 bpm.
  const TempoMap map(Division::ticks_per_quarter(480),
                     {{0, 500000}, {960, 250000}, {2880, 1000000}});
  EXPECT_DOUBLE_EQ(map.seconds_at(960), 1.0);
  EXPECT_DOUBLE_EQ(map.seconds_at(1920), 1.5);
  EXPECT_DOUBLE_EQ(map.seconds_at(2880), 2.0);
  EXPECT_DOUBLE_EQ(map.seconds_at(3360), 3.0);
  EXPECT_EQ(map.tick_at(1.5), 1920);
  EXPECT_EQ(map.tick_at(2.5), 3120);
  EXPECT_EQ(map.tick_at(-1), 0);
  EXPECT_EQ(map.tempo_at(959), 500000u);
  EXPECT_EQ(map.tempo_at(960), 250000u);
  // A first change after tick 0: 120 bpm until then.
  const TempoMap late(Division::ticks_per_quarter(100), {{200, 1000000}});
  EXPECT_DOUBLE_EQ(late.seconds_at(300), 1.0 + 1.0);
}

TEST(TempoMap, LastChangeAtATickWinsAndAllTracksCount) {
  MidiFile f;
  f.format = 1;
  f.division = Division::ticks_per_quarter(480);
  f.tracks.resize(3);
  f.tracks[0].events = {Event::tempo(0, 600000)};
  f.tracks[2].events = {Event::tempo(0, 400000), Event::tempo(480, 1000000)};
  const TempoMap map = TempoMap::of_file(f);
  ASSERT_EQ(map.changes().size(), 2u);
  EXPECT_EQ(map.changes()[0], (TempoChange{0, 400000}));
  EXPECT_DOUBLE_EQ(map.seconds_at(960), 0.4 + 1.0);
  f.format = 2;  // independent sequences: track 0 only
  EXPECT_DOUBLE_EQ(TempoMap::of_file(f).seconds_at(480), 0.6);
  EXPECT_DOUBLE_EQ(TempoMap::of_track(f, 2).seconds_at(960), 1.4);
}

TEST(TempoMap, SmpteIgnoresTempo) {
  const TempoMap map(Division::smpte(25, 40), {{0, 1000000}});
  EXPECT_DOUBLE_EQ(map.seconds_at(1000), 1.0);
  EXPECT_EQ(map.tick_at(2.0), 2000);
  const TempoMap drop(Division::smpte(29, 100));
  EXPECT_DOUBLE_EQ(drop.seconds_at(3000), 3000.0 / (100 * 30000.0 / 1001.0));
}

TEST(TempoMap, ExactOverManyChanges) {
  // 20000 changes of awkward tempi at irregular ticks: the result must equal the exact
  // rational sum(delta * tempo) / (tpq * 1e6), computed here with integers.
  const int tpq = 1000;
  std::vector<TempoChange> changes;
  int64_t tick = 0;
  for (int i = 0; i < 20000; ++i) {
    changes.push_back({tick, static_cast<uint32_t>(333333 + (i % 7) * 1111)});
    tick += 1 + (i * 7919) % 97;
  }
  const TempoMap map(Division::ticks_per_quarter(tpq), changes);
  int64_t exact = 0;  // microseconds x tpq
  for (size_t i = 0; i + 1 < changes.size(); ++i) {
    exact += (changes[i + 1].tick - changes[i].tick) * int64_t{changes[i].us_per_quarter};
  }
  const int64_t last = changes.back().tick;
  EXPECT_EQ(map.seconds_at(last), static_cast<double>(static_cast<long double>(exact) / (1e6L * tpq)));
  for (int64_t t = 0; t < last; t += 37) EXPECT_EQ(map.tick_at(map.seconds_at(t)), t) << t;
}

}  // namespace
}  // namespace bachgen::midi
