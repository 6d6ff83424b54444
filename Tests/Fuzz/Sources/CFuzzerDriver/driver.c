// The declaration in CFuzzerDriver.h is all: libFuzzer (-sanitize=fuzzer) defines the driver.
#include "CFuzzerDriver.h"
