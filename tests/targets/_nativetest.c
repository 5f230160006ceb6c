/*
 * _nativetest - a C extension for the --native live tests, built by the
 * tests (tests/live/native_check.py) against each interpreter's headers.
 *
 *   block()         releases the GIL and waits forever in
 *                   pthread_cond_wait, through nt_wait_forever()
 *   call(fn)        calls fn() from C (through nt_call_inner()), so that
 *                   Python runs below a C frame
 *   start_c_thread()  starts a pthread named "nt-c-worker" that never
 *                   touches Python: it sleeps in nt_c_thread_loop();
 *                   returns its TID once it runs
 *   gettid()        the calling thread's TID
 *
 * The functions are kept out of line and are not tail calls, so each one
 * is a frame of its own.  Python 2.7 and 3.6+.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile long c_thread_tid;

NOINLINE static void nt_wait_forever(void)
{
	pthread_mutex_lock(&mu);
	for (;;)
		pthread_cond_wait(&cv, &mu);
}

static PyObject *nt_block(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	Py_BEGIN_ALLOW_THREADS
	nt_wait_forever();
	Py_END_ALLOW_THREADS
	Py_RETURN_NONE;
}

NOINLINE static PyObject *nt_call_inner(PyObject *fn)
{
	PyObject *r = PyObject_CallObject(fn, NULL);

	__asm__ volatile("" ::: "memory"); /* not a tail call */
	return r;
}

static PyObject *nt_call(PyObject *self, PyObject *fn)
{
	PyObject *r;

	(void)self;
	r = nt_call_inner(fn);
	__asm__ volatile("" ::: "memory");
	return r;
}

NOINLINE static void nt_c_thread_loop(void)
{
	for (;;)
		pause();
}

static void *nt_c_thread_main(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "nt-c-worker", 0, 0, 0);
	c_thread_tid = (long)syscall(SYS_gettid);
	nt_c_thread_loop();
	return NULL;
}

static PyObject *nt_start_c_thread(PyObject *self, PyObject *args)
{
	pthread_t th;

	(void)self;
	(void)args;
	if (pthread_create(&th, NULL, nt_c_thread_main, NULL) != 0)
		return PyErr_SetFromErrno(PyExc_OSError);
	pthread_detach(th);
	while (!c_thread_tid)
		usleep(1000);
	return PyLong_FromLong(c_thread_tid);
}

static PyObject *nt_gettid(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	return PyLong_FromLong((long)syscall(SYS_gettid));
}

static PyMethodDef methods[] = {
	{ "block", nt_block, METH_NOARGS, NULL },
	{ "call", nt_call, METH_O, NULL },
	{ "start_c_thread", nt_start_c_thread, METH_NOARGS, NULL },
	{ "gettid", nt_gettid, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL },
};

#if PY_MAJOR_VERSION >= 3
static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "_nativetest", NULL, -1, methods,
	NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__nativetest(void)
{
	return PyModule_Create(&module);
}
#else
PyMODINIT_FUNC init_nativetest(void)
{
	Py_InitModule("_nativetest", methods);
}
#endif
