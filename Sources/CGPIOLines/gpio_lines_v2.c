// libgpiod 2.x (Debian 13): a request built from line settings, edges read through a buffer.
#include "gpio_lines_api.h"
#if LANEGATE_GPIOD_API == 2

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

enum { edge_buffer_capacity = 64 };

struct lanegate_gpio_chip {
    struct gpiod_chip *chip;
};

struct lanegate_gpio_lines {
    struct gpiod_line_request *request;
    struct gpiod_edge_event_buffer *buffer;
    unsigned int offsets[edge_buffer_capacity];
    size_t count;
};

struct lanegate_gpio_chip *lanegate_gpio_open_path(const char *path, struct lanegate_gpio_chip_info *info) {
    struct gpiod_chip *chip = gpiod_chip_open(path);
    if (chip == NULL) return NULL;
    struct gpiod_chip_info *chip_info = gpiod_chip_get_info(chip);
    struct lanegate_gpio_chip *out = chip_info == NULL ? NULL : malloc(sizeof *out);
    if (out == NULL) {
        int saved = chip_info == NULL ? errno : ENOMEM;
        if (chip_info != NULL) gpiod_chip_info_free(chip_info);
        gpiod_chip_close(chip);
        errno = saved;
        return NULL;
    }
    out->chip = chip;
    snprintf(info->name, sizeof info->name, "%s", gpiod_chip_info_get_name(chip_info));
    snprintf(info->label, sizeof info->label, "%s", gpiod_chip_info_get_label(chip_info));
    info->num_lines = (unsigned int)gpiod_chip_info_get_num_lines(chip_info);
    gpiod_chip_info_free(chip_info);
    return out;
}

void lanegate_gpio_chip_close(struct lanegate_gpio_chip *chip) {
    if (chip == NULL) return;
    gpiod_chip_close(chip->chip);
    free(chip);
}

static enum gpiod_line_bias line_bias(enum lanegate_gpio_bias bias) {
    switch (bias) {
    case LANEGATE_GPIO_BIAS_PULL_UP: return GPIOD_LINE_BIAS_PULL_UP;
    case LANEGATE_GPIO_BIAS_PULL_DOWN: return GPIOD_LINE_BIAS_PULL_DOWN;
    case LANEGATE_GPIO_BIAS_DISABLED: return GPIOD_LINE_BIAS_DISABLED;
    case LANEGATE_GPIO_BIAS_AS_IS: break;
    }
    return GPIOD_LINE_BIAS_AS_IS;
}

static struct gpiod_line_request *request_lines(struct gpiod_chip *chip, const unsigned int *offsets, unsigned int count,
                                                int active_low, enum lanegate_gpio_bias bias, const char *consumer) {
    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    struct gpiod_line_config *config = gpiod_line_config_new();
    struct gpiod_request_config *request_config = gpiod_request_config_new();
    struct gpiod_line_request *request = NULL;
    if (settings != NULL && config != NULL && request_config != NULL
        && gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT) == 0
        && gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH) == 0
        && gpiod_line_settings_set_bias(settings, line_bias(bias)) == 0
        // The loop logic compares edge times with the daemon's monotonic clock.
        && gpiod_line_settings_set_event_clock(settings, GPIOD_LINE_CLOCK_MONOTONIC) == 0) {
        // Edges then come in logical terms, as with libgpiod 1's active-low flag.
        gpiod_line_settings_set_active_low(settings, active_low != 0);
        if (gpiod_line_config_add_line_settings(config, offsets, count, settings) == 0) {
            gpiod_request_config_set_consumer(request_config, consumer);
            request = gpiod_chip_request_lines(chip, request_config, config);
        }
    }
    int saved = request == NULL && errno == 0 ? ENOMEM : errno;
    if (request_config != NULL) gpiod_request_config_free(request_config);
    if (config != NULL) gpiod_line_config_free(config);
    if (settings != NULL) gpiod_line_settings_free(settings);
    errno = saved;
    return request;
}

struct lanegate_gpio_lines *lanegate_gpio_request(struct lanegate_gpio_chip *chip, const unsigned int *offsets,
                                                  unsigned int count, int active_low, enum lanegate_gpio_bias bias,
                                                  const char *consumer) {
    if (count == 0 || count > edge_buffer_capacity) {
        errno = EINVAL;
        return NULL;
    }
    struct lanegate_gpio_lines *lines = calloc(1, sizeof *lines);
    if (lines == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    errno = 0;
    lines->request = request_lines(chip->chip, offsets, count, active_low, bias, consumer);
    lines->buffer = lines->request == NULL ? NULL : gpiod_edge_event_buffer_new(edge_buffer_capacity);
    if (lines->buffer == NULL) {
        int saved = errno == 0 ? ENOMEM : errno;
        if (lines->request != NULL) gpiod_line_request_release(lines->request);
        free(lines);
        errno = saved;
        return NULL;
    }
    for (unsigned int i = 0; i < count; i++) lines->offsets[i] = offsets[i];
    lines->count = count;
    return lines;
}

int lanegate_gpio_values(struct lanegate_gpio_lines *lines, int *values) {
    enum gpiod_line_value levels[edge_buffer_capacity];
    // By offset, so the order is the one asked for whatever order the request keeps.
    if (gpiod_line_request_get_values_subset(lines->request, lines->count, lines->offsets, levels) != 0) return -1;
    for (size_t i = 0; i < lines->count; i++) values[i] = levels[i] == GPIOD_LINE_VALUE_ACTIVE;
    return 0;
}

int lanegate_gpio_read_edges(struct lanegate_gpio_lines *lines, int64_t timeout_ns,
                             struct lanegate_gpio_edge *edges, unsigned int capacity) {
    int status = gpiod_line_request_wait_edge_events(lines->request, timeout_ns);
    if (status <= 0) return status;
    size_t room = capacity < edge_buffer_capacity ? capacity : edge_buffer_capacity;
    int got = gpiod_line_request_read_edge_events(lines->request, lines->buffer, room);
    if (got < 0) return -1;
    for (int i = 0; i < got; i++) {
        struct gpiod_edge_event *event = gpiod_edge_event_buffer_get_event(lines->buffer, (unsigned long)i);
        edges[i] = (struct lanegate_gpio_edge){
            .offset = gpiod_edge_event_get_line_offset(event),
            .rising = gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE,
            .timestamp_ns = gpiod_edge_event_get_timestamp_ns(event),
        };
    }
    return got;
}

void lanegate_gpio_release(struct lanegate_gpio_lines *lines) {
    if (lines == NULL) return;
    gpiod_edge_event_buffer_free(lines->buffer);
    gpiod_line_request_release(lines->request);
    free(lines);
}

#endif
