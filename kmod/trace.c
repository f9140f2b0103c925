// SPDX-License-Identifier: GPL-2.0
/* The one place zsync's tracepoints are defined (kmod/zsync_trace.h). */
#define CREATE_TRACE_POINTS
#include "zsync_trace.h"
