// Parser for <procfs>/self/mountinfo, the mount table of the reading
// process's mount namespace.
//
// Format (Documentation/filesystems/proc.rst, "/proc/<pid>/mountinfo"; the
// file exists since 2.6.26 and its layout has not changed since):
//
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root
//   rw,errors=continue (1)(2)(3)   (4)   (5)      (6)      (7)    (8) (9) (10)
//   (11)
//
//   1 mount ID            2 parent ID         3 major:minor of st_dev
//   4 root of the mount   5 mount point       6 per-mount options
//   7 zero or more optional fields ("shared:N", "master:N", ...), ended by
//   8 a lone "-"
//   9 filesystem type    10 mount source     11 super block options
//
// Fields are separated by single spaces; the kernel escapes a space, tab,
// newline and backslash inside a path as the octal escapes \040, \011, \012
// and \134 (fs/proc_namespace.c, show_mountinfo, mangle()).
//
// Pure function of its input; thread-safe. String views in the result point
// into the parsed text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "proc_file.hpp"

namespace sysmetrics::filesystem {

struct Mount {
  std::size_t line = 0;      // 1-based number of the line it came from
  std::string mount_point;   // field 5, unescaped (see UnescapeMountPath)
  std::string_view fs_type;  // field 9, as printed
  std::string_view source;   // field 10, as printed (not unescaped)
  bool readonly = false;     // "ro" in field 11, the super options
};

struct MountInfo {
  std::vector<Mount> mounts;                 // in file order
  std::vector<plugin::SkippedLine> skipped;  // in line order
};

// Decodes the four escapes the kernel writes into a path: \040 (space),
// \011 (tab), \012 (newline) and \134 (backslash). Any other backslash is
// kept as it is (the kernel writes no other escape, and decoding a general
// \ooo could produce a NUL byte). Appends the result to *out (cleared first).
void UnescapeMountPath(std::string_view escaped, std::string* out);

// True if the comma-separated option list holds exactly the option "ro".
bool HasReadOnlyOption(std::string_view options);

// Parses text (the file's content); file names the file in the error.
//
// A line is skipped, and recorded in out->skipped with its 1-based line
// number and a reason ("mount point 'x' is not an absolute path"), when its
// mount ID or parent ID is not a decimal number, it has fewer than six
// fields before the separator, it has no lone "-" separator, the separator
// is not followed by a filesystem type and a mount source, or its mount
// point does not start with '/'. Fields after the super options are not
// looked at (a kernel may append some). Blank lines are ignored. Repeated
// mount points are all kept: deciding which one counts is the caller's
// business (a later mount on the same point hides the earlier one).
//
// Returns true when at least one mount was read. Otherwise (an empty file,
// every line skipped) returns false and sets *error to "<file>: no mount
// line could be read"; out->mounts is then empty. out is cleared first and
// keeps its capacity.
bool ParseMountInfo(std::string_view text, std::string_view file,
                    MountInfo* out, std::string* error);

}  // namespace sysmetrics::filesystem
