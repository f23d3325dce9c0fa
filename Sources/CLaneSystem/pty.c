#define _GNU_SOURCE
#include "CLaneSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lanegate_open_pty(char *path, size_t capacity) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    if (grantpt(fd) < 0 || unlockpt(fd) < 0 || ptsname_r(fd, path, capacity) != 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    return fd;
}
