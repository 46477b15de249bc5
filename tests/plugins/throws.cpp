// A C++ plugin whose Collect throws: a failed collect, and the process lives.
#include <stdexcept>
#include <sysmetrics/plugin.hpp>

namespace {

class Throws {
 public:
  explicit Throws(sysmetrics::Host& /*host*/) {}
  void Collect(sysmetrics::Emitter& emit) {
    emit.Family("sysmetrics_throws_partial", "Emitted before the throw.",
                SM_METRIC_GAUGE);
    emit.Sample(1);
    throw std::runtime_error("boom from C++");
  }
};

}  // namespace

SYSMETRICS_CPP_PLUGIN(Throws, "throws", "0.0.1", "Throws in Collect.", nullptr,
                      0)
