/*
 * privs.h - what snakescope itself holds.
 *
 * Reading another process needs ptrace permission: the same user (when
 * the kernel allows it) or CAP_SYS_PTRACE.  Run by root, snakescope keeps
 * only what the read and its output need and drops every other
 * capability, so that a bug in reading untrusted memory cannot be turned
 * into more.  Installed set-user-ID or set-group-ID it would let anyone
 * read anyone's processes: it refuses to run that way.
 */
#ifndef SNAKESCOPE_PRIVS_H
#define SNAKESCOPE_PRIVS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The capabilities kept: CAP_SYS_PTRACE (attach, read memory and /proc),
 * CAP_DAC_READ_SEARCH (read the target's binaries and sources through
 * /proc/PID/root), CAP_DAC_OVERRIDE (write -o files where root can) and,
 * to open a deleted binary through /proc/PID/map_files, CAP_CHECKPOINT_
 * RESTORE (Linux 5.9+; CAP_SYS_ADMIN on older kernels), and CAP_SYS_NICE
 * (a thread held alone is held at real-time priority: attach/pause.h).
 * None grants more over another process than CAP_SYS_PTRACE does.
 */
#define PRIVS_CAP_DAC_OVERRIDE 1
#define PRIVS_CAP_DAC_READ_SEARCH 2
#define PRIVS_CAP_SYS_ADMIN 21
#define PRIVS_CAP_SYS_PTRACE 19
#define PRIVS_CAP_SYS_NICE 23
#define PRIVS_CAP_CHECKPOINT_RESTORE 40

/* The set privs_drop() keeps on this kernel. */
uint64_t privs_kept(void);

/* Whether cap is in our effective set / in our bounding set now. */
bool privs_effective(int cap);
bool privs_bounding(int cap);

/* SS_EPERM with a message when we run set-user-ID or set-group-ID. */
int privs_check(struct err *e);

/*
 * Keep only privs_kept() of our capabilities (effective, permitted), clear
 * the inheritable and ambient sets and, when allowed, the bounding set.
 * Nothing happens without capabilities, nor without CAP_SYS_PTRACE (then
 * the kernel lets us attach only to processes whose capabilities are
 * within ours, so they are all kept).  Programs we start ('run') must be
 * started before, so that they get the privileges of the user.
 */
void privs_drop(void);

#endif
