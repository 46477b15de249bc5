// loadavg.so: the 1, 5 and 15 minute load averages from <procfs>/loadavg.
#include <string>
#include <sysmetrics/plugin.hpp>

#include "loadavg.hpp"
#include "proc_file.hpp"

namespace sysmetrics::loadavg {
namespace {

class LoadAvgCollector {
 public:
  explicit LoadAvgCollector(Host& host)
      : file_(host.ProcfsRoot() + "/loadavg") {}

  void Collect(Emitter& emit) {
    // One line and no line to skip: plugin::ReadAndParse's reporting of
    // skipped lines has nothing to do here.
    std::string error;
    if (!file_.Read(&buf_, &error)) throw Error(error, SM_ERR_IO);
    LoadAvg l;
    if (!ParseLoadAvg(buf_, file_.path(), &l, &error)) {
      throw Error(error, SM_ERR_PARSE);
    }
    auto gauge = [&](const char* name, const char* help, double v) {
      emit.Family(name, help, SM_METRIC_GAUGE);
      emit.Sample(v);
    };
    gauge("sysmetrics_load1", "1-minute load average.", l.load1);
    gauge("sysmetrics_load5", "5-minute load average.", l.load5);
    gauge("sysmetrics_load15", "15-minute load average.", l.load15);
  }

 private:
  plugin::ProcFile file_;
  std::string buf_;
};

}  // namespace
}  // namespace sysmetrics::loadavg

// collect() only reads a /proc file and computes: safe to run inline.
SYSMETRICS_CPP_PLUGIN_WITH_FLAGS(sysmetrics::loadavg::LoadAvgCollector,
                                 "loadavg", SYSMETRICS_VERSION,
                                 "Load averages, from /proc/loadavg.", nullptr,
                                 0, SM_PLUGIN_NONBLOCKING)
