/*
 * err.h - the one error table of snakescope.
 *
 * Fallible functions return 0 on success or a negative SS_E* code.  An
 * optional struct err out-parameter carries the code, the errno saved where
 * the failure happened and a short lowercase message naming the subject.
 * Setting an error never prints it: the caller that decides the outcome
 * reports it once.
 */
#ifndef SNAKESCOPE_ERR_H
#define SNAKESCOPE_ERR_H

#include <stdarg.h>

/*
 * X(name, exit_code, description).  The exit code is what the command line
 * returns when this error ends a session (documented in README.md).
 */
#define SS_ERRORS(X)                                                        \
	X(SS_EINVAL, 2, "invalid argument")                                 \
	X(SS_ENOPROC, 3, "no such process")                                 \
	X(SS_EEXITED, 3, "process exited")                                  \
	X(SS_EZOMBIE, 3, "process is a zombie")                             \
	X(SS_EPERM, 4, "permission denied")                                 \
	X(SS_ENOTPY, 5, "not a Python process")                             \
	X(SS_EUNSUPPORTED, 5, "unsupported Python version")                 \
	X(SS_EBADBUILD, 5, "unrecognised Python build")                     \
	X(SS_EREAD, 1, "cannot read target memory")                         \
	X(SS_ECORRUPT, 1, "inconsistent data in target")                    \
	X(SS_EELF, 1, "cannot read ELF file")                               \
	X(SS_EIO, 1, "input/output error")                                  \
	X(SS_EPTRACE, 1, "cannot pause target")                             \
	X(SS_ELIMIT, 1, "limit exceeded")

enum ss_error {
	SS_OK = 0,
#define SS_ERR_ENUM(name, code, desc) name,
	SS_ERR_FIRST_ = -100,
	SS_ERRORS(SS_ERR_ENUM)
#undef SS_ERR_ENUM
	SS_ERR_LAST_
};

#define ERR_MSG_MAX 1024

struct err {
	int code;        /* SS_E*, 0 when no error was set */
	int saved_errno; /* errno at the point of failure, or 0 */
	char msg[ERR_MSG_MAX];
};

/* Describe an error code ("no such process"); never NULL. */
const char *err_describe(int code);

/* Process exit code for an error code (0 for SS_OK). */
int err_exit_code(int code);

/*
 * Record an error in *e (if e is not NULL) and return 'code', so callers can
 * write `return err_set(e, SS_EREAD, "cannot read %s", what);`.  The message
 * is formatted printf-style; e->saved_errno is set from errno at call time.
 */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reset *e to "no error". */
void err_clear(struct err *e);

#endif
