/*
 * check_main.h - shared by the Check unit tests: run one suite and turn
 * its result into the process exit status automake's test driver reads.
 */
#ifndef SNAKESCOPE_CHECK_MAIN_H
#define SNAKESCOPE_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
