#ifndef LANEGATE_GPIO_LINES_API_H
#define LANEGATE_GPIO_LINES_API_H

#include <gpiod.h>

// libgpiod 1 defines its line bulks' size; libgpiod 2 has no bulks. The header installed is the
// library linked, so this is the build-time test pkg-config's version would be, without a
// second source of truth.
#ifdef GPIOD_LINE_BULK_MAX_LINES
#define LANEGATE_GPIOD_API 1
#else
#define LANEGATE_GPIOD_API 2
#endif

#include "CGPIOLines.h"

// What each API's file provides to the shared chip lookup.
struct lanegate_gpio_chip *lanegate_gpio_open_path(const char *path, struct lanegate_gpio_chip_info *info);

#endif
