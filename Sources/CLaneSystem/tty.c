#include "CLaneSystem.h"
#include <errno.h>
#include <sys/ioctl.h>
#include <termios.h>

int lanegate_tty_exclusive(int fd) {
    return ioctl(fd, TIOCEXCL) < 0 ? -errno : 0;
}

int lanegate_terminal_size(int fd, uint16_t *rows, uint16_t *columns) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) < 0) return -errno;
    *rows = size.ws_row;
    *columns = size.ws_col;
    return 0;
}
