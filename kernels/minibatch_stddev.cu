// Minibatch standard deviation (ProGAN) of x (N, C, H, W) with groups of G samples, N = G * M.
//
// Grouping, as x.reshape(G, M, C, H, W) in the ProGAN reference: sample n = g*M + m is member g
// of group m, so group m = {m, m + M, m + 2M, ...} (group = n % M).  With K = C*H*W and k a
// position in C*H*W:
//   mu_mk  = sum_g x[gM+m, k] / G,  std_mk = sqrt(sum_g (x[gM+m, k] - mu_mk)^2 / G + eps)
//   s_m    = sum_k std_mk / K
//   y      = concat(x, s_{n % M} broadcast to (1, H, W)) over channels: (N, C+1, H, W)
// Backward, with gs_m = sum over the group's samples and pixels of gy[:, C] (the extra channel):
//   gx[gM+m, k] = gy[gM+m, k] + gs_m * (x[gM+m, k] - mu_mk) / (G * K * std_mk)
#include "common.cuh"

template <typename T>
__device__ void minibatch_stddev_stats(const T* x, T* s, int G, int M, int K, T eps) {
    __shared__ double buf[MAX_BLOCK];
    for (int m = blockIdx.x; m < M; m += gridDim.x) {
        double acc = 0;
        for (int k = threadIdx.x; k < K; k += blockDim.x) {
            double mu = 0, q = 0;
            for (int g = 0; g < G; ++g) mu += x[((long long)g * M + m) * K + k];
            mu /= G;
            for (int g = 0; g < G; ++g) {
                const double d = x[((long long)g * M + m) * K + k] - mu;
                q += d * d;
            }
            acc += sqrt(q / G + double(eps));
        }
        acc = block_sum(acc, buf);
        if (threadIdx.x == 0) s[m] = T(acc / K);
    }
}

template <typename T>
__device__ void minibatch_stddev_concat(const T* x, const T* s, T* y, int N, int C, int HW, int M) {
    GRID_STRIDE_LOOP(i, (long long)N * (C + 1) * HW) {
        const int p = i % HW;
        const int c = (i / HW) % (C + 1);
        const long long n = i / ((long long)(C + 1) * HW);
        y[i] = c < C ? x[(n * C + c) * HW + p] : s[n % M];
    }
}

template <typename T>
__device__ void minibatch_stddev_grad_stat(const T* gy, T* gs, int G, int M, int C, int HW) {
    __shared__ double buf[MAX_BLOCK];
    for (int m = blockIdx.x; m < M; m += gridDim.x) {
        double acc = 0;
        for (int j = threadIdx.x; j < G * HW; j += blockDim.x) {
            const long long n = (long long)(j / HW) * M + m;
            acc += gy[(n * (C + 1) + C) * HW + j % HW];
        }
        acc = block_sum(acc, buf);
        if (threadIdx.x == 0) gs[m] = T(acc);
    }
}

template <typename T>
__device__ void minibatch_stddev_backward(const T* x, const T* gy, const T* gs, T* gx, int G, int M, int C,
                                          int HW, T eps) {
    const int K = C * HW;
    GRID_STRIDE_LOOP(t, (long long)M * K) {
        const int m = t / K, k = t % K;
        const int c = k / HW, p = k % HW;
        double mu = 0, q = 0;
        for (int g = 0; g < G; ++g) mu += x[((long long)g * M + m) * K + k];
        mu /= G;
        for (int g = 0; g < G; ++g) {
            const double d = x[((long long)g * M + m) * K + k] - mu;
            q += d * d;
        }
        const double coef = gs[m] / (double(G) * K * sqrt(q / G + double(eps)));
        for (int g = 0; g < G; ++g) {
            const long long n = (long long)g * M + m;
            gx[n * K + k] = T(gy[(n * (C + 1) + c) * HW + p] + coef * (x[n * K + k] - mu));
        }
    }
}

extern "C" __global__ void minibatch_stddev_stats_f32(const float* x, float* s, int G, int M, int K, float eps) {
    minibatch_stddev_stats(x, s, G, M, K, eps);
}
EMU_EXPORT(minibatch_stddev_stats_f32)

extern "C" __global__ void minibatch_stddev_stats_f64(const double* x, double* s, int G, int M, int K,
                                                      double eps) {
    minibatch_stddev_stats(x, s, G, M, K, eps);
}
EMU_EXPORT(minibatch_stddev_stats_f64)

extern "C" __global__ void minibatch_stddev_concat_f32(const float* x, const float* s, float* y, int N, int C,
                                                       int HW, int M) {
    minibatch_stddev_concat(x, s, y, N, C, HW, M);
}
EMU_EXPORT(minibatch_stddev_concat_f32)

extern "C" __global__ void minibatch_stddev_concat_f64(const double* x, const double* s, double* y, int N, int C,
                                                       int HW, int M) {
    minibatch_stddev_concat(x, s, y, N, C, HW, M);
}
EMU_EXPORT(minibatch_stddev_concat_f64)

extern "C" __global__ void minibatch_stddev_grad_stat_f32(const float* gy, float* gs, int G, int M, int C,
                                                          int HW) {
    minibatch_stddev_grad_stat(gy, gs, G, M, C, HW);
}
EMU_EXPORT(minibatch_stddev_grad_stat_f32)

extern "C" __global__ void minibatch_stddev_grad_stat_f64(const double* gy, double* gs, int G, int M, int C,
                                                          int HW) {
    minibatch_stddev_grad_stat(gy, gs, G, M, C, HW);
}
EMU_EXPORT(minibatch_stddev_grad_stat_f64)

extern "C" __global__ void minibatch_stddev_backward_f32(const float* x, const float* gy, const float* gs,
                                                         float* gx, int G, int M, int C, int HW, float eps) {
    minibatch_stddev_backward(x, gy, gs, gx, G, M, C, HW, eps);
}
EMU_EXPORT(minibatch_stddev_backward_f32)

extern "C" __global__ void minibatch_stddev_backward_f64(const double* x, const double* gy, const double* gs,
                                                         double* gx, int G, int M, int C, int HW, double eps) {
    minibatch_stddev_backward(x, gy, gs, gx, G, M, C, HW, eps);
}
EMU_EXPORT(minibatch_stddev_backward_f64)
