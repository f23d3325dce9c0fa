#include "CLaneSystem.h"
#include <errno.h>
#include <sys/ioctl.h>
#include <termios.h>

int lanegate_tty_exclusive(int fd) {
    return ioctl(fd, TIOCEXCL) < 0 ? -errno : 0;
}
