#ifndef FEDARENA_CFUZZERDRIVER_H
#define FEDARENA_CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, LLVM 13 and later). SwiftPM makes an executable's entry
/// point `<module>_main`, so each fuzz target defines that and calls the driver itself.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
