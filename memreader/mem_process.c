#include <config.h>

#include "memreader/mem.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

struct proc_mem {
	pid_t pid;
	int mem_fd;       /* /proc/PID/mem, opened on first need */
	bool use_procmem; /* process_vm_readv is not available */
};

static int read_error(struct proc_mem *p, uint64_t addr, size_t len,
		      struct err *e)
{
	int saved = errno;

	if (saved == ESRCH || (kill(p->pid, 0) < 0 && errno == ESRCH)) {
		errno = saved;
		return err_set(e, SS_EEXITED, "cannot read target memory: "
			       "process %d exited", (int)p->pid);
	}
	errno = saved;
	if (saved == EPERM || saved == EACCES)
		return err_set(e, SS_EPERM, "cannot read memory of process %d",
			       (int)p->pid);
	return err_set(e, SS_EREAD, "cannot read %zu bytes at 0x%llx",
		       len, (unsigned long long)addr);
}

static int procmem_read(struct proc_mem *p, uint64_t addr, void *buf,
			size_t len, struct err *e)
{
	ssize_t n;

	if (p->mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->pid);
		p->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->mem_fd < 0)
			return read_error(p, addr, len, e);
	}
	n = pread(p->mem_fd, buf, len, (off_t)addr);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		errno = EFAULT;
	return read_error(p, addr, len, e);
}

static int process_read(void *priv, uint64_t addr, void *buf, size_t len,
			struct err *e)
{
	struct proc_mem *p = priv;
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (p->use_procmem)
		return procmem_read(p, addr, buf, len, e);
	n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && errno == ENOSYS) {
		p->use_procmem = true;
		return procmem_read(p, addr, buf, len, e);
	}
	if (n >= 0)
		errno = EFAULT; /* partial read: the tail is unmapped */
	return read_error(p, addr, len, e);
}

/* process_vm_readv takes at most IOV_MAX (1024) ranges per call. */
#define SPANS_PER_CALL 1024

/*
 * The kernel copies ranges in order and stops at the first one it cannot
 * read completely, returning the bytes copied so far: every span before
 * that one is whole, that one failed, and the rest go in the next call.
 */
static size_t process_readv(void *priv, struct mem_span *spans, size_t n)
{
	struct proc_mem *p = priv;
	struct iovec local[SPANS_PER_CALL], remote[SPANS_PER_CALL];
	size_t i = 0, done = 0;

	while (i < n) {
		size_t k = n - i < SPANS_PER_CALL ? n - i : SPANS_PER_CALL;
		ssize_t got;

		for (size_t j = 0; j < k; j++) {
			local[j].iov_base = spans[i + j].buf;
			local[j].iov_len = spans[i + j].len;
			remote[j].iov_base = (void *)(uintptr_t)spans[i + j].addr;
			remote[j].iov_len = spans[i + j].len;
			spans[i + j].ok = false;
		}
		got = p->use_procmem ? -1 :
		      process_vm_readv(p->pid, local, k, remote, k, 0);
		if (got < 0) {
			/* No process_vm_readv, or the first range failed:
			 * that range alone, then go on. */
			spans[i].ok = !process_read(p, spans[i].addr,
						    spans[i].buf, spans[i].len,
						    NULL);
			done += spans[i].ok;
			i++;
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			if ((size_t)got < spans[i + j].len) {
				k = j + 1; /* span j failed: resume after it */
				break;
			}
			got -= (ssize_t)spans[i + j].len;
			spans[i + j].ok = true;
			done++;
		}
		i += k;
	}
	return done;
}

static void process_free(void *priv)
{
	struct proc_mem *p = priv;

	if (p->mem_fd >= 0)
		close(p->mem_fd);
	free(p);
}

static const struct mem_ops process_ops = {
	.read = process_read,
	.readv = process_readv,
	.free = process_free,
};

struct mem_reader *mem_process_new(pid_t pid)
{
	struct proc_mem *p = xcalloc(1, sizeof(*p));

	p->pid = pid;
	p->mem_fd = -1;
	return mem_reader_new(&process_ops, p);
}
