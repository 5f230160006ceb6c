#include <config.h>

#include "attach/privs.h"

#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int privs_check(struct err *e)
{
	if (getauxval(AT_SECURE) &&
	    (getuid() != geteuid() || getgid() != getegid()))
		return err_set(e, SS_EPERM, "refusing to run set-user-ID or "
			       "set-group-ID: that would let any user read any "
			       "process; run snakescope as root or give the "
			       "user CAP_SYS_PTRACE instead");
	return 0;
}

static bool caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &h, d) == 0;
}

static uint64_t bit(int cap)
{
	return UINT64_C(1) << cap;
}

bool privs_effective(int cap)
{
	struct __user_cap_data_struct d[2];

	if (cap < 0 || cap >= 64 || !caps_get(d))
		return false;
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

bool privs_bounding(int cap)
{
	return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1;
}

uint64_t privs_kept(void)
{
	uint64_t keep = bit(PRIVS_CAP_SYS_PTRACE) |
			bit(PRIVS_CAP_DAC_READ_SEARCH) |
			bit(PRIVS_CAP_DAC_OVERRIDE) |
			bit(PRIVS_CAP_SYS_NICE);

	/* PR_CAPBSET_READ fails (EINVAL) for a capability the kernel does
	 * not know. */
	if (prctl(PR_CAPBSET_READ, PRIVS_CAP_CHECKPOINT_RESTORE, 0, 0, 0) >= 0)
		return keep | bit(PRIVS_CAP_CHECKPOINT_RESTORE);
	return keep | bit(PRIVS_CAP_SYS_ADMIN);
}

void privs_drop(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint64_t eff, prm, inh, keep = privs_kept();

	if (!caps_get(d))
		return;
	eff = d[0].effective | (uint64_t)d[1].effective << 32;
	prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	if (!((eff | prm | inh) & ~keep))
		return;
	/* Without CAP_SYS_PTRACE (root in a container started without it)
	 * the kernel lets us attach only to a process whose permitted set is
	 * within ours (commoncap's ptrace check): dropping would lose root's
	 * own processes in the container, started with the same set. */
	if (!(eff & bit(PRIVS_CAP_SYS_PTRACE)))
		return;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* The bounding set first: dropping from it needs CAP_SETPCAP, which
	 * goes next. */
	for (int cap = 0; cap < 64; cap++)
		if (!(keep & bit(cap)) &&
		    prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	keep &= prm;
	memset(d, 0, sizeof(d));
	d[0].permitted = (uint32_t)keep;
	d[1].permitted = (uint32_t)(keep >> 32);
	d[0].effective = (uint32_t)(eff & keep);
	d[1].effective = (uint32_t)((eff & keep) >> 32);
	syscall(SYS_capset, &h, d);
}
