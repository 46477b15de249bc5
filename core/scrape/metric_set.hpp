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
// series within a family (the later one is refused as it arrives).
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

#include "common/exposition_rules.hpp"
#include "util/status.hpp"

namespace sysmetrics {

enum class MetricType : std::uint8_t {
  kCounter,
  kGauge,
  kUntyped,
  kHistogram,
  kSummary
};

std::string_view MetricTypeName(MetricType type);

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

  // Adds a sample to the current family. Fails (and the sample is not
  // added) if there is no current family, the suffix does not fit the
  // family type, a label name is invalid or repeated, the family already
  // has a sample with the same suffix and label set (in any order; label
  // values compared after UTF-8 repair), or the sample limit is reached
  // (limit_reached() then true).
  Status AddSample(std::string_view suffix, std::span<const LabelView> labels,
                   double value);

  // Ends the current family. Called by BeginFamily; call it once after the
  // last sample.
  void Finish();

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
  std::uint64_t SeriesHash(const Sample& s) const;
  bool SameSeries(const Sample& a, const Sample& b) const;
  // Whether the current family's last sample (hash h) repeats an earlier
  // series; if not, records it for the samples after it.
  bool RepeatsSeries(std::uint64_t h);
  // Makes every slot of the series table empty for what comes next (a new
  // family, or a rebuild of the current one's entries).
  void NextFamilyTag();
  bool HasFamily(std::string_view name) const;

  // Families are found by a scan while few (the usual plugin), by a hash
  // index from this many on (a plugin emitting thousands).
  static constexpr std::size_t kIndexFamiliesFrom = 32;
  // A family's series are compared by a scan of their hashes while few, by
  // an open-addressing table from this many on.
  static constexpr std::size_t kSeriesTableFrom = 8;

  std::string arena_;
  std::vector<Family> families_;
  std::unordered_multimap<std::size_t, std::uint32_t> family_index_;
  std::vector<Sample> samples_;
  std::vector<Label> labels_;
  // The series hashes of the current family's samples, in order, and (from
  // kSeriesTableFrom samples on) a table of indexes into it. A slot is
  // empty unless its tag is the current family's.
  struct SeriesSlot {
    std::uint32_t index = 0;
    std::uint32_t tag = 0;
  };
  std::vector<std::uint64_t> hashes_;
  std::vector<SeriesSlot> table_;
  std::uint32_t family_tag_ = 0;  // never 0 while a family is open
  std::size_t series_peak_ = 0;   // most slots used in this fill
  std::size_t sample_limit_ = 0;
  bool open_ = false;  // a family is current and accepting samples
  bool repaired_ = false;
  bool limit_reached_ = false;
};

}  // namespace sysmetrics
