#include <config.h>

#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct err_info {
	int exit_code;
	const char *desc;
};

static const struct err_info err_table[] = {
#define SS_ERR_INFO(name, code, desc) [name - SS_ERR_FIRST_ - 1] = {code, desc},
	SS_ERRORS(SS_ERR_INFO)
#undef SS_ERR_INFO
};

static const struct err_info *err_lookup(int code)
{
	int i = code - SS_ERR_FIRST_ - 1;

	if (code >= 0 || i < 0 || (size_t)i >= sizeof(err_table) / sizeof(err_table[0]))
		return NULL;
	return &err_table[i];
}

const char *err_describe(int code)
{
	const struct err_info *info = err_lookup(code);

	if (code == SS_OK)
		return "success";
	return info ? info->desc : "unknown error";
}

int err_exit_code(int code)
{
	const struct err_info *info = err_lookup(code);

	if (code == SS_OK)
		return 0;
	return info ? info->exit_code : 1;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	e->saved_errno = saved;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	errno = saved;
	return code;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->code = SS_OK;
	e->saved_errno = 0;
	e->msg[0] = '\0';
}
