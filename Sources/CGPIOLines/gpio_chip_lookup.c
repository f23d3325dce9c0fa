// Finding a chip the way a technician names it, the same for both libgpiod APIs (libgpiod 2
// opens paths only).
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpio_lines_api.h"

int lanegate_gpio_api(void) { return LANEGATE_GPIOD_API; }

static int is_chip_entry(const struct dirent *entry) { return strncmp(entry->d_name, "gpiochip", 8) == 0; }

static int all_digits(const char *text) {
    if (*text == 0) return 0;
    for (; *text; text++) {
        if (!isdigit((unsigned char)*text)) return 0;
    }
    return 1;
}

/// Visits every /dev/gpiochipN in number order until `visit` returns non-zero; returns that, or
/// 0, or -1 when /dev cannot be read.
static int each_chip(int (*visit)(const char *path, void *context), void *context) {
    struct dirent **entries;
    int count = scandir("/dev", &entries, is_chip_entry, versionsort);
    if (count < 0) return -1;
    int result = 0;
    for (int i = 0; i < count; i++) {
        if (result == 0) {
            char path[300];
            snprintf(path, sizeof path, "/dev/%s", entries[i]->d_name);
            result = visit(path, context);
        }
        free(entries[i]);
    }
    free(entries);
    return result;
}

struct label_search {
    const char *label;
    struct lanegate_gpio_chip_info *info;
    struct lanegate_gpio_chip *found;
    int denied;
};

static int match_label(const char *path, void *context) {
    struct label_search *search = context;
    struct lanegate_gpio_chip_info candidate;
    struct lanegate_gpio_chip *chip = lanegate_gpio_open_path(path, &candidate);
    if (chip == NULL) {
        if (errno == EACCES || errno == EPERM) search->denied = 1;
        return 0;
    }
    if (strcmp(candidate.label, search->label) != 0) {
        lanegate_gpio_chip_close(chip);
        return 0;
    }
    *search->info = candidate;
    search->found = chip;
    return 1;
}

struct lanegate_gpio_chip *lanegate_gpio_chip_open(const char *spec, struct lanegate_gpio_chip_info *info) {
    char path[300];
    if (strchr(spec, '/') != NULL) return lanegate_gpio_open_path(spec, info);
    if (all_digits(spec) || strncmp(spec, "gpiochip", 8) == 0) {
        snprintf(path, sizeof path, all_digits(spec) ? "/dev/gpiochip%s" : "/dev/%s", spec);
        return lanegate_gpio_open_path(path, info);
    }
    struct label_search search = {.label = spec, .info = info};
    if (each_chip(match_label, &search) < 0) return NULL;
    // A chip this user may not open might have been the one: say so rather than "not found".
    if (search.found == NULL) errno = search.denied ? EACCES : ENOENT;
    return search.found;
}

struct chip_list {
    struct lanegate_gpio_chip_info *infos;
    unsigned int capacity, count;
};

static int add_chip(const char *path, void *context) {
    struct chip_list *list = context;
    if (list->count == list->capacity) return 1;
    struct lanegate_gpio_chip *chip = lanegate_gpio_open_path(path, &list->infos[list->count]);
    if (chip != NULL) {
        lanegate_gpio_chip_close(chip);
        list->count++;
    }
    return 0;
}

int lanegate_gpio_list_chips(struct lanegate_gpio_chip_info *infos, unsigned int capacity) {
    struct chip_list list = {.infos = infos, .capacity = capacity};
    if (each_chip(add_chip, &list) < 0) return -1;
    return (int)list.count;
}
