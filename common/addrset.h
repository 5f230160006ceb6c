/*
 * addrset.h - a small set of addresses, for cycle detection while walking
 * linked structures read from the target.
 */
#ifndef SNAKESCOPE_ADDRSET_H
#define SNAKESCOPE_ADDRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addrset {
	uint64_t *slot; /* open addressing; 0 = empty */
	size_t cap, n;
};

void addrset_init(struct addrset *s);
void addrset_release(struct addrset *s);
void addrset_clear(struct addrset *s);
/* Add addr (non-zero); returns false if it was already present. */
bool addrset_add(struct addrset *s, uint64_t addr);

#endif
