#include "scrape/metric_set.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace sysmetrics {
namespace {

// Hashes s from seed h, its length first so that ("ab", "c") and
// ("a", "bc") differ: every sample of every scrape is hashed as it is
// added, and FNV-1a's byte at a time was then the largest cost of adding
// one. Loads are of a fixed size (a variable one is a call); the last,
// short word overlaps the one before it, which the length makes
// unambiguous. Callers finish with Mix.
std::uint64_t HashBytes(std::string_view s, std::uint64_t h) {
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  const auto step = [&](std::uint64_t word) {
    h = (h ^ word) * kMul;
    h ^= h >> 29;
  };
  const auto load = [](const char* at, auto word) {
    std::memcpy(&word, at, sizeof word);
    return static_cast<std::uint64_t>(word);
  };
  const auto byte = [](char c) {
    return std::uint64_t{static_cast<unsigned char>(c)};
  };
  const char* p = s.data();
  const std::size_t n = s.size();
  h ^= n;
  if (n >= 8) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) step(load(p + i, std::uint64_t{}));
    if (i < n) step(load(p + n - 8, std::uint64_t{}));
  } else if (n >= 4) {
    step(load(p, std::uint32_t{}) | load(p + n - 4, std::uint32_t{}) << 32);
  } else if (n > 0) {
    step(byte(p[0]) | byte(p[n / 2]) << 8 | byte(p[n - 1]) << 16);
  }
  return h;
}

std::uint64_t Mix(std::uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr std::uint64_t kHashSeed = 0xcbf29ce484222325ULL;

bool SuffixAllowed(MetricType type, std::string_view suffix) {
  switch (type) {
    case MetricType::kHistogram:
      return suffix == "_bucket" || suffix == "_sum" || suffix == "_count";
    case MetricType::kSummary:
      return suffix.empty() || suffix == "_sum" || suffix == "_count";
    default:
      return suffix.empty();
  }
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

bool MetricSet::HasFamily(std::string_view name) const {
  if (families_.size() < kIndexFamiliesFrom) {
    return std::any_of(families_.begin(), families_.end(),
                       [&](const Family& f) { return str(f.name) == name; });
  }
  const auto [first, last] =
      family_index_.equal_range(std::hash<std::string_view>{}(name));
  return std::any_of(first, last, [&](const auto& entry) {
    return str(families_[entry.second].name) == name;
  });
}

namespace {

// Empties c; also gives its memory back when it holds over 256 KiB and
// the fill just ended used under a quarter of it, so one huge collect (a
// host with thousands of devices for a while) does not keep its memory for
// good, while a steady working size keeps its capacity.
template <class C>
void ClearAndTrim(C& c) {
  constexpr std::size_t kKeepBytes = 256 << 10;
  const std::size_t bytes = c.capacity() * sizeof(typename C::value_type);
  if (bytes > kKeepBytes && c.capacity() / 4 > c.size()) {
    C().swap(c);
  } else {
    c.clear();
  }
}

}  // namespace

void MetricSet::Clear() {
  ClearAndTrim(arena_);
  ClearAndTrim(families_);
  family_index_.clear();
  if (family_index_.bucket_count() > 4 * kIndexFamiliesFrom * 64) {
    family_index_.rehash(0);
  }
  ClearAndTrim(samples_);
  ClearAndTrim(labels_);
  // The series table keeps its size unless the fill just ended needed
  // under a quarter of it (and it holds over 256 KiB).
  if (table_.size() * sizeof(SeriesSlot) > (256u << 10) &&
      table_.size() / 8 > series_peak_) {
    std::vector<SeriesSlot>().swap(table_);
  }
  series_peak_ = 0;
  open_ = false;
  repaired_ = false;
  limit_reached_ = false;
}

MetricSet::StrRef MetricSet::Store(std::string_view s) {
  StrRef r{static_cast<std::uint32_t>(arena_.size()),
           static_cast<std::uint32_t>(s.size())};
  arena_.append(s);
  return r;
}

MetricSet::StrRef MetricSet::StoreRepaired(std::string_view s) {
  const auto offset = static_cast<std::uint32_t>(arena_.size());
  if (AppendRepairedUtf8(arena_, s)) repaired_ = true;
  return {offset, static_cast<std::uint32_t>(arena_.size() - offset)};
}

Status MetricSet::BeginFamily(std::string_view name, std::string_view help,
                              MetricType type, std::string_view unit) {
  Finish();
  open_ = false;
  repaired_ = false;
  if (!IsValidMetricName(name)) {
    return Status::Error("invalid metric name '" + std::string(name) + "'");
  }
  if (type > MetricType::kSummary) {
    return Status::Error("metric '" + std::string(name) + "' has unknown type");
  }
  if (!unit.empty()) {
    std::string_view stem = name;
    if (type == MetricType::kCounter && stem.ends_with("_total")) {
      stem.remove_suffix(6);
    }
    if (!IsValidMetricName(unit) || stem.size() <= unit.size() + 1 ||
        !stem.ends_with(unit) || stem[stem.size() - unit.size() - 1] != '_') {
      return Status::Error("metric '" + std::string(name) +
                           "' does not end in its unit '_" + std::string(unit) +
                           "'");
    }
  }
  if (sample_limit_ != 0 && families_.size() >= sample_limit_) {
    limit_reached_ = true;
    return Status::Error("family limit of " + std::to_string(sample_limit_) +
                         " reached");
  }
  if (HasFamily(name)) {
    return Status::Error("metric family '" + std::string(name) +
                         "' emitted twice");
  }
  Family f;
  f.name = Store(name);
  f.help = StoreRepaired(help);
  f.unit = Store(unit);
  f.type = type;
  f.first_sample = static_cast<std::uint32_t>(samples_.size());
  families_.push_back(f);
  if (families_.size() == kIndexFamiliesFrom) {
    for (std::uint32_t i = 0; i < families_.size(); ++i) {
      family_index_.emplace(
          std::hash<std::string_view>{}(str(families_[i].name)), i);
    }
  } else if (families_.size() > kIndexFamiliesFrom) {
    family_index_.emplace(std::hash<std::string_view>{}(name),
                          static_cast<std::uint32_t>(families_.size() - 1));
  }
  hashes_.clear();
  // A new family: the table's entries of the one before are empty now.
  NextFamilyTag();
  open_ = true;
  return Status::Ok();
}

Status MetricSet::AddSample(std::string_view suffix,
                            std::span<const LabelView> labels, double value) {
  repaired_ = false;
  if (!open_) {
    return Status::Error("sample without a valid current family");
  }
  Family& f = families_.back();
  if (sample_limit_ != 0 && samples_.size() >= sample_limit_) {
    limit_reached_ = true;
    return Status::Error("sample limit of " + std::to_string(sample_limit_) +
                         " reached");
  }
  if (!SuffixAllowed(f.type, suffix)) {
    return Status::Error("suffix '" + std::string(suffix) +
                         "' not allowed for " +
                         std::string(MetricTypeName(f.type)) + " '" +
                         std::string(str(f.name)) + "'");
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!IsValidLabelName(labels[i].name)) {
      return Status::Error("invalid label name '" +
                           std::string(labels[i].name) + "' in '" +
                           std::string(str(f.name)) + "'");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].name == labels[i].name) {
        return Status::Error("label '" + std::string(labels[i].name) +
                             "' repeated in '" + std::string(str(f.name)) +
                             "'");
      }
    }
  }
  // Stored before the duplicate check, which compares what would be
  // served (label values after repair); taken back if it is a duplicate.
  const std::size_t arena_mark = arena_.size();
  const bool repaired_before = repaired_;
  Sample s;
  s.suffix = Store(suffix);
  s.first_label = static_cast<std::uint32_t>(labels_.size());
  s.label_count = static_cast<std::uint32_t>(labels.size());
  s.value = value;
  for (const LabelView& l : labels) {
    Label stored;
    stored.name = Store(l.name);
    stored.value = StoreRepaired(l.value);
    labels_.push_back(stored);
  }
  samples_.push_back(s);
  if (RepeatsSeries(SeriesHash(s))) {
    samples_.pop_back();
    labels_.resize(s.first_label);
    arena_.resize(arena_mark);
    repaired_ = repaired_before;
    return Status::Error("duplicate series in '" + std::string(str(f.name)) +
                         "' refused; the first was kept");
  }
  ++f.sample_count;
  return Status::Ok();
}

void MetricSet::Finish() { open_ = false; }

// An order-independent hash of (suffix, label set): the label pairs' hashes
// are added, so the same set in another order hashes the same. A pair's name
// and value are hashed apart, so the two chains of multiplications overlap.
std::uint64_t MetricSet::SeriesHash(const Sample& s) const {
  constexpr std::uint64_t kValueSeed = 0x9e3779b97f4a7c15ULL;
  std::uint64_t h =
      s.suffix.size == 0 ? 0 : Mix(HashBytes(str(s.suffix), kHashSeed));
  for (std::uint32_t j = 0; j < s.label_count; ++j) {
    const Label& l = labels_[s.first_label + j];
    h += Mix(HashBytes(str(l.name), kHashSeed) ^
             std::rotl(HashBytes(str(l.value), kValueSeed), 31));
  }
  return h;
}

bool MetricSet::SameSeries(const Sample& a, const Sample& b) const {
  if (str(a.suffix) != str(b.suffix) || a.label_count != b.label_count) {
    return false;
  }
  // Label names are unique within a sample (AddSample), so a match for
  // each of a's labels in b means the same set.
  for (std::uint32_t i = 0; i < a.label_count; ++i) {
    const Label& la = labels_[a.first_label + i];
    bool found = false;
    for (std::uint32_t j = 0; j < b.label_count && !found; ++j) {
      const Label& lb = labels_[b.first_label + j];
      found = str(la.name) == str(lb.name) && str(la.value) == str(lb.value);
    }
    if (!found) return false;
  }
  return true;
}

void MetricSet::NextFamilyTag() {
  if (++family_tag_ == 0) {
    std::fill(table_.begin(), table_.end(), SeriesSlot{});
    family_tag_ = 1;
  }
}

bool MetricSet::RepeatsSeries(std::uint64_t h) {
  // A scan of the few hashes of a small family; for a larger one, an
  // open-addressing table (at most half full) whose slots carry the tag of
  // the family that filled them, so a new family needs no clearing and the
  // table, once grown, serves every later family and fill without
  // allocating or clearing.
  const Family& family = families_.back();
  const Sample& s = samples_.back();
  const auto k = static_cast<std::uint32_t>(hashes_.size());
  const auto earlier = [&](std::uint32_t i) -> const Sample& {
    return samples_[family.first_sample + i];
  };
  if (k < kSeriesTableFrom) {
    for (std::uint32_t i = 0; i < k; ++i) {
      if (hashes_[i] == h && SameSeries(earlier(i), s)) return true;
    }
    hashes_.push_back(h);
    return false;
  }
  series_peak_ = std::max<std::size_t>(series_peak_, k + 1);
  const std::size_t need = 2 * (static_cast<std::size_t>(k) + 1);
  const bool grow = table_.size() < need;
  if (grow) {
    std::size_t buckets =
        std::max<std::size_t>(4 * kSeriesTableFrom, 2 * table_.size());
    while (buckets < need) buckets *= 2;
    table_.assign(buckets, SeriesSlot{});
  }
  const std::size_t mask = table_.size() - 1;
  const auto insert = [&](std::uint32_t i) {
    std::size_t b = hashes_[i] & mask;
    while (table_[b].tag == family_tag_) b = (b + 1) & mask;
    table_[b] = SeriesSlot{i, family_tag_};
  };
  if (grow || k == kSeriesTableFrom) {
    // A fresh tag first: a rebuild at kSeriesTableFrom recurs for every
    // repeat refused at that size, and must not add the family's entries
    // again each time (the table filled up and insert never ended).
    NextFamilyTag();
    for (std::uint32_t i = 0; i < k; ++i) insert(i);
  }
  for (std::size_t b = h & mask;; b = (b + 1) & mask) {
    const SeriesSlot slot = table_[b];
    if (slot.tag != family_tag_) {
      table_[b] = SeriesSlot{k, family_tag_};
      hashes_.push_back(h);
      return false;
    }
    if (hashes_[slot.index] == h && SameSeries(earlier(slot.index), s)) {
      return true;
    }
  }
}

}  // namespace sysmetrics
