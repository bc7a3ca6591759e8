// LeakyReLU.  y = x if x > 0 else slope * x;  gx = gy * (1 if x > 0 else slope).
#include "common.cuh"

template <typename T>
__device__ void leaky_relu_forward(const T* x, T* y, long long n, T slope) {
    GRID_STRIDE_LOOP(i, n) { y[i] = x[i] > T(0) ? x[i] : slope * x[i]; }
}

template <typename T>
__device__ void leaky_relu_backward(const T* x, const T* gy, T* gx, long long n, T slope) {
    GRID_STRIDE_LOOP(i, n) { gx[i] = x[i] > T(0) ? gy[i] : slope * gy[i]; }
}

extern "C" __global__ void leaky_relu_forward_f32(const float* x, float* y, long long n, float slope) {
    leaky_relu_forward(x, y, n, slope);
}
EMU_EXPORT(leaky_relu_forward_f32)

extern "C" __global__ void leaky_relu_forward_f64(const double* x, double* y, long long n, double slope) {
    leaky_relu_forward(x, y, n, slope);
}
EMU_EXPORT(leaky_relu_forward_f64)

extern "C" __global__ void leaky_relu_backward_f32(const float* x, const float* gy, float* gx, long long n,
                                                   float slope) {
    leaky_relu_backward(x, gy, gx, n, slope);
}
EMU_EXPORT(leaky_relu_backward_f32)

extern "C" __global__ void leaky_relu_backward_f64(const double* x, const double* gy, double* gx, long long n,
                                                   double slope) {
    leaky_relu_backward(x, gy, gx, n, slope);
}
EMU_EXPORT(leaky_relu_backward_f64)
