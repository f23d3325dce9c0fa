// libgpiod 1.x (Debian 12): lines are gathered in a bulk and requested together.
#include "gpio_lines_api.h"
#if LANEGATE_GPIOD_API == 1

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct lanegate_gpio_chip {
    struct gpiod_chip *chip;
};

struct lanegate_gpio_lines {
    struct gpiod_line_bulk bulk;
};

struct lanegate_gpio_chip *lanegate_gpio_open_path(const char *path, struct lanegate_gpio_chip_info *info) {
    struct gpiod_chip *chip = gpiod_chip_open(path);
    if (chip == NULL) return NULL;
    struct lanegate_gpio_chip *out = malloc(sizeof *out);
    if (out == NULL) {
        gpiod_chip_close(chip);
        errno = ENOMEM;
        return NULL;
    }
    out->chip = chip;
    snprintf(info->name, sizeof info->name, "%s", gpiod_chip_name(chip));
    snprintf(info->label, sizeof info->label, "%s", gpiod_chip_label(chip));
    info->num_lines = gpiod_chip_num_lines(chip);
    return out;
}

void lanegate_gpio_chip_close(struct lanegate_gpio_chip *chip) {
    if (chip == NULL) return;
    gpiod_chip_close(chip->chip);
    free(chip);
}

static int request_flags(int active_low, enum lanegate_gpio_bias bias) {
    int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
    switch (bias) {
    case LANEGATE_GPIO_BIAS_AS_IS: break;
    case LANEGATE_GPIO_BIAS_PULL_UP: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP; break;
    case LANEGATE_GPIO_BIAS_PULL_DOWN: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN; break;
    case LANEGATE_GPIO_BIAS_DISABLED: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE; break;
    }
    return flags;
}

struct lanegate_gpio_lines *lanegate_gpio_request(struct lanegate_gpio_chip *chip, const unsigned int *offsets,
                                                  unsigned int count, int active_low, enum lanegate_gpio_bias bias,
                                                  const char *consumer) {
    if (count == 0 || count > GPIOD_LINE_BULK_MAX_LINES) {
        errno = EINVAL;
        return NULL;
    }
    struct lanegate_gpio_lines *lines = calloc(1, sizeof *lines);
    if (lines == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    struct gpiod_line_request_config config = {
        .consumer = consumer,
        .request_type = GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES,
        .flags = request_flags(active_low, bias),
    };
    if (gpiod_chip_get_lines(chip->chip, (unsigned int *)offsets, count, &lines->bulk) != 0
        || gpiod_line_request_bulk(&lines->bulk, &config, NULL) != 0) {
        int saved = errno;
        free(lines);
        errno = saved;
        return NULL;
    }
    return lines;
}

int lanegate_gpio_values(struct lanegate_gpio_lines *lines, int *values) {
    return gpiod_line_get_value_bulk(&lines->bulk, values);
}

int lanegate_gpio_read_edges(struct lanegate_gpio_lines *lines, int64_t timeout_ns,
                             struct lanegate_gpio_edge *edges, unsigned int capacity) {
    struct timespec timeout = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
    struct gpiod_line_bulk ready;
    gpiod_line_bulk_init(&ready);
    int status = gpiod_line_event_wait_bulk(&lines->bulk, &timeout, &ready);
    if (status <= 0) return status;
    unsigned int count = 0;
    struct gpiod_line_event events[16];
    for (unsigned int i = 0; i < ready.num_lines && count < capacity; i++) {
        struct gpiod_line *line = ready.lines[i];
        unsigned int room = capacity - count < 16 ? capacity - count : 16;
        int got = gpiod_line_event_read_multiple(line, events, room);
        if (got < 0) return -1;
        for (int k = 0; k < got; k++) {
            // With active-low requested, the kernel reports edges in logical terms already.
            edges[count++] = (struct lanegate_gpio_edge){
                .offset = gpiod_line_offset(line),
                .rising = events[k].event_type == GPIOD_LINE_EVENT_RISING_EDGE,
                .timestamp_ns = (uint64_t)events[k].ts.tv_sec * 1000000000u + (uint64_t)events[k].ts.tv_nsec,
            };
        }
    }
    return (int)count;
}

void lanegate_gpio_release(struct lanegate_gpio_lines *lines) {
    if (lines == NULL) return;
    gpiod_line_release_bulk(&lines->bulk);
    free(lines);
}

#endif
