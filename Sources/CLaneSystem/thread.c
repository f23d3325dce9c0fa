#include "CLaneSystem.h"
#include <sys/prctl.h>

void lanegate_name_this_thread(const char *name) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
}
