#include "scrape/host_regex.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <regex>
#include <string_view>

struct sm_regex {
  std::regex re;
};

namespace sysmetrics {
namespace {

void WriteErr(char* err, std::size_t err_size, std::string_view why) {
  if (err == nullptr || err_size == 0) return;
  const std::size_t n = std::min(why.size(), err_size - 1);
  std::memcpy(err, why.data(), n);
  err[n] = '\0';
}

}  // namespace

sm_regex* HostRegexCompile(sm_host* /*host*/, const char* pattern, char* err,
                           std::size_t err_size) {
  try {
    return new sm_regex{
        std::regex(pattern != nullptr ? pattern : "", std::regex::ECMAScript)};
  } catch (const std::regex_error& e) {
    WriteErr(err, err_size, e.what());
  } catch (const std::bad_alloc&) {
    WriteErr(err, err_size, "out of memory");
  }
  return nullptr;
}

int HostRegexSearch(const sm_regex* re, const char* text, std::size_t len) {
  if (re == nullptr || (text == nullptr && len != 0)) return -1;
  try {
    return std::regex_search(text, text + len, re->re) ? 1 : 0;
  } catch (const std::exception&) {  // regex_error (complexity), bad_alloc
    return -1;
  }
}

void HostRegexFree(sm_regex* re) { delete re; }

}  // namespace sysmetrics
