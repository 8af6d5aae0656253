/* The training step (_kernel_step.h) for float and double, its functions named with the
 * suffix ISA: included by _kernel.c once per instruction set it is compiled for. */

#define REAL float
#define REAL_IS_FLOAT 1
#define REAL_EPS FLT_EPSILON
#define EXP_OF expf
#define TANH_OF tanhf
#define NAME(name) JOIN(name, float, ISA)
#include "_kernel_step.h"
#undef REAL
#undef REAL_IS_FLOAT
#undef REAL_EPS
#undef EXP_OF
#undef TANH_OF
#undef NAME

#define REAL double
#define REAL_IS_FLOAT 0
#define REAL_EPS DBL_EPSILON
#define EXP_OF exp
#define TANH_OF tanh
#define NAME(name) JOIN(name, double, ISA)
#include "_kernel_step.h"
#undef REAL
#undef REAL_IS_FLOAT
#undef REAL_EPS
#undef EXP_OF
#undef TANH_OF
#undef NAME
