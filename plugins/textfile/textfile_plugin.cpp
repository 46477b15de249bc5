// textfile.so: metrics from *.prom files that cron jobs and scripts write,
// like node_exporter's textfile collector.
//
// On each scrape, reads every *.prom file in the configured directories
// (sorted by path), parses each with textfile_parser's rules, and exports
// their families merged: a family in several files is one family if its
// type agrees (the first HELP wins), else the later file is refused. A bad
// file (unreadable, too large, malformed, with timestamps, clashing) costs
// that file only: it is logged with its path, line and reason, and
// sysmetrics_textfile_scrape_error is 1. A file that vanishes between the
// directory listing and its opening was being replaced: skipped quietly.
// The exporter drops a family whose name another plugin already uses (it
// merges textfile last) and duplicate series, with a log line each.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <sysmetrics/plugin.hpp>
#include <unordered_map>
#include <vector>

#include "text.hpp"
#include "textfile_parser.hpp"

namespace sysmetrics::textfile {
namespace {

const char* const kDefaultDirectories[] = {"/var/lib/sysmetrics/textfile",
                                           nullptr};

const sm_option kOptions[] = {
    StringListOption("directories", kDefaultDirectories,
                     "Directories whose *.prom files are read on each "
                     "scrape."),
    IntOption("max_file_bytes", std::int64_t{16} * 1024 * 1024,
              "Files larger than this are refused (bytes)."),
};

constexpr const char* kMtimeFamily = "sysmetrics_textfile_mtime_seconds";
constexpr const char* kErrorFamily = "sysmetrics_textfile_scrape_error";
constexpr const char* kReservedPrefix = "sysmetrics_";

// Reads path whole into *out. *vanished: it was removed since the listing
// (a writer replacing it), which is not an error.
bool ReadFile(const std::string& path, std::int64_t max_bytes, std::string* out,
              double* mtime, bool* vanished, std::string* error) {
  *vanished = false;
  // O_NONBLOCK: opening a FIFO named *.prom would otherwise wait for a
  // writer forever, and with it every later scrape of this collector.
  const int fd =
      ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    struct stat link {};
    if (err == ENOENT && ::lstat(path.c_str(), &link) == 0) {
      *error = "a symbolic link to a file that does not exist";
      return false;
    }
    *vanished = err == ENOENT;
    *error = ErrnoText(err);
    return false;
  }
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0;
  if (!ok) {
    *error = ErrnoText(errno);
  } else if (!S_ISREG(st.st_mode)) {
    ok = false;
    *error = "not a regular file";
  } else if (st.st_size > max_bytes) {
    ok = false;
    *error = "larger than max_file_bytes (" + std::to_string(st.st_size) +
             " > " + std::to_string(max_bytes) + " bytes)";
  }
  if (ok) {
    *mtime = static_cast<double>(st.st_mtim.tv_sec) +
             static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
    out->clear();
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ok = false;
        *error = ErrnoText(errno);
        break;
      }
      if (n == 0) break;
      out->append(buf, static_cast<std::size_t>(n));
      if (static_cast<std::int64_t>(out->size()) > max_bytes) {
        ok = false;
        *error = "grew past max_file_bytes while being read";
        break;
      }
    }
  }
  ::close(fd);
  return ok;
}

class TextfileCollector {
 public:
  explicit TextfileCollector(Host& host)
      : host_(host),
        directories_(host.StringList("directories")),
        max_bytes_(host.Int("max_file_bytes")) {
    if (max_bytes_ <= 0) {
      throw Error("option 'max_file_bytes' must be positive", SM_ERR_CONFIG);
    }
    for (const std::string& d : directories_) {
      if (d.empty() || d.front() != '/') {
        throw Error("option 'directories': '" + d + "' is not an absolute path",
                    SM_ERR_CONFIG);
      }
    }
  }

  void Collect(Emitter& emit) {
    files_.clear();
    merged_.clear();
    exposed_.clear();
    order_.clear();
    mtimes_.clear();
    bool errors = false;
    for (const std::string& path : ListFiles(&errors)) {
      double mtime = 0;
      bool vanished = false;
      std::string error;
      if (!ReadFile(path, max_bytes_, &text_, &mtime, &vanished, &error)) {
        if (vanished) continue;  // replaced between listing and opening
        Warn(path + ": " + error);
        errors = true;
        continue;
      }
      if (!ParseTextfile(text_, &parsed_, &error)) {
        Warn(path + ":" + error.substr(5));  // "line N: x" -> "path:N: x"
        errors = true;
        continue;
      }
      if (!Merge(path, &error)) {
        Warn(path + ": " + error);
        errors = true;
        continue;
      }
      mtimes_.emplace_back(path, mtime);
    }
    for (const std::string& name : order_) {
      Merged& m = merged_.at(name);
      // Without a HELP line, say where it came from (as node_exporter
      // does; promtool wants a help text).
      if (m.help.empty()) m.help = "Metric read from " + m.file + ".";
      emit.Family(name.c_str(), m.help.c_str(), m.type);
      for (const Sample* s : m.samples) {
        labels_.clear();
        for (const auto& [k, v] : s->labels) {
          labels_.push_back(sm_label{k.c_str(), v.c_str()});
        }
        emit.Sample(s->value, labels_.data(),
                    static_cast<std::uint32_t>(labels_.size()),
                    s->suffix.empty() ? nullptr : s->suffix.c_str());
      }
    }
    emit.Family(kMtimeFamily,
                "Modification time of each textfile read in this scrape.",
                SM_METRIC_GAUGE, "seconds");
    for (const auto& [path, mtime] : mtimes_) {
      emit.Sample(mtime, {{"file", path.c_str()}});
    }
    emit.Family(kErrorFamily,
                "1 if a textfile or directory could not be read or parsed "
                "in this scrape (the log says which and why), else 0.",
                SM_METRIC_GAUGE);
    emit.Sample(errors ? 1 : 0);
  }

 private:
  struct Merged {
    sm_metric_type type = SM_METRIC_UNTYPED;
    std::string help;
    std::string file;  // where it was first seen
    std::vector<const Sample*> samples;
  };

  void Warn(const std::string& msg) const {
    host_.Log(SM_LOG_WARN, "textfile " + msg);
  }

  std::vector<std::string> ListFiles(bool* errors) {
    std::vector<std::string> files;
    for (const std::string& dir : directories_) {
      DIR* d = ::opendir(dir.c_str());
      if (d == nullptr) {
        Warn(dir + ": cannot read directory: " + ErrnoText(errno));
        *errors = true;
        continue;
      }
      // readdir is safe on a stream no other thread uses (this one's own).
      while (const dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
        const std::string_view name = e->d_name;
        if (name.size() <= 5 || !name.ends_with(".prom") || name[0] == '.') {
          continue;
        }
        files.push_back(dir + (dir.back() == '/' ? "" : "/") +
                        std::string(name));
      }
      ::closedir(d);
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // Adds this file's families to merged_, or nothing at all.
  bool Merge(const std::string& path, std::string* error) {
    for (const Family& f : parsed_.families) {
      // The exporter's own namespace: a file must not stand in for the
      // series of a collector that failed or was not asked for.
      if (f.name.starts_with(kReservedPrefix)) {
        *error = "line " + std::to_string(f.line) + ": '" + f.name +
                 "': names starting with " + kReservedPrefix +
                 " belong to the exporter and its collectors; rename it";
        return false;
      }
      auto it = merged_.find(f.name);
      if (it != merged_.end() && it->second.type != f.type) {
        *error = "line " + std::to_string(f.line) + ": '" + f.name + "' is a " +
                 TypeName(f.type) + " here but a " + TypeName(it->second.type) +
                 " in " + it->second.file;
        return false;
      }
      // A family of another name that would expose one of this family's
      // names (x_sum here, summary x there): the scrape cannot hold both.
      for (const std::string& name : ExposedNames(f)) {
        const auto owner = exposed_.find(name);
        if (owner == exposed_.end() || owner->second == f.name) continue;
        const Merged& g = merged_.at(owner->second);
        *error = "line " + std::to_string(f.line) + ": " + TypeName(f.type) +
                 " '" + f.name + "' clashes with " + TypeName(g.type) + " '" +
                 owner->second + "' in " + g.file +
                 ": both would expose the name '" + name + "'";
        return false;
      }
    }
    // Kept alive with the samples merged_ points to.
    files_.push_back(std::move(parsed_));
    parsed_ = ParsedFile();
    for (const Family& f : files_.back().families) {
      auto [it, fresh] = merged_.try_emplace(f.name);
      Merged& m = it->second;
      if (fresh) {
        m.type = f.type;
        m.file = path;
        order_.push_back(f.name);
        for (std::string& name : ExposedNames(f)) {
          exposed_.emplace(std::move(name), f.name);
        }
      }
      if (m.help.empty()) m.help = f.help;
      for (const Sample& s : f.samples) m.samples.push_back(&s);
    }
    return true;
  }

  Host& host_;
  std::vector<std::string> directories_;
  std::int64_t max_bytes_;
  // Per scrape.
  std::string text_;
  ParsedFile parsed_;
  std::vector<ParsedFile> files_;
  std::map<std::string, Merged> merged_;
  std::unordered_map<std::string, std::string> exposed_;  // name -> family
  std::vector<std::string> order_;
  std::vector<std::pair<std::string, double>> mtimes_;
  std::vector<sm_label> labels_;
};

}  // namespace
}  // namespace sysmetrics::textfile

SYSMETRICS_CPP_PLUGIN(sysmetrics::textfile::TextfileCollector, "textfile",
                      SYSMETRICS_VERSION,
                      "Metrics from *.prom files written by other programs.",
                      sysmetrics::textfile::kOptions, 2)
