// The studio's bounded result store: ids, limits, eviction order.
#include "bachgen/serve/result_store.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace bachgen::serve {
namespace {

StoredResult result_of(size_t bytes) {
  StoredResult r;
  r.kind = "compose";
  r.files["mid"] = std::string(bytes, 'x');
  return r;
}

TEST(ResultStore, IdsAre128RandomBitsInHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = ResultStore::new_id();
    EXPECT_TRUE(ResultStore::is_valid_id(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_FALSE(ResultStore::is_valid_id(""));
  EXPECT_FALSE(ResultStore::is_valid_id("0123456789abcdef0123456789abcdeF"));  // upper case
  EXPECT_FALSE(ResultStore::is_valid_id("0123456789abcdef0123456789abcde"));   // 31
  EXPECT_FALSE(ResultStore::is_valid_id("../../../../../../../etc/passwd00"));
  EXPECT_TRUE(ResultStore::is_valid_id("0123456789abcdef0123456789abcdef"));
}

TEST(ResultStore, KeepsWhatWasAddedUnderItsId) {
  ResultStore store(10, 1 << 20);
  StoredResult r = result_of(5);
  r.files["json"] = "{}";
  const std::string id = store.add(r);
  auto back = store.get(id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, id);
  EXPECT_EQ(back->files.at("mid"), "xxxxx");
  EXPECT_EQ(back->files.at("json"), "{}");
  EXPECT_EQ(store.count(), 1u);
  EXPECT_EQ(store.bytes(), r.bytes() + 32);  // + the id
  EXPECT_EQ(r.bytes(), 3u + 5u + 4u + 2u);   // "mid" + 5 bytes + "json" + 2 bytes
  EXPECT_FALSE(store.get(ResultStore::new_id()));
}

TEST(ResultStore, EvictsTheOldestFirstByCount) {
  ResultStore store(3, 1 << 20);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(store.add(result_of(10)));
  EXPECT_EQ(store.count(), 3u);
  EXPECT_EQ(store.evicted(), 2u);
  EXPECT_FALSE(store.get(ids[0]));
  EXPECT_FALSE(store.get(ids[1]));
  for (int i = 2; i < 5; ++i) EXPECT_TRUE(store.get(ids[static_cast<size_t>(i)])) << i;
}

TEST(ResultStore, EvictsTheOldestFirstByBytes) {
  // Each result takes 3 ("mid") + 100 + 32 (the id) = 135 bytes; 300 bytes hold two.
  ResultStore store(100, 300);
  const std::string a = store.add(result_of(100));
  const std::string b = store.add(result_of(100));
  EXPECT_EQ(store.bytes(), 270u);
  const std::string c = store.add(result_of(100));
  EXPECT_FALSE(store.get(a));
  EXPECT_TRUE(store.get(b));
  EXPECT_TRUE(store.get(c));
  EXPECT_EQ(store.bytes(), 270u);
  // One large result pushes out both.
  const std::string d = store.add(result_of(200));
  EXPECT_FALSE(store.get(b));
  EXPECT_FALSE(store.get(c));
  EXPECT_TRUE(store.get(d));
  EXPECT_EQ(store.count(), 1u);
  EXPECT_THROW(store.add(result_of(400)), std::length_error);
  EXPECT_TRUE(store.get(d));  // a refused result evicts nothing
}

TEST(ResultStore, AResultHeldByAReaderOutlivesEviction) {
  ResultStore store(1, 1 << 20);
  const std::string a = store.add(result_of(10));
  auto held = store.get(a);
  store.add(result_of(10));
  EXPECT_FALSE(store.get(a));
  ASSERT_TRUE(held);
  EXPECT_EQ(held->files.at("mid"), std::string(10, 'x'));
}

TEST(ResultStore, RefusesNoRoom) {
  EXPECT_THROW(ResultStore(0, 100), std::invalid_argument);
  EXPECT_THROW(ResultStore(1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace bachgen::serve
