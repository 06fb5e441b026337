#include "prism/common/wire.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace prism {
namespace {

std::span<const std::byte> AsBytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// Places bytes so that the last one sits just before a PROT_NONE page: a reader that touches a
// single byte past the end crashes the test instead of passing by luck.
class GuardedBuffer {
 public:
  GuardedBuffer() {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_ = 4 * page_;
    void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(m, MAP_FAILED);
    base_ = static_cast<std::byte*>(m);
    EXPECT_EQ(mprotect(base_ + size_ - page_, page_, PROT_NONE), 0);
  }
  ~GuardedBuffer() { munmap(base_, size_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  /// Copies `bytes` (at most three pages) to end exactly at the guard page.
  std::span<const std::byte> Place(std::span<const std::byte> bytes) {
    std::byte* end = base_ + size_ - page_;
    std::byte* start = end - bytes.size();
    if (!bytes.empty()) std::memcpy(start, bytes.data(), bytes.size());
    return {start, bytes.size()};
  }

 private:
  size_t page_ = 0;
  size_t size_ = 0;
  std::byte* base_ = nullptr;
};

bool Within(std::span<const std::byte> inner, std::span<const std::byte> outer) {
  if (inner.empty()) return true;
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

TEST(WireTest, RoundTripsEveryType) {
  std::vector<std::byte> buf;
  WireWriter w(buf);
  const std::string blob(1000, 'z');
  w.U8(0xab);
  w.U16(0xbeef);
  w.U32(0xdeadbeef);
  w.U64(0x0123456789abcdefULL);
  w.I32(std::numeric_limits<int32_t>::min());
  w.I64(std::numeric_limits<int64_t>::min());
  w.F64(-0.0);
  w.F64(std::numeric_limits<double>::infinity());
  w.F64(std::numeric_limits<double>::quiet_NaN());
  w.F64(3.25);
  w.Bool(true);
  w.Bool(false);
  w.Bytes({});
  w.Bytes(AsBytes(blob));
  w.String("");
  w.String(std::string_view("a\0b", 3));
  w.Object(ObjectId{7, 3, 0xffffffffffULL});
  w.Object(ObjectId{});
  w.Task(TaskId{-1, 99});
  const char raw[3] = {'x', 'y', 'z'};
  w.Put(raw, sizeof raw);
  w.Put(nullptr, 0);
  EXPECT_EQ(w.size(), buf.size());

  WireReader r(buf);
  EXPECT_EQ(r.U8(), 0xab);
  EXPECT_EQ(r.U16(), 0xbeef);
  EXPECT_EQ(r.U32(), 0xdeadbeefu);
  EXPECT_EQ(r.U64(), 0x0123456789abcdefULL);
  EXPECT_EQ(r.I32(), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(r.I64(), std::numeric_limits<int64_t>::min());
  double neg_zero = r.F64();
  EXPECT_EQ(neg_zero, 0.0);
  EXPECT_TRUE(std::signbit(neg_zero));
  EXPECT_EQ(r.F64(), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(r.F64()));
  EXPECT_EQ(r.F64(), 3.25);
  EXPECT_TRUE(r.Bool());
  EXPECT_FALSE(r.Bool());
  EXPECT_TRUE(r.Bytes().empty());
  auto b = r.Bytes();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), b.size()), blob);
  EXPECT_TRUE(Within(b, buf));  // a view, not a copy
  EXPECT_EQ(r.String(), "");
  EXPECT_EQ(r.String(), std::string("a\0b", 3));
  EXPECT_EQ(r.Object(), (ObjectId{7, 3, 0xffffffffffULL}));
  EXPECT_TRUE(r.Object().IsNil());
  EXPECT_EQ(r.Task(), (TaskId{-1, 99}));
  EXPECT_EQ(r.U8(), 'x');
  EXPECT_EQ(r.U8(), 'y');
  EXPECT_EQ(r.U8(), 'z');
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.AtEnd());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(WireTest, EncodingIsLittleEndianWithU32LengthPrefix) {
  std::vector<std::byte> buf;
  WireWriter w(buf);
  w.U32(0x01020304);
  w.String("hi");
  w.I32(-2);
  const std::vector<uint8_t> expected = {0x04, 0x03, 0x02, 0x01, 2,    0,    0,
                                         0,    'h',  'i',  0xfe, 0xff, 0xff, 0xff};
  ASSERT_EQ(buf.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(static_cast<uint8_t>(buf[i]), expected[i]) << "byte " << i;
}

TEST(WireTest, WriterAppendsToExistingBytes) {
  std::vector<std::byte> buf(3, std::byte{0x11});
  WireWriter w(buf);
  w.U16(0x2233);
  ASSERT_EQ(buf.size(), 5u);
  EXPECT_EQ(buf[0], std::byte{0x11});
  EXPECT_EQ(buf[3], std::byte{0x33});
  EXPECT_EQ(buf[4], std::byte{0x22});
}

TEST(WireTest, BoolAboveOneIsMalformed) {
  std::vector<std::byte> buf = {std::byte{2}};
  WireReader r(buf);
  static_cast<void>(r.Bool());
  EXPECT_FALSE(r.ok());
}

TEST(WireTest, TrailingBytesAreNotAtEnd) {
  std::vector<std::byte> buf;
  WireWriter w(buf);
  w.U32(5);
  w.U8(1);
  WireReader r(buf);
  EXPECT_EQ(r.U32(), 5u);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.AtEnd());
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(WireTest, FailureIsStickyAndYieldsZeroes) {
  std::vector<std::byte> buf = {std::byte{1}, std::byte{2}, std::byte{3}};
  WireReader r(buf);
  EXPECT_EQ(r.U32(), 0u);  // 3 bytes cannot hold a u32
  EXPECT_FALSE(r.ok());
  // Enough bytes remain for these, but a failed reader stays failed.
  EXPECT_EQ(r.U8(), 0u);
  EXPECT_EQ(r.U16(), 0u);
  EXPECT_TRUE(r.Bytes().empty());
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.AtEnd());
}

TEST(WireTest, FailMarksTheReaderMalformed) {
  std::vector<std::byte> buf(8);
  WireReader r(buf);
  EXPECT_EQ(r.U64(), 0u);
  EXPECT_TRUE(r.AtEnd());
  r.Fail();
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.AtEnd());
}

TEST(WireTest, BytesLongerThanTheInputAreRejected) {
  std::vector<std::byte> buf;
  WireWriter w(buf);
  w.U32(5);
  w.Put("abcd", 4);  // one byte short
  WireReader r(buf);
  EXPECT_TRUE(r.Bytes().empty());
  EXPECT_FALSE(r.ok());

  std::vector<std::byte> huge;
  WireWriter hw(huge);
  hw.U32(0xffffffffu);
  WireReader hr(huge);
  EXPECT_TRUE(hr.String().empty());
  EXPECT_FALSE(hr.ok());
}

TEST(WireTest, BytesExactlyFillingTheInputAreAccepted) {
  std::vector<std::byte> buf;
  WireWriter w(buf);
  w.U32(4);
  w.Put("abcd", 4);
  WireReader r(buf);
  EXPECT_EQ(r.Bytes().size(), 4u);
  EXPECT_TRUE(r.AtEnd());
}

TEST(WireTest, CountRejectsCountsTheInputCannotHold) {
  auto count_of = [](uint32_t n, size_t payload, size_t min_item, bool* ok) {
    std::vector<std::byte> buf;
    WireWriter w(buf);
    w.U32(n);
    buf.resize(buf.size() + payload);
    WireReader r(buf);
    uint32_t got = r.Count(min_item);
    *ok = r.ok();
    return got;
  };
  bool ok = false;
  EXPECT_EQ(count_of(4, 32, 8, &ok), 4u);  // exactly fits
  EXPECT_TRUE(ok);
  EXPECT_EQ(count_of(5, 32, 8, &ok), 0u);  // one too many
  EXPECT_FALSE(ok);
  EXPECT_EQ(count_of(0xffffffffu, 32, 1, &ok), 0u);  // forged
  EXPECT_FALSE(ok);
  EXPECT_EQ(count_of(0x10000000u, 0, 16, &ok), 0u);
  EXPECT_FALSE(ok);
  EXPECT_EQ(count_of(0, 0, 16, &ok), 0u);  // an empty list is fine
  EXPECT_TRUE(ok);
  EXPECT_EQ(count_of(3, 0, 0, &ok), 3u);  // items of unknown size: not checkable
  EXPECT_TRUE(ok);
}

TEST(WireTest, CountOnTruncatedInputFails) {
  std::vector<std::byte> buf = {std::byte{1}, std::byte{0}};
  WireReader r(buf);
  EXPECT_EQ(r.Count(1), 0u);
  EXPECT_FALSE(r.ok());
}

// A message in the shape that real decoders read (a pull-region reply and a list of ids).
struct Message {
  uint64_t request = 0;
  std::string metadata;
  uint64_t size = 0;
  bool flag = false;
  std::vector<ObjectId> ids;
  TaskId task;
  std::string rkey;
};

std::vector<std::byte> Encode(const Message& m) {
  std::vector<std::byte> buf;
  WireWriter w(buf);
  w.U64(m.request);
  w.String(m.metadata);
  w.U64(m.size);
  w.Bool(m.flag);
  w.U32(static_cast<uint32_t>(m.ids.size()));
  for (const ObjectId& id : m.ids) w.Object(id);
  w.Task(m.task);
  w.Bytes(AsBytes(m.rkey));
  return buf;
}

constexpr size_t kEncodedObjectBytes = 16;

// Decodes like production code: read everything, check once at the end.
bool Decode(std::span<const std::byte> in, Message* out) {
  WireReader r(in);
  out->request = r.U64();
  out->metadata = r.String();
  out->size = r.U64();
  out->flag = r.Bool();
  uint32_t n = r.Count(kEncodedObjectBytes);
  out->ids.clear();
  for (uint32_t i = 0; i < n && r.ok(); ++i) out->ids.push_back(r.Object());
  out->task = r.Task();
  auto rkey = r.Bytes();
  EXPECT_TRUE(Within(rkey, in));
  out->rkey.assign(reinterpret_cast<const char*>(rkey.data()), rkey.size());
  return r.AtEnd();
}

Message Sample() {
  Message m;
  m.request = 77;
  m.metadata = "meta";
  m.size = 1 << 20;
  m.flag = true;
  m.ids = {ObjectId{1, 0, 5}, ObjectId{2, 1, 6}, ObjectId{3, 2, 7}};
  m.task = TaskId{4, 8};
  m.rkey = std::string(40, 'k');
  return m;
}

TEST(WireTest, TruncatedInputFailsAtEveryLengthWithoutReadingPastTheEnd) {
  const std::vector<std::byte> full = Encode(Sample());
  GuardedBuffer guard;
  for (size_t len = 0; len < full.size(); ++len) {
    auto in = guard.Place(std::span(full).first(len));
    Message m;
    EXPECT_FALSE(Decode(in, &m)) << "prefix of " << len << " of " << full.size()
                                 << " bytes decoded";
    // Each field either decoded fully or stayed at its zero value.
    EXPECT_LE(m.ids.size(), 3u);
  }
  Message m;
  EXPECT_TRUE(Decode(guard.Place(full), &m));
  EXPECT_EQ(m.metadata, "meta");
  EXPECT_EQ(m.ids.size(), 3u);
  EXPECT_EQ(m.rkey, std::string(40, 'k'));
}

TEST(WireTest, EveryScalarReadAtTheGuardFailsCleanly) {
  GuardedBuffer guard;
  const std::vector<std::byte> seven(7, std::byte{0xff});
  for (size_t len = 0; len <= 7; ++len) {
    auto in = guard.Place(std::span(seven).first(len));
    WireReader r(in);
    EXPECT_EQ(r.U64(), 0u);
    EXPECT_FALSE(r.ok());
    WireReader r2(in);
    EXPECT_EQ(r2.F64(), 0.0);
    EXPECT_FALSE(r2.ok());
    WireReader r3(in);
    r3.Object();
    EXPECT_FALSE(r3.ok());
  }
}

TEST(WireTest, ForgedListCountIsRejectedBeforeAllocating) {
  Message m = Sample();
  std::vector<std::byte> buf = Encode(m);
  // The count sits after request (8), metadata (4 + 4), size (8), flag (1).
  const size_t count_at = 8 + 4 + 4 + 8 + 1;
  uint32_t forged = 0xfffffff0u;
  std::memcpy(buf.data() + count_at, &forged, sizeof forged);
  Message out;
  EXPECT_FALSE(Decode(buf, &out));
  EXPECT_TRUE(out.ids.empty());
}

// Encodes what Decode produced, then compares with the bytes it consumed: a successful decode
// must describe its input exactly.
TEST(WireTest, FuzzedInputNeverCrashesAndFailsConsistently) {
  std::mt19937_64 rng(20240611);
  const std::vector<std::byte> valid = Encode(Sample());
  GuardedBuffer guard;
  int accepted = 0;
  int rejected = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::vector<std::byte> input;
    switch (iteration % 3) {
      case 0: {  // random bytes
        input.resize(rng() % 160);
        for (auto& b : input) b = static_cast<std::byte>(rng());
        break;
      }
      case 1: {  // a valid message with a few bytes flipped
        input = valid;
        int flips = 1 + static_cast<int>(rng() % 3);
        for (int f = 0; f < flips; ++f)
          input[rng() % input.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
        break;
      }
      default: {  // a valid message cut or extended
        input = valid;
        if (rng() % 2 == 0) {
          input.resize(rng() % input.size());
        } else {
          input.resize(input.size() + 1 + rng() % 8, static_cast<std::byte>(rng()));
        }
        break;
      }
    }
    auto in = guard.Place(input);
    Message first;
    Message second;
    bool ok = Decode(in, &first);
    EXPECT_EQ(ok, Decode(in, &second)) << "iteration " << iteration;
    if (ok) {
      ++accepted;
      EXPECT_EQ(Encode(first), input) << "iteration " << iteration;
    } else {
      ++rejected;
    }
    if (HasFailure()) break;
  }
  EXPECT_GT(accepted, 100);    // the mutations keep some messages valid...
  EXPECT_GT(rejected, 10000);  // ...and most inputs are rejected
}

}  // namespace
}  // namespace prism
