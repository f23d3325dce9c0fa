// The zstd dictionaries batches are compressed with, as trained by packaging/train-dictionary.sh.
// Every version ever shipped stays: batches stored under it must stay readable.
#ifndef LANEGATE_ZSTD_DICTIONARIES_H
#define LANEGATE_ZSTD_DICTIONARIES_H

struct lanegate_zstd_dictionary {
    const unsigned char *bytes;
    unsigned long size;
};

extern const struct lanegate_zstd_dictionary lanegate_zstd_dictionary_v1;

#endif
