#include "http/gzip.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <vector>

#include "common/text.hpp"
#include "common/thread_annotations.hpp"
#include "util/cpus.hpp"

namespace sysmetrics {
namespace {

// The q-value of a coding's parameters ("q=0.5"); 1 when absent.
double QValue(std::string_view params) {
  while (!params.empty()) {
    const std::size_t semi = params.find(';');
    const std::string_view p = TrimBlanks(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view()
                                            : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      double q = 1;
      const std::string_view v = p.substr(2);
      const auto r = std::from_chars(v.data(), v.data() + v.size(), q);
      return r.ec == std::errc() ? q : 1;
    }
  }
  return 1;
}

struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const {
    libdeflate_free_compressor(c);
  }
};
using Compressor = std::unique_ptr<libdeflate_compressor, CompressorDeleter>;

// Compressors are 200 KiB of hash tables each (level 1). One per server
// thread would multiply that by every connection thread; a shared free list
// keeps at most one per CPU the process may run on, as many as can
// compress at the same time. A thread that takes one while all are out
// (its CPU took another thread mid-compression) gets a new one, which is
// freed when given back past that bound (mapped memory: main.cpp's
// M_MMAP_THRESHOLD, so it leaves the process); otherwise a compressor is
// reused, never re-allocated.
class CompressorPool {
 public:
  Compressor Take() {
    {
      MutexLock lock(mu_);
      if (!free_.empty()) {
        Compressor c = std::move(free_.back());
        free_.pop_back();
        return c;
      }
    }
    return Compressor(libdeflate_alloc_compressor(kGzipLevel));
  }
  void Give(Compressor c) {
    MutexLock lock(mu_);
    if (free_.size() < keep_) free_.push_back(std::move(c));
  }

 private:
  const std::size_t keep_ = CpusAllowed();
  Mutex mu_;
  std::vector<Compressor> free_ GUARDED_BY(mu_);
};

CompressorPool& Compressors() {
  static CompressorPool* pool = new CompressorPool();  // never destroyed:
  return *pool;  // threads may still compress while the process exits
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  bool gzip = false;
  bool star = false;
  bool gzip_listed = false;
  while (!accept_encoding.empty()) {
    const std::size_t comma = accept_encoding.find(',');
    const std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos
                          ? std::string_view()
                          : accept_encoding.substr(comma + 1);
    const std::size_t semi = item.find(';');
    const std::string_view coding = TrimBlanks(item.substr(0, semi));
    const double q =
        semi == std::string_view::npos ? 1 : QValue(item.substr(semi + 1));
    if (EqualsIgnoreCase(coding, "gzip") ||
        EqualsIgnoreCase(coding, "x-gzip")) {
      gzip_listed = true;
      gzip = q > 0;
    } else if (coding == "*") {
      star = q > 0;
    }
  }
  return gzip_listed ? gzip : star;
}

Status GzipCompress(std::string_view in, std::string* out) {
  Compressor compressor = Compressors().Take();
  if (compressor == nullptr) {
    return Status::Error("gzip: cannot allocate a libdeflate compressor");
  }
  // A scrape body compresses five to ten times, so the output first gets a
  // quarter of the input (resize zero-fills it, and every worker thread
  // keeps its buffer: the bound, larger than the input, cost both a
  // memset and resident memory per thread for nothing). Only output that
  // does not fit is compressed again into the bound, which always fits.
  const std::size_t bound =
      libdeflate_gzip_compress_bound(compressor.get(), in.size());
  std::size_t n = 0;
  for (std::size_t room : {std::min(bound, in.size() / 4 + 4096), bound}) {
    out->resize(room);
    n = libdeflate_gzip_compress(compressor.get(), in.data(), in.size(),
                                 out->data(), out->size());
    if (n != 0 || room == bound) break;
  }
  out->resize(n);
  Compressors().Give(std::move(compressor));
  if (n == 0 && !in.empty()) {
    return Status::Error("gzip: libdeflate compressed " +
                         std::to_string(in.size()) + " bytes to nothing");
  }
  return Status::Ok();
}

}  // namespace sysmetrics
