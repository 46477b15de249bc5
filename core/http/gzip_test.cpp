#include "http/gzip.hpp"

#include <doctest/doctest.h>
#include <libdeflate.h>

#include <cstdint>
#include <string>

namespace sysmetrics {
namespace {

TEST_CASE("Accept-Encoding negotiation") {
  CHECK(AcceptsGzip("gzip"));
  CHECK(AcceptsGzip("gzip, deflate, br"));
  CHECK(AcceptsGzip("deflate, GZIP;q=0.5"));
  CHECK(AcceptsGzip("x-gzip"));
  CHECK(AcceptsGzip("*"));
  CHECK(AcceptsGzip(" identity , gzip ; q=1.0"));
  CHECK_FALSE(AcceptsGzip(""));
  CHECK_FALSE(AcceptsGzip("identity"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0, *"));  // explicit refusal wins
  CHECK_FALSE(AcceptsGzip("*;q=0"));
  CHECK_FALSE(AcceptsGzip("gzipx"));
}

TEST_CASE("compressed output decompresses to the input") {
  std::string in;
  for (int i = 0; i < 1000; ++i) {
    in += "sysmetrics_cpu_seconds_total{cpu=\"" + std::to_string(i) +
          "\",mode=\"user\"} 12345.67\n";
  }
  std::string gz;
  REQUIRE(GzipCompress(in, &gz).ok());
  CHECK(gz.size() < in.size() / 4);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::string back(in.size(), '\0');
  std::size_t n = 0;
  REQUIRE(libdeflate_gzip_decompress(d, gz.data(), gz.size(), back.data(),
                                     back.size(), &n) == LIBDEFLATE_SUCCESS);
  libdeflate_free_decompressor(d);
  back.resize(n);
  CHECK(back == in);
  REQUIRE(GzipCompress("", &gz).ok());  // an empty body is still valid gzip
  CHECK(gz.size() >= 18);
}

TEST_CASE("input that hardly compresses: the same bytes as into the bound") {
  // Pseudo-random bytes do not fit in a quarter of their size, so the
  // output is compressed again into libdeflate's bound.
  std::string in;
  std::uint32_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 1103515245 + 12345;
    in.push_back(static_cast<char>(x >> 24));
  }
  std::string gz;
  REQUIRE(GzipCompress(in, &gz).ok());
  CHECK(gz.size() > in.size() / 4);
  libdeflate_compressor* c = libdeflate_alloc_compressor(kGzipLevel);
  std::string direct(libdeflate_gzip_compress_bound(c, in.size()), '\0');
  direct.resize(libdeflate_gzip_compress(c, in.data(), in.size(), direct.data(),
                                         direct.size()));
  libdeflate_free_compressor(c);
  CHECK(gz == direct);
}

}  // namespace
}  // namespace sysmetrics
