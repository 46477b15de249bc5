// The query string of a scrape: which collectors to run.
//
// /metrics?collect[]=cpu&collect[]=memory runs only those collectors, and
// /metrics?exclude[]=disk all but those, as node_exporter does. Keys and
// values are percent-decoded ("collect%5B%5D" is "collect[]", '+' is a
// space); other keys are ignored. A name that is not a loaded collector, an
// empty name, or both keys at once is an error naming the valid names.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "status.hpp"

namespace sysmetrics {

// Decodes %XX escapes and '+' (form encoding). False on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out);

// The collectors to run, by index into names: empty when the query selects
// nothing in particular (run them all), else one flag per name.
Result<std::vector<bool>> SelectCollectors(
    std::string_view query, const std::vector<std::string>& names);

}  // namespace sysmetrics
