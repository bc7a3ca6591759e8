// Pixel normalisation (ProGAN) of x (N, C, HW), per pixel (n, p) across channels:
//   r = 1 / sqrt(sum_c x_c^2 / C + eps),  y_c = x_c * r,
//   gx_c = r * gy_c - x_c * r^3 * (sum_k gy_k x_k) / C.
// One thread per pixel; neighbouring threads read neighbouring pixels of the same channel.
#include "common.cuh"

template <typename T>
__device__ double pixel_norm_r(const T* x, long long base, int C, int HW, T eps) {
    double s = 0;
    for (int c = 0; c < C; ++c) s += double(x[base + (long long)c * HW]) * x[base + (long long)c * HW];
    return 1.0 / sqrt(s / C + double(eps));
}

template <typename T>
__device__ void pixel_norm_forward(const T* x, T* y, int N, int C, int HW, T eps) {
    GRID_STRIDE_LOOP(q, (long long)N * HW) {
        const long long base = (q / HW) * C * HW + q % HW;
        const double r = pixel_norm_r(x, base, C, HW, eps);
        for (int c = 0; c < C; ++c) y[base + (long long)c * HW] = T(x[base + (long long)c * HW] * r);
    }
}

template <typename T>
__device__ void pixel_norm_backward(const T* x, const T* gy, T* gx, int N, int C, int HW, T eps) {
    GRID_STRIDE_LOOP(q, (long long)N * HW) {
        const long long base = (q / HW) * C * HW + q % HW;
        const double r = pixel_norm_r(x, base, C, HW, eps);
        double dot = 0;
        for (int c = 0; c < C; ++c) dot += double(gy[base + (long long)c * HW]) * x[base + (long long)c * HW];
        const double k = r * r * r * dot / C;
        for (int c = 0; c < C; ++c) {
            const long long i = base + (long long)c * HW;
            gx[i] = T(r * gy[i] - x[i] * k);
        }
    }
}

extern "C" __global__ void pixel_norm_forward_f32(const float* x, float* y, int N, int C, int HW, float eps) {
    pixel_norm_forward(x, y, N, C, HW, eps);
}
EMU_EXPORT(pixel_norm_forward_f32)

extern "C" __global__ void pixel_norm_forward_f64(const double* x, double* y, int N, int C, int HW, double eps) {
    pixel_norm_forward(x, y, N, C, HW, eps);
}
EMU_EXPORT(pixel_norm_forward_f64)

extern "C" __global__ void pixel_norm_backward_f32(const float* x, const float* gy, float* gx, int N, int C,
                                                   int HW, float eps) {
    pixel_norm_backward(x, gy, gx, N, C, HW, eps);
}
EMU_EXPORT(pixel_norm_backward_f32)

extern "C" __global__ void pixel_norm_backward_f64(const double* x, const double* gy, double* gx, int N, int C,
                                                   int HW, double eps) {
    pixel_norm_backward(x, gy, gx, N, C, HW, eps);
}
EMU_EXPORT(pixel_norm_backward_f64)
