#ifndef LANEGATE_GPIO_LINES_H
#define LANEGATE_GPIO_LINES_H

// Loop detector inputs through libgpiod, version 1 or 2: one small interface over both, so
// the loop driver does not care which one the booth PC's Debian ships (12 has 1.6, 13 has 2.2).
// Which one is compiled is decided by the installed <gpiod.h> (see gpio_lines_api.h).
// Every call that fails returns NULL or -1 with errno set.

#include <stdint.h>

#define LANEGATE_GPIO_TEXT_SIZE 64

struct lanegate_gpio_chip_info {
    char name[LANEGATE_GPIO_TEXT_SIZE];   // gpiochip0
    char label[LANEGATE_GPIO_TEXT_SIZE];  // what the kernel driver calls it
    unsigned int num_lines;
};

struct lanegate_gpio_edge {
    unsigned int offset;
    int rising;              // 1: became active (logically, after active-low), 0: inactive
    uint64_t timestamp_ns;   // CLOCK_MONOTONIC, stamped by the kernel at the edge
};

enum lanegate_gpio_bias {
    LANEGATE_GPIO_BIAS_AS_IS = 0,
    LANEGATE_GPIO_BIAS_PULL_UP,
    LANEGATE_GPIO_BIAS_PULL_DOWN,
    LANEGATE_GPIO_BIAS_DISABLED,
};

struct lanegate_gpio_chip;
struct lanegate_gpio_lines;

/// The libgpiod API this build uses: 1 or 2.
int lanegate_gpio_api(void);

/// `spec` is a path, a name (gpiochip0), a number (0) or a chip label.
struct lanegate_gpio_chip *lanegate_gpio_chip_open(const char *spec, struct lanegate_gpio_chip_info *info);
void lanegate_gpio_chip_close(struct lanegate_gpio_chip *chip);

/// Every GPIO chip this user may open, in number order; returns how many were written.
int lanegate_gpio_list_chips(struct lanegate_gpio_chip_info *infos, unsigned int capacity);

/// Requests inputs with both-edge events. The offsets must exist on the chip.
struct lanegate_gpio_lines *lanegate_gpio_request(struct lanegate_gpio_chip *chip, const unsigned int *offsets,
                                                  unsigned int count, int active_low, enum lanegate_gpio_bias bias,
                                                  const char *consumer);
/// The lines' logical levels now, in the order they were requested.
int lanegate_gpio_values(struct lanegate_gpio_lines *lines, int *values);
/// Waits up to `timeout_ns` for edges and reads up to `capacity`: their count, 0 on a timeout.
int lanegate_gpio_read_edges(struct lanegate_gpio_lines *lines, int64_t timeout_ns,
                             struct lanegate_gpio_edge *edges, unsigned int capacity);
void lanegate_gpio_release(struct lanegate_gpio_lines *lines);

#endif
