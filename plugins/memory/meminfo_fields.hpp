// The /proc/meminfo keys sysmetrics knows, with the metric family each one
// is exported as: the one table of them, shared by memory.so (which exports
// the families) and the core (which maps them to node_exporter's names).
//
// Keys are those Linux 2.6 through 6.x prints (Documentation/filesystems/
// proc.rst, "meminfo", and fs/proc/meminfo.c), in the order the kernel
// prints them. `kib` says the kernel prints the value in kibibytes ("kB"),
// which is exported in bytes; the others (HugePages_*) are page counts.
// Family names follow one rule, sysmetrics_memory_ + snake_case(key) +
// _bytes when kib (memory.so tests every row against it), except the seven
// keys the first release exported (MemTotal ... SwapFree), which keep their
// names; the unitless HugePages_* counts, named so that no gauge ends in
// _total; and SecPageTables, spelled out because promtool reads "_sec_" as
// an abbreviated unit. A key missing here is still exported by memory.so under
// the same rule; adding it here gives it a help text.
//
// Dependency-free and constexpr on purpose (only <string_view>): any part
// may include it. Immutable; thread-safe.
#pragma once

#include <string_view>

namespace sysmetrics::memory {

struct MeminfoField {
  std::string_view key;     // as the kernel prints it, before the ':'
  std::string_view family;  // the metric family it is exported as
  bool kib;                 // printed in kB (exported in bytes)
  std::string_view help;
};

inline constexpr MeminfoField kMeminfoFields[] = {
    {"MemTotal", "sysmetrics_memory_total_bytes", true,
     "Usable RAM (MemTotal)."},
    {"MemFree", "sysmetrics_memory_free_bytes", true, "Unused RAM (MemFree)."},
    {"MemAvailable", "sysmetrics_memory_available_bytes", true,
     "RAM available for new work without swapping (MemAvailable)."},
    {"Buffers", "sysmetrics_memory_buffers_bytes", true,
     "RAM in block device buffers (Buffers)."},
    {"Cached", "sysmetrics_memory_cached_bytes", true,
     "RAM in the page cache (Cached)."},
    {"SwapCached", "sysmetrics_memory_swap_cached_bytes", true,
     "Memory swapped out and back in, still in the swap file (SwapCached)."},
    {"Active", "sysmetrics_memory_active_bytes", true,
     "Memory used recently, not reclaimed unless needed (Active)."},
    {"Inactive", "sysmetrics_memory_inactive_bytes", true,
     "Memory used less recently, eligible for reclaim (Inactive)."},
    {"Active(anon)", "sysmetrics_memory_active_anon_bytes", true,
     "Anonymous memory on the active list (Active(anon))."},
    {"Inactive(anon)", "sysmetrics_memory_inactive_anon_bytes", true,
     "Anonymous memory on the inactive list (Inactive(anon))."},
    {"Active(file)", "sysmetrics_memory_active_file_bytes", true,
     "File-backed memory on the active list (Active(file))."},
    {"Inactive(file)", "sysmetrics_memory_inactive_file_bytes", true,
     "File-backed memory on the inactive list (Inactive(file))."},
    {"Unevictable", "sysmetrics_memory_unevictable_bytes", true,
     "Memory that cannot be reclaimed (Unevictable)."},
    {"Mlocked", "sysmetrics_memory_mlocked_bytes", true,
     "Memory locked with mlock() (Mlocked)."},
    {"HighTotal", "sysmetrics_memory_high_total_bytes", true,
     "Highmem, not directly mapped by the kernel (HighTotal)."},
    {"HighFree", "sysmetrics_memory_high_free_bytes", true,
     "Unused highmem (HighFree)."},
    {"LowTotal", "sysmetrics_memory_low_total_bytes", true,
     "Lowmem, directly mapped by the kernel (LowTotal)."},
    {"LowFree", "sysmetrics_memory_low_free_bytes", true,
     "Unused lowmem (LowFree)."},
    {"MmapCopy", "sysmetrics_memory_mmap_copy_bytes", true,
     "Memory copied for private file mappings on no-MMU kernels (MmapCopy)."},
    {"SwapTotal", "sysmetrics_memory_swap_total_bytes", true,
     "Swap space (SwapTotal)."},
    {"SwapFree", "sysmetrics_memory_swap_free_bytes", true,
     "Unused swap (SwapFree)."},
    {"Zswap", "sysmetrics_memory_zswap_bytes", true,
     "Memory used by the zswap compressed cache (Zswap)."},
    {"Zswapped", "sysmetrics_memory_zswapped_bytes", true,
     "Anonymous memory stored in zswap, before compression (Zswapped)."},
    {"Dirty", "sysmetrics_memory_dirty_bytes", true,
     "Memory waiting to be written back to disk (Dirty)."},
    {"Writeback", "sysmetrics_memory_writeback_bytes", true,
     "Memory being written back to disk (Writeback)."},
    {"AnonPages", "sysmetrics_memory_anon_pages_bytes", true,
     "Anonymous pages mapped into page tables (AnonPages)."},
    {"Mapped", "sysmetrics_memory_mapped_bytes", true,
     "Files mapped into memory, such as libraries (Mapped)."},
    {"Shmem", "sysmetrics_memory_shmem_bytes", true,
     "Shared memory and tmpfs (Shmem)."},
    {"KReclaimable", "sysmetrics_memory_kreclaimable_bytes", true,
     "Kernel allocations it reclaims under pressure (KReclaimable)."},
    {"Slab", "sysmetrics_memory_slab_bytes", true,
     "In-kernel data structure cache (Slab)."},
    {"SReclaimable", "sysmetrics_memory_sreclaimable_bytes", true,
     "Slab memory that may be reclaimed, such as caches (SReclaimable)."},
    {"SUnreclaim", "sysmetrics_memory_sunreclaim_bytes", true,
     "Slab memory that cannot be reclaimed (SUnreclaim)."},
    {"KernelStack", "sysmetrics_memory_kernel_stack_bytes", true,
     "Memory used by kernel stacks (KernelStack)."},
    {"ShadowCallStack", "sysmetrics_memory_shadow_call_stack_bytes", true,
     "Memory used by shadow call stacks (ShadowCallStack)."},
    {"PageTables", "sysmetrics_memory_page_tables_bytes", true,
     "Memory used by page tables (PageTables)."},
    {"SecPageTables", "sysmetrics_memory_secondary_page_tables_bytes", true,
     "Memory used by secondary page tables, such as KVM's "
     "(SecPageTables)."},
    {"Quicklists", "sysmetrics_memory_quicklists_bytes", true,
     "Memory in page table quicklists (Quicklists)."},
    {"NFS_Unstable", "sysmetrics_memory_nfs_unstable_bytes", true,
     "NFS pages sent to the server but not yet committed (NFS_Unstable)."},
    {"Bounce", "sysmetrics_memory_bounce_bytes", true,
     "Memory used for block device bounce buffers (Bounce)."},
    {"WritebackTmp", "sysmetrics_memory_writeback_tmp_bytes", true,
     "Memory used by FUSE for temporary writeback buffers (WritebackTmp)."},
    {"CommitLimit", "sysmetrics_memory_commit_limit_bytes", true,
     "Memory that can be allocated under strict overcommit (CommitLimit)."},
    {"Committed_AS", "sysmetrics_memory_committed_as_bytes", true,
     "Memory allocated by processes, used or not (Committed_AS)."},
    {"VmallocTotal", "sysmetrics_memory_vmalloc_total_bytes", true,
     "Size of the vmalloc address space (VmallocTotal)."},
    {"VmallocUsed", "sysmetrics_memory_vmalloc_used_bytes", true,
     "Used vmalloc area (VmallocUsed)."},
    {"VmallocChunk", "sysmetrics_memory_vmalloc_chunk_bytes", true,
     "Largest free block of the vmalloc area (VmallocChunk)."},
    {"Percpu", "sysmetrics_memory_percpu_bytes", true,
     "Memory used by the per-CPU allocator (Percpu)."},
    {"EarlyMemtestBad", "sysmetrics_memory_early_memtest_bad_bytes", true,
     "RAM found bad by the early boot memory test (EarlyMemtestBad)."},
    {"HardwareCorrupted", "sysmetrics_memory_hardware_corrupted_bytes", true,
     "Memory the kernel found corrupted by hardware (HardwareCorrupted)."},
    {"AnonHugePages", "sysmetrics_memory_anon_huge_pages_bytes", true,
     "Anonymous memory in transparent huge pages (AnonHugePages)."},
    {"ShmemHugePages", "sysmetrics_memory_shmem_huge_pages_bytes", true,
     "Shared memory and tmpfs in huge pages (ShmemHugePages)."},
    {"ShmemPmdMapped", "sysmetrics_memory_shmem_pmd_mapped_bytes", true,
     "Shared memory mapped into user space with huge pages "
     "(ShmemPmdMapped)."},
    {"FileHugePages", "sysmetrics_memory_file_huge_pages_bytes", true,
     "Page cache in huge pages (FileHugePages)."},
    {"FilePmdMapped", "sysmetrics_memory_file_pmd_mapped_bytes", true,
     "Page cache mapped into user space with huge pages (FilePmdMapped)."},
    {"CmaTotal", "sysmetrics_memory_cma_total_bytes", true,
     "Memory reserved for the contiguous memory allocator (CmaTotal)."},
    {"CmaFree", "sysmetrics_memory_cma_free_bytes", true,
     "Unused contiguous memory allocator reserve (CmaFree)."},
    {"Unaccepted", "sysmetrics_memory_unaccepted_bytes", true,
     "Memory not yet accepted by a confidential guest (Unaccepted)."},
    {"Balloon", "sysmetrics_memory_balloon_bytes", true,
     "Memory returned to the host by a balloon driver (Balloon)."},
    {"HugePages_Total", "sysmetrics_memory_huge_pages", false,
     "Size of the huge page pool, in pages (HugePages_Total)."},
    {"HugePages_Free", "sysmetrics_memory_huge_pages_free", false,
     "Huge pages in the pool not yet allocated (HugePages_Free)."},
    {"HugePages_Rsvd", "sysmetrics_memory_huge_pages_reserved", false,
     "Huge pages committed to but not yet allocated (HugePages_Rsvd)."},
    {"HugePages_Surp", "sysmetrics_memory_huge_pages_surplus", false,
     "Huge pages in the pool above its base size (HugePages_Surp)."},
    {"Hugepagesize", "sysmetrics_memory_hugepagesize_bytes", true,
     "Size of the default huge page (Hugepagesize)."},
    {"Hugetlb", "sysmetrics_memory_hugetlb_bytes", true,
     "Memory used by huge pages of every size (Hugetlb)."},
    {"DirectMap4k", "sysmetrics_memory_direct_map4k_bytes", true,
     "Memory the kernel maps with 4 KiB pages (DirectMap4k)."},
    {"DirectMap2M", "sysmetrics_memory_direct_map2m_bytes", true,
     "Memory the kernel maps with 2 MiB pages (DirectMap2M)."},
    {"DirectMap4M", "sysmetrics_memory_direct_map4m_bytes", true,
     "Memory the kernel maps with 4 MiB pages (DirectMap4M)."},
    {"DirectMap1G", "sysmetrics_memory_direct_map1g_bytes", true,
     "Memory the kernel maps with 1 GiB pages (DirectMap1G)."},
};

inline constexpr auto kNumMeminfoFields = std::size(kMeminfoFields);

}  // namespace sysmetrics::memory
