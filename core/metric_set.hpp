// MetricSet: the metric model, families and samples as plain records.
//
// One MetricSet holds what one collector emitted in one collection: families
// (name, help, type, unit) each followed by its samples (suffix, labels,
// value). Strings live in one arena and records refer to them by offset, so
// a MetricSet that is cleared and refilled every scrape stops allocating once
// it has grown to its working size. Both serializers (text 0.0.4 and
// OpenMetrics) read this one model.
//
// Everything added is validated: metric and label names against the
// exposition grammar, help and label values as UTF-8 (invalid bytes are
// replaced with U+FFFD and reported), one family per name, no duplicate
// series within a family (the later one is dropped and reported).
//
// Not thread-safe: one writer at a time; readers after the writer is done.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "status.hpp"

namespace sysmetrics {

enum class MetricType : std::uint8_t {
  kCounter,
  kGauge,
  kUntyped,
  kHistogram,
  kSummary
};

std::string_view MetricTypeName(MetricType type);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(std::string_view name);
bool IsValidUtf8(std::string_view text);
// Appends text to out, replacing each invalid UTF-8 sequence with U+FFFD.
// Returns true if anything was replaced.
bool AppendRepairedUtf8(std::string& out, std::string_view text);

struct LabelView {
  std::string_view name;
  std::string_view value;
};

class MetricSet {
 public:
  struct StrRef {
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
  };
  struct Family {
    StrRef name;
    StrRef help;
    StrRef unit;
    MetricType type = MetricType::kUntyped;
    std::uint32_t first_sample = 0;
    std::uint32_t sample_count = 0;
  };
  struct Label {
    StrRef name;
    StrRef value;
  };
  struct Sample {
    StrRef suffix;
    std::uint32_t first_label = 0;
    std::uint32_t label_count = 0;
    double value = 0;
    bool dropped = false;  // a duplicate series; serializers skip it
  };

  // Forgets the contents, keeps the capacity.
  void Clear();

  // Upper bound on samples; 0 means unlimited.
  void set_sample_limit(std::size_t limit) { sample_limit_ = limit; }

  // Starts a family. Fails (and the family and its samples are ignored) if
  // the name is invalid or already used in this set, or the unit does not
  // match the name's suffix. Help with invalid UTF-8 is repaired, and the
  // returned Status is OK with a note in repaired().
  Status BeginFamily(std::string_view name, std::string_view help,
                     MetricType type, std::string_view unit = {});

  // Adds a sample to the current family. Fails if there is no current family,
  // the suffix does not fit the family type, a label name is invalid or
  // repeated, or the sample limit is reached (limit_reached() then true).
  Status AddSample(std::string_view suffix, std::span<const LabelView> labels,
                   double value);

  // Ends the current family: finds duplicate series and drops all but the
  // first of each. Returns how many were dropped. Called by BeginFamily and
  // by Finish; call Finish once after the last sample.
  std::size_t Finish();

  // True if the last BeginFamily/AddSample had to repair invalid UTF-8.
  bool repaired() const { return repaired_; }
  bool limit_reached() const { return limit_reached_; }
  std::size_t sample_count() const { return samples_.size(); }

  const std::vector<Family>& families() const { return families_; }
  const Sample& sample(std::size_t i) const { return samples_[i]; }
  const Label& label(std::size_t i) const { return labels_[i]; }
  std::string_view str(StrRef r) const {
    return {arena_.data() + r.offset, r.size};
  }

 private:
  StrRef Store(std::string_view s);
  StrRef StoreRepaired(std::string_view s);
  std::size_t DropDuplicates(Family& family);
  bool HasFamily(std::string_view name) const;

  // Families are found by a scan while few (the usual plugin), by a hash
  // index from this many on (a plugin emitting thousands).
  static constexpr std::size_t kIndexFamiliesFrom = 32;

  std::string arena_;
  std::vector<Family> families_;
  std::unordered_multimap<std::size_t, std::uint32_t> family_index_;
  std::vector<Sample> samples_;
  std::vector<Label> labels_;
  std::vector<std::uint64_t> hashes_;  // scratch for DropDuplicates
  std::vector<std::uint32_t> table_;   // scratch for DropDuplicates
  std::size_t sample_limit_ = 0;
  bool open_ = false;  // a family is current and accepting samples
  bool finished_ = true;
  bool repaired_ = false;
  bool limit_reached_ = false;
};

}  // namespace sysmetrics
