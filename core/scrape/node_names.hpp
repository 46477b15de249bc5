// node_exporter-compatible names: the one table that maps the built-in
// collectors' families to node_exporter 1.5's, used to rename them when
// [server] metric_names = "node" and to write README's mapping table.
//
// In node mode the host translates as a built-in collector emits (the
// plugins always emit their sysmetrics_ names, so name ownership and every
// check see those): a family with a row here is served under the row's node
// name, without an OpenMetrics unit (node_exporter declares none), with the
// row's label renamed in every sample and each value multiplied by the
// row's scale. A family without a row, or with a row that has no node name,
// keeps its sysmetrics_ name. The host's own families (sysmetrics_collector_*,
// sysmetrics_scrape_*) and the textfile collector's are never translated.
//
// Thread-safety: the table is built once, on first use, and immutable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.hpp"

namespace sysmetrics {

enum class MetricNames { kSysmetrics, kNode };

// Parses "sysmetrics" or "node"; any other text is an error naming it and
// the two values, for the caller to prefix with the setting it came from.
Result<MetricNames> ParseMetricNames(std::string_view text);

struct NodeNameRow {
  std::string collector;  // the sysmetrics collector that emits the family
  // The sysmetrics family, or, when prefix is set, a name prefix: every
  // family that starts with it is renamed by replacing the prefix.
  std::string native;
  std::string node;  // node_exporter's family (or prefix); empty: none
  bool prefix = false;
  std::string label_from;  // a label renamed in node mode; empty: none
  std::string label_to;
  double scale = 1;  // node value = sysmetrics value * scale
  std::string note;  // the difference, for README; empty: name only
};

class NodeNameMap {
 public:
  // The table of this build, built on first use.
  static const NodeNameMap& Get();

  // The row that renames family, or null when it keeps its name (no row,
  // or a row without a node name). Exact rows win over prefix rows.
  const NodeNameRow* Find(std::string_view family) const;

  // The node name of family under row (row from Find(family)).
  static std::string NodeFamily(const NodeNameRow& row,
                                std::string_view family);

  // Every row, in collector order, for the documentation.
  const std::vector<NodeNameRow>& rows() const { return rows_; }

 private:
  NodeNameMap();
  std::vector<NodeNameRow> rows_;
  std::vector<const NodeNameRow*> exact_;     // sorted by native
  std::vector<const NodeNameRow*> prefixes_;  // longest first
};

// node_exporter's name for a /proc/meminfo key: "node_memory_" + key with
// "(x)" written "_x", + "_bytes" for values in kB.
std::string NodeMeminfoFamily(std::string_view key, bool kib);

// Defaults of built-in collectors' options that differ in node mode, so
// that the same devices, interfaces and mounts are served as by
// node_exporter 1.5 as Debian 12 ships it; an option the operator set keeps
// the operator's value.
struct NodeOptionDefault {
  std::string_view collector;
  std::string_view key;
  std::string_view value;  // a string option's value
};
const std::vector<NodeOptionDefault>& NodeOptionDefaults();

// README's mapping table (Markdown), from rows().
std::string NodeNameTableMarkdown();

}  // namespace sysmetrics
