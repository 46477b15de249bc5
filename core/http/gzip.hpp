// Gzip for HTTP responses: Accept-Encoding negotiation and a compressor
// reused per thread.
//
// libdeflate rather than zlib: on a scrape body it is faster at every level
// and compresses smaller (DESIGN.md, Performance). It compresses a whole
// buffer in one call, which is all a scrape needs. Compressors come from a
// shared pool: allocated once, reused by every response. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "util/status.hpp"

namespace sysmetrics {

// The libdeflate level used for responses (1..12).
inline constexpr int kGzipLevel = 1;

// True if an Accept-Encoding header value allows gzip: a "gzip" (or "*")
// coding whose q-value is not 0. Case-insensitive, per RFC 9110 12.5.3.
bool AcceptsGzip(std::string_view accept_encoding);

// Replaces *out with the gzip (RFC 1952) form of in. An error only if the
// compressor cannot be allocated (or libdeflate fails); *out then holds
// nothing useful. out is a buffer the caller reuses across responses, so
// its capacity is kept: an out-parameter by choice, on the scrape path.
Status GzipCompress(std::string_view in, std::string* out);

}  // namespace sysmetrics
