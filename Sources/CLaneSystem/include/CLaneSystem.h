// Kernel clock facilities that Glibc's Swift overlay does not export.
#ifndef CLANESYSTEM_H
#define CLANESYSTEM_H

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

#endif
