// The attribute files of the entries of one sysfs class directory
// (<sysfs>/class/net/<interface>/<attribute>), read on every collect.
//
// Opening a sysfs file costs several times reading it: each open walks the
// path and sets up a kernfs file, while a read of an open one formats the
// value afresh (kernfs regenerates it when read at offset 0). So on sysfs
// the files of an entry are opened once and read with pread(2) on every
// later collect. An entry is known again by its name and the inode number
// its directory entry has in the class directory: a renamed, removed or
// re-created interface has another (kernfs gives every node its own), so
// its descriptors are closed and the new entry's files opened. A read of a
// removed interface's file fails with ENODEV.
//
// At most max_held_fds descriptors are held (an entry's files are held all
// or none); the entries past that, and every entry on a file system that is
// not sysfs (a fixture tree, whose files tests replace), are opened and
// closed on each collect, as a plain reader would.
//
// One owner at a time: not thread-safe.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sysmetrics::netclass {

class AttributeFiles {
 public:
  enum class Keep {
    kOnSysfs,  // hold descriptors only when the directory is on sysfs
    kAlways,   // hold them on any file system (tests)
  };

  // dir: the class directory; files: the attribute names read in each
  // entry (pointers to static strings); max_held_fds: the most descriptors
  // held between collects.
  AttributeFiles(std::string dir, std::vector<const char*> files, Keep keep,
                 std::size_t max_held_fds);
  ~AttributeFiles();
  AttributeFiles(const AttributeFiles&) = delete;
  AttributeFiles& operator=(const AttributeFiles&) = delete;

  // Lists the directory: its entries that are not regular files
  // (interfaces are symbolic links; node reads directories too), sorted by
  // name, as entries 0 .. size()-1. Closes what is held for an entry that
  // is gone or is another entry now. Returns 0, or the errno of the failed
  // open or read of the directory (then size() is 0).
  int List();
  std::size_t size() const { return entries_.size(); }
  const std::string& name(std::size_t i) const { return entries_[i].name; }

  // Makes entry i (after List) the one Read reads. Returns 0, or the errno
  // of opening its directory (ENOENT: removed since List). The directory
  // of an entry whose files are not held stays open until the next List or
  // Open.
  int Open(std::size_t i);

  // Reads files[k] of the opened entry with one read(2) into a buffer of
  // which *value is a view, valid until the next Read. Returns 0, the errno
  // of the open or read, or EFBIG for a file larger than a sysfs attribute
  // (4096 bytes). ENODEV: the interface was removed; its descriptors are
  // closed.
  int Read(std::size_t k, std::string_view* value);

  // Descriptors held now (for tests and the budget).
  std::size_t held_fds() const { return held_fds_; }

  // Whether the directory of the last listing is on sysfs (not a fixture
  // tree): the kernel's rules for its attributes hold.
  bool on_sysfs() const { return on_sysfs_; }

 private:
  // A listed entry. When its files are held, fd[k] is the descriptor of
  // files[k], or -errno when it could not be opened (-ENOENT: no such
  // attribute); fd is empty when nothing is held.
  struct Entry {
    std::string name;
    ino_t ino = 0;
    std::vector<int> fd;
  };

  int ReadListing();
  void Reconcile();
  bool Hold(Entry* entry, int dir);
  void Close(Entry* entry);
  void CloseCurrentDir();

  std::string path_;
  std::vector<const char*> files_;
  Keep keep_;
  std::size_t max_held_fds_;
  std::size_t held_fds_ = 0;
  DIR* dir_ = nullptr;  // the class directory; kept between collects when
                        // descriptors are held
  bool hold_ = false;   // descriptors are held (sysfs, or Keep::kAlways)
  bool on_sysfs_ = false;

  std::vector<Entry> entries_;   // the last listing, sorted by name
  std::vector<Entry> previous_;  // the listing before, during List
  Entry* current_ = nullptr;     // the opened entry, when its files are held
  int current_dir_ = -1;         // the opened entry's directory, otherwise
  char buf_[4097] = {};
};

}  // namespace sysmetrics::netclass
