#ifndef FEDARENA_CPROCESSCONTROL_SHIM_H
#define FEDARENA_CPROCESSCONTROL_SHIM_H
#include <signal.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/// Asks the kernel to send `signal` to this process when its parent thread exits
/// (Linux `prctl(PR_SET_PDEATHSIG)`). Returns 0 on success, -1 with errno set, or -2 where
/// the platform has no such call.
static inline int fedarena_set_parent_death_signal(int signal) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
#else
    (void)signal;
    return -2;
#endif
}
#endif
