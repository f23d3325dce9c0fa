#include <gpiod.h>

// libgpiod v1 keeps a bulk's lines in a fixed C array, which Swift sees as a 64-tuple:
// these accessors keep the driver readable.
static inline struct gpiod_line *lanegate_gpiod_bulk_line(struct gpiod_line_bulk *bulk, unsigned int i) {
    return bulk->lines[i];
}

static inline unsigned int lanegate_gpiod_bulk_count(const struct gpiod_line_bulk *bulk) {
    return bulk->num_lines;
}

static inline void lanegate_gpiod_bulk_reset(struct gpiod_line_bulk *bulk) {
    gpiod_line_bulk_init(bulk);
}
