// Serialization of values into object buffers (no runtime needed).

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <map>
#include <optional>

namespace {

enum class Color : uint8_t { kRed = 1, kBlue = 2 };

struct Sample {
  std::string label;
  std::vector<int> counts;
  std::optional<double> weight;
  MSGPACK_DEFINE(label, counts, weight)
  friend bool operator==(const Sample&, const Sample&) = default;
};

template <typename T>
T RoundTrip(const T& value) {
  auto buffer = prism::internal::Serialize<T>(value);
  return prism::internal::Deserialize<T>(*buffer);
}

TEST(SerializerTest, ScalarsAndEnumsAreStoredRaw) {
  auto buffer = prism::internal::Serialize<double>(2.5);
  EXPECT_EQ(prism::internal::FormatOf(*buffer), prism::internal::ObjectFormat::kRaw);
  EXPECT_EQ(buffer->size(), sizeof(double));
  EXPECT_EQ(RoundTrip(2.5), 2.5);
  EXPECT_EQ(RoundTrip(Color::kBlue), Color::kBlue);
  EXPECT_EQ(RoundTrip<int64_t>(-7), -7);
}

TEST(SerializerTest, VectorsOfScalarsAndStringsAreStoredAsTheirBytes) {
  std::vector<double> v(1000, 1.25);
  auto buffer = prism::internal::Serialize(v);
  EXPECT_EQ(prism::internal::FormatOf(*buffer), prism::internal::ObjectFormat::kRaw);
  EXPECT_EQ(buffer->size(), v.size() * sizeof(double));
  EXPECT_EQ(RoundTrip(v), v);
  EXPECT_EQ(RoundTrip(std::string("bytes\0inside", 12)), std::string("bytes\0inside", 12));
  EXPECT_EQ(RoundTrip(std::vector<int>{}), std::vector<int>{});
}

TEST(SerializerTest, EverythingElseGoesThroughMsgpack) {
  Sample s{"a", {1, 2, 3}, 0.5};
  auto buffer = prism::internal::Serialize(s);
  EXPECT_EQ(prism::internal::FormatOf(*buffer), prism::internal::ObjectFormat::kMsgpack);
  EXPECT_EQ(RoundTrip(s), s);
  std::map<std::string, std::vector<Sample>> nested{{"x", {s, Sample{"b", {}, std::nullopt}}}};
  EXPECT_EQ(RoundTrip(nested), nested);
  std::vector<std::vector<double>> matrix{{1, 2}, {3}};
  EXPECT_EQ(RoundTrip(matrix), matrix);
}

TEST(SerializerTest, ReadingAsAnotherTypeIsAnError) {
  auto buffer = prism::internal::Serialize<int32_t>(5);
  EXPECT_THROW(prism::internal::Deserialize<float>(*buffer), prism::SerializationError);
  auto text = prism::internal::Serialize(std::string("abc"));
  EXPECT_THROW(prism::internal::Deserialize<std::vector<char>>(*text), prism::SerializationError);
}

TEST(SerializerTest, CorruptMsgpackIsAnErrorNotACrash) {
  Sample s{"label", {1, 2}, 1.0};
  auto good = prism::internal::Serialize(s);
  auto meta = good->metadata();
  for (size_t cut = 0; cut < good->size(); ++cut) {
    auto truncated = prism::internal::AllocateObject(cut, meta);
    std::memcpy(truncated->mutable_data(), good->data().data(), cut);
    EXPECT_THROW(prism::internal::Deserialize<Sample>(*truncated), prism::SerializationError)
        << "cut " << cut;
  }
}

TEST(SerializerTest, TypeTagsDifferBetweenTypes) {
  EXPECT_NE(prism::internal::TypeTag<int>(), prism::internal::TypeTag<unsigned>());
  EXPECT_NE(prism::internal::TypeTag<std::vector<int>>(),
            prism::internal::TypeTag<std::vector<long>>());
  EXPECT_EQ(prism::internal::TypeTag<Sample>(), prism::internal::TypeTag<Sample>());
}

}  // namespace
