/*
 * fuzz_fdwait.c - libFuzzer target: the /proc text parsers of
 * attach/fdwait.h (/proc/net/tcp, tcp6, udp, unix lines, fdinfo, status,
 * fd links, a task's syscall line) over one text.  The input's first 8 bytes are the inode
 * looked for; the rest is the text.
 */
#include <config.h>

#include "attach/fdwait.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fdwait_fd f = { 0 };
	uint64_t ino = 0;
	char *text;

	if (size >= 8) {
		memcpy(&ino, data, 8);
		data += 8;
		size -= 8;
	}
	/* The parsers take NUL-terminated text, as read_text() gives. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (int v6 = 0; v6 < 2; v6++) {
		uint64_t peer;

		for (int tcp = 0; tcp < 2; tcp++)
			fdwait_net_inet(text, ino, v6, tcp, &f);
		/* The other end of the socket found (or of none). */
		fdwait_net_inet_peer(text, &f, v6, &peer);
	}
	fdwait_net_unix(text, ino, &f);
	fdwait_fdinfo_accmode(text);
	fdwait_link_inode(text, "pipe", &ino);
	fdwait_link_inode(text, "socket", &ino);
	{
		uint64_t args[6];
		long nr;

		fdwait_syscall_text(text, &nr, args);
	}
	for (int level = 0; level < 4; level++)
		fdwait_nspid_at(text, level);
	free(text);
	return 0;
}
