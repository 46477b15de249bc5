// uptime.so: time since boot and the idle time from <procfs>/uptime, a
// sysmetrics plugin in C++ using the SDK's header-only C++ layer.
//
// /proc/uptime (proc(5)): "12345.67 23456.78": seconds since boot, and the
// sum of the idle time of all CPUs in seconds.
#include <fstream>
#include <string>
#include <sysmetrics/plugin.hpp>

namespace {

// Options the host validates [collectors.uptime] against.
const sm_option kOptions[] = {
    sysmetrics::BoolOption("idle", true,
                           "Also export the CPUs' summed idle time."),
};

class Uptime {
 public:
  explicit Uptime(sysmetrics::Host& host)
      : path_(host.ProcfsRoot() + "/uptime"), idle_(host.Bool("idle")) {}

  // Throwing sysmetrics::Error fails this scrape for this collector only;
  // plugin.hpp turns it into a status and an error text at the C boundary.
  void Collect(sysmetrics::Emitter& emit) {
    std::ifstream in(path_);
    if (!in) throw sysmetrics::Error(path_ + ": cannot open", SM_ERR_IO);
    double up = 0;
    double idle = 0;
    if (!(in >> up >> idle)) {
      throw sysmetrics::Error(path_ + ":1: want two numbers", SM_ERR_PARSE);
    }
    emit.Family("sysmetrics_uptime_seconds", "Seconds since boot.",
                SM_METRIC_GAUGE, "seconds");
    emit.Sample(up);
    if (idle_) {
      emit.Family("sysmetrics_uptime_idle_seconds_total",
                  "Idle time of all CPUs since boot, summed.",
                  SM_METRIC_COUNTER, "seconds");
      emit.Sample(idle);
    }
  }

 private:
  std::string path_;
  bool idle_;
};

}  // namespace

SYSMETRICS_CPP_PLUGIN(Uptime, "uptime", "1.0.0",
                      "Time since boot from /proc/uptime.", kOptions,
                      sizeof kOptions / sizeof kOptions[0])
