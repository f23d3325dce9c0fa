#include "CLaneSystem.h"
#include <errno.h>
#include <sys/timex.h>

const int32_t lanegate_sta_unsync = STA_UNSYNC;
const int32_t lanegate_time_error = TIME_ERROR;

int lanegate_read_clock_quality(lanegate_clock_quality *out) {
    struct timex tx = {0};  // modes = 0: read only, never adjusts the clock
    int state = adjtimex(&tx);
    if (state < 0) return -errno;
    out->state = state;
    out->status = tx.status;
    out->maxerror_us = tx.maxerror;
    out->esterror_us = tx.esterror;
    return 0;
}
