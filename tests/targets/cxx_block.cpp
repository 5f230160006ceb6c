// A C++ library for the live tests of `snakescope dump --native`: its
// frames must come out demangled ("nt::Waiter<int>::wait(int)").  Loaded
// by cxx_target.py through ctypes; built with g++ by native_check.py.
#include <sys/syscall.h>
#include <unistd.h>

namespace nt {

template <typename T> struct Waiter {
	T turns;

	// Blocks for good, in libc's pause(), under this frame.
	__attribute__((noinline)) long wait(T k)
	{
		long n = 0;

		for (;;)
			n += pause() + k + turns;
		return n;
	}
};

} // namespace nt

extern "C" __attribute__((noinline)) long nt_cxx_block(int k)
{
	nt::Waiter<int> w{k};

	return w.wait(k) + 1;
}

extern "C" long nt_cxx_gettid(void)
{
	return syscall(SYS_gettid);
}
