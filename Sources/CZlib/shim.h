#ifndef FEDARENA_CZLIB_SHIM_H
#define FEDARENA_CZLIB_SHIM_H
#include <zlib.h>
#endif
