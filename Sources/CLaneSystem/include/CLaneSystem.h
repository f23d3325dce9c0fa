// System facilities that Glibc's Swift overlay does not export: the kernel clock's state, terminals,
// thread names, and the mappings of the executable's own code.
#ifndef CLANESYSTEM_H
#define CLANESYSTEM_H

#include <stddef.h>
#include <stdint.h>

/// What the kernel's NTP discipline says about the system clock (adjtimex(2)).
typedef struct {
    int32_t state;        ///< adjtimex return value: TIME_OK, TIME_ERROR, ...
    int32_t status;       ///< STA_* flags
    int64_t maxerror_us;  ///< maximum error estimate, microseconds
    int64_t esterror_us;  ///< estimated error, microseconds
} lanegate_clock_quality;

/// Reads the clock quality; returns 0 on success, -errno on failure.
int lanegate_read_clock_quality(lanegate_clock_quality *out);

/// STA_UNSYNC, exported as a constant because Swift cannot import the macro through this header.
extern const int32_t lanegate_sta_unsync;
extern const int32_t lanegate_time_error;

/// Makes an open terminal exclusive (TIOCEXCL): a second open fails with EBUSY.
/// Returns 0 or -errno.
int lanegate_tty_exclusive(int fd);

/// The terminal's size in character cells (TIOCGWINSZ). Returns 0 or -errno.
int lanegate_terminal_size(int fd, uint16_t *rows, uint16_t *columns);

/// Names the calling thread (first 15 bytes), as `top -H` and `ps -L` show it.
void lanegate_name_this_thread(const char *name);

/// Opens a pseudo-terminal master (non-blocking, close-on-exec), unlocks it and writes its
/// slave's path into `path`. Returns the master fd, or -errno.
int lanegate_open_pty(char *path, size_t capacity);

/// Drops this process's mappings of the executable's code pages (madvise MADV_DONTNEED on its
/// read-only, executable segments). The pages stay in the page cache; the code still running
/// faults its pages back in, so what stays resident is what the steady state uses, not the
/// start-up's argument parsing, configuration and device set-up. Returns the bytes unmapped.
size_t lanegate_unmap_startup_code(void);

#endif
