/* ring.h: reading the enclave's output ring (records of alcove_abi.h) without trusting it.
 * A pure function over the ring's bytes and indices, fuzzed by tests/fuzz/fuzz_ring.c. */
#ifndef ALCOVE_RING_H
#define ALCOVE_RING_H

#include <stdint.h>
#include <sys/uio.h>

enum ring_status {
    RING_EMPTY = 0,  /* nothing between tail and head */
    RING_RECORD = 1, /* *rec describes the next record */
    RING_CORRUPT = 2 /* indices or header impossible: the guest broke the protocol */
};

struct ring_record {
    unsigned stream;     /* enum alc_stream */
    uint64_t len;        /* payload bytes */
    struct iovec iov[2]; /* the payload, split where the ring wraps */
    int iovcnt;
    uint64_t next_tail; /* the tail after this record */
};

/* data: the ring's size bytes (size a power of two); head and tail: the producer and consumer
 * positions (free-running). */
enum ring_status ring_next_record(uint8_t *data, uint64_t size, uint64_t head, uint64_t tail,
                                  struct ring_record *rec);

#endif
