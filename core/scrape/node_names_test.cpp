// node_exporter-compatible names: the table, and the renaming a built-in
// collector's output gets through the host services in node mode.
#include "scrape/node_names.hpp"

#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>

#include "memory/meminfo_fields.hpp"
#include "scrape/collector.hpp"
#include "scrape/metric_set.hpp"
#include "scrape/text_format.hpp"
#include "util/log.hpp"

namespace sysmetrics {
namespace {

TEST_CASE("metric_names parses its two values only") {
  Result<MetricNames> m = ParseMetricNames("sysmetrics");
  REQUIRE(m.ok());
  CHECK(m.value() == MetricNames::kSysmetrics);
  m = ParseMetricNames("node");
  REQUIRE(m.ok());
  CHECK(m.value() == MetricNames::kNode);
  m = ParseMetricNames("Node");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error() ==
        "\"Node\" is not sysmetrics or node (node_exporter's names)");
  CHECK_FALSE(ParseMetricNames("").ok());
}

TEST_CASE("meminfo keys get node_exporter's names") {
  CHECK(NodeMeminfoFamily("MemTotal", true) == "node_memory_MemTotal_bytes");
  CHECK(NodeMeminfoFamily("Active(anon)", true) ==
        "node_memory_Active_anon_bytes");
  CHECK(NodeMeminfoFamily("HugePages_Total", false) ==
        "node_memory_HugePages_Total");
}

TEST_CASE("exact rows, prefix rows, and families that keep their name") {
  const NodeNameMap& map = NodeNameMap::Get();
  const NodeNameRow* row = map.Find("sysmetrics_disk_io_in_progress");
  REQUIRE(row != nullptr);
  CHECK(NodeNameMap::NodeFamily(*row, "sysmetrics_disk_io_in_progress") ==
        "node_disk_io_now");
  row = map.Find("sysmetrics_vmstat_pgfault");
  REQUIRE(row != nullptr);
  CHECK(NodeNameMap::NodeFamily(*row, "sysmetrics_vmstat_pgfault") ==
        "node_vmstat_pgfault");
  CHECK(map.Find("sysmetrics_vmstat_") == nullptr);      // the prefix alone
  CHECK(map.Find("sysmetrics_cpus_online") == nullptr);  // no equivalent
  CHECK(map.Find("sysmetrics_memory_used_bytes") == nullptr);
  CHECK(map.Find("sysmetrics_collector_success") == nullptr);
  CHECK(map.Find("something_else") == nullptr);
  row = map.Find("sysmetrics_network_receive_errors_total");
  REQUIRE(row != nullptr);
  CHECK(row->node == "node_network_receive_errs_total");
  CHECK(row->label_from == "interface");
  CHECK(row->label_to == "device");
}

TEST_CASE("every meminfo key of the memory collector's table has a row") {
  const NodeNameMap& map = NodeNameMap::Get();
  for (const memory::MeminfoField& f : memory::kMeminfoFields) {
    CAPTURE(f.key);
    const NodeNameRow* row = map.Find(f.family);
    REQUIRE(row != nullptr);
    CHECK(row->node == NodeMeminfoFamily(f.key, f.kib));
  }
}

TEST_CASE("no two families share a native or a node name") {
  std::set<std::string> natives;
  std::set<std::string> nodes;
  for (const NodeNameRow& r : NodeNameMap::Get().rows()) {
    CAPTURE(r.native);
    CHECK(r.native.starts_with("sysmetrics_"));
    CHECK(natives.insert(r.native).second);
    if (r.node.empty()) continue;
    CHECK(r.node.starts_with("node_"));
    CHECK(r.prefix == r.node.ends_with('_'));
    CHECK(nodes.insert(r.node).second);
  }
}

TEST_CASE("the README table has one line per row") {
  const std::string table = NodeNameTableMarkdown();
  std::size_t lines = 0;
  for (char c : table) lines += c == '\n' ? 1 : 0;
  CHECK(lines == NodeNameMap::Get().rows().size() + 2);
  CHECK(table.find("| disk | `sysmetrics_disk_discarded_bytes_total` | "
                   "`node_disk_discarded_sectors_total` | bytes become "
                   "512-byte sectors |") != std::string::npos);
}

// The network collector's emitter, in node mode or not, and the text of
// what it emitted.
struct NetworkEmitter {
  explicit NetworkEmitter(bool node) {
    host.plugin_name = "network";
    host.shipped = true;
    if (node) host.node_names = &NodeNameMap::Get();
    em.host = &host;
    em.set = &set;
  }
  // Begins family (help "h") and emits one sample with label, if any.
  void Emit(const char* family, sm_metric_type type, const char* unit,
            const sm_label* label, double value) {
    const sm_host_api& api = HostApi();
    sm_family f{};
    f.struct_size = sizeof f;
    f.help = "h";
    f.type = type;
    f.name = family;
    f.unit = unit;
    sm_sample s{};
    s.struct_size = sizeof s;
    s.labels = label;
    s.n_labels = label != nullptr ? 1 : 0;
    s.value = value;
    REQUIRE(api.begin_family(&em, &f) == SM_OK);
    REQUIRE(api.emit_sample(&em, &s) == SM_OK);
  }
  std::string Text() {
    set.Finish();
    std::string text;
    AppendSetText(text, set);
    return text;
  }
  sm_host host;
  MetricSet set;
  sm_emitter em;
};

TEST_CASE(
    "in node mode a built-in's families, labels and values are "
    "renamed as emitted") {
  NetworkEmitter e(true);
  const sm_label eth0{"interface", "eth0"};
  const sm_label vda{"device", "vda"};
  e.Emit("sysmetrics_network_receive_errors_total", SM_METRIC_COUNTER, nullptr,
         &eth0, 3);
  e.Emit("sysmetrics_disk_discarded_bytes_total", SM_METRIC_COUNTER, "bytes",
         &vda, 1024);
  // No node equivalent: kept.
  e.Emit("sysmetrics_cpus_online", SM_METRIC_GAUGE, nullptr, nullptr, 2);
  CHECK(e.Text() ==
        "# HELP node_network_receive_errs_total h\n"
        "# TYPE node_network_receive_errs_total counter\n"
        "node_network_receive_errs_total{device=\"eth0\"} 3\n"
        "# HELP node_disk_discarded_sectors_total h\n"
        "# TYPE node_disk_discarded_sectors_total counter\n"
        "node_disk_discarded_sectors_total{device=\"vda\"} 2\n"
        "# HELP sysmetrics_cpus_online h\n"
        "# TYPE sysmetrics_cpus_online gauge\n"
        "sysmetrics_cpus_online 2\n");
}

TEST_CASE("without node mode nothing is renamed") {
  NetworkEmitter e(false);
  const sm_label eth0{"interface", "eth0"};
  e.Emit("sysmetrics_network_receive_errors_total", SM_METRIC_COUNTER, nullptr,
         &eth0, 3);
  CHECK(e.Text().find("sysmetrics_network_receive_errors_total"
                      "{interface=\"eth0\"} 3\n") != std::string::npos);
}

}  // namespace
}  // namespace sysmetrics
