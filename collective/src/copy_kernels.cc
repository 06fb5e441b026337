#include "copy_kernels.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace prism::collective {

void StreamCopy(void* dst, const void* src, size_t n) {
  auto* d = static_cast<std::byte*>(dst);
  const auto* s = static_cast<const std::byte*>(src);
#if defined(__SSE2__)
  constexpr size_t kLine = 64;
  // Plain stores up to the destination's first cache line boundary, streaming stores of whole
  // lines after it, plain stores for the tail.
  size_t head = (kLine - reinterpret_cast<uintptr_t>(d) % kLine) % kLine;
  if (n < head + kLine) {
    std::memcpy(d, s, n);
    return;
  }
  std::memcpy(d, s, head);
  size_t i = head;
  for (; i + kLine <= n; i += kLine) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 32));
    __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + i), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + i + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + i + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + i + 48), e);
  }
  _mm_sfence();  // streaming stores are weakly ordered: make them visible before what follows
  std::memcpy(d + i, s + i, n - i);
#else
  std::memcpy(d, s, n);
#endif
}

}  // namespace prism::collective
