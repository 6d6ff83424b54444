#ifndef FEDARENA_CZEROMQ_SHIM_H
#define FEDARENA_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
