// The query string of a scrape: which collectors to run.
//
// /metrics?collect[]=cpu&collect[]=memory runs only those collectors, and
// /metrics?exclude[]=disk all but those, as node_exporter does. Keys and
// values are percent-decoded ("collect%5B%5D" is "collect[]", '+' is a
// space); other keys are ignored. A name that is not a loaded collector, an
// empty name, or both keys at once is an error naming the valid names; a
// disabled or refused collector is named as such.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace sysmetrics {

// Decodes %XX escapes and '+' (form encoding). A malformed escape is the
// error "malformed percent-encoding", for the caller to say where.
Result<std::string> PercentDecode(std::string_view in);

// A collector the host knows of but does not run: a plugin present but not
// enabled, or enabled and refused at load. why says so, and what to do, in
// words for the client's error message.
struct UnavailableCollector {
  std::string name;
  std::string why;
};

// The collectors to run, by index into names: empty when the query selects
// nothing in particular (run them all), else one flag per name. collect[]
// of an unavailable collector is an error that gives its why; exclude[] of
// one is accepted, as there is nothing to leave out.
Result<std::vector<bool>> SelectCollectors(
    std::string_view query, const std::vector<std::string>& names,
    const std::vector<UnavailableCollector>& unavailable = {});

}  // namespace sysmetrics
