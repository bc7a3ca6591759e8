// Fused Adam step (PyTorch's formula), in place on p, m, v:
//   m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2,
//   p -= step_size * m / (sqrt(v) / sqrt_bc2 + eps)
// with step_size = lr / (1 - b1^t) and sqrt_bc2 = sqrt(1 - b2^t) computed by the caller in double.
#include "common.cuh"

template <typename T>
__device__ void adam_update(T* p, const T* g, T* m, T* v, long long n, T step_size, T b1, T b2, T eps,
                            T sqrt_bc2) {
    GRID_STRIDE_LOOP(i, n) {
        const T mi = b1 * m[i] + (T(1) - b1) * g[i];
        const T vi = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        p[i] -= step_size * (mi / (sqrt(vi) / sqrt_bc2 + eps));
    }
}

extern "C" __global__ void adam_update_f32(float* p, const float* g, float* m, float* v, long long n,
                                           float step_size, float b1, float b2, float eps, float sqrt_bc2) {
    adam_update(p, g, m, v, n, step_size, b1, b2, eps, sqrt_bc2);
}
EMU_EXPORT(adam_update_f32)

extern "C" __global__ void adam_update_f64(double* p, const double* g, double* m, double* v, long long n,
                                           double step_size, double b1, double b2, double eps, double sqrt_bc2) {
    adam_update(p, g, m, v, n, step_size, b1, b2, eps, sqrt_bc2);
}
EMU_EXPORT(adam_update_f64)
