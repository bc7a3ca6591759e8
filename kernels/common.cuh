// Shared by every kernels/*.cu. scratchgan/cuda.py pastes this file in place of
// `#include "common.cuh"` before compiling, so NVRTC needs no include path.
#ifndef SCRATCHGAN_COMMON_CUH
#define SCRATCHGAN_COMMON_CUH

#ifndef EMU_EXPORT
#define EMU_EXPORT(name)  // GPU build: cupy launches the kernel itself; nothing to export
#endif

// Largest block of the reduction kernels; their blockDim.x must be a power of two <= this.
#define MAX_BLOCK 256

// Grid-stride loop over [0, n): each thread takes i, i + gridDim.x*blockDim.x, ...
#define GRID_STRIDE_LOOP(i, n)                                                        \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n);      \
         i += (long long)gridDim.x * blockDim.x)

// Sum of v over the threads of a block; every thread gets the total.
// Reductions accumulate in double: a float32 per-channel sum over a whole batch would
// otherwise lose about log2(count) bits.
__device__ inline double block_sum(double v, double* buf) {
    const unsigned t = threadIdx.x;
    buf[t] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) buf[t] += buf[t + s];
        __syncthreads();
    }
    const double total = buf[0];
    __syncthreads();  // buf is reused by the next call
    return total;
}

#endif  // SCRATCHGAN_COMMON_CUH
