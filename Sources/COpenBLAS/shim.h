#ifndef FEDARENA_COPENBLAS_SHIM_H
#define FEDARENA_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
