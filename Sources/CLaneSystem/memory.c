#define _GNU_SOURCE
#include "CLaneSystem.h"
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

// True when the object asks for relocations in its text: then its code pages are private
// copies that differ from the file, and dropping them would undo the relocations.
static int has_text_relocations(const struct dl_phdr_info *info) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_DYNAMIC) continue;
        const ElfW(Dyn) *dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
        for (; dyn->d_tag != DT_NULL; dyn++) {
            if (dyn->d_tag == DT_TEXTREL) return 1;
            if (dyn->d_tag == DT_FLAGS && (dyn->d_un.d_val & DF_TEXTREL)) return 1;
        }
    }
    return 0;
}

static int unmap_executable_code(struct dl_phdr_info *info, size_t size, void *context) {
    (void)size;
    size_t *released = context;
    if (has_text_relocations(info)) return 1;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        // Read-only code only: a writable segment holds this process's own data.
        if (segment->p_type != PT_LOAD || segment->p_flags != (PF_R | PF_X)) continue;
        uintptr_t start = (info->dlpi_addr + segment->p_vaddr + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + segment->p_vaddr + segment->p_filesz) & ~(page - 1);
        if (end > start && madvise((void *)start, end - start, MADV_DONTNEED) == 0) *released += end - start;
    }
    return 1;  // the first object reported is the executable; libraries are shared, leave them
}

size_t lanegate_unmap_startup_code(void) {
    size_t released = 0;
    dl_iterate_phdr(unmap_executable_code, &released);
    return released;
}
