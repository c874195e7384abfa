#ifndef REEL_CZEROMQ_SHIM_H
#define REEL_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
