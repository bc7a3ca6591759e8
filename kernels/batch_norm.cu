// Batch normalisation over x viewed as (N, C, HW); statistics are per channel c over N*HW values.
//
// stats:    mean_c = sum x / m,  var_c = sum (x - mean_c)^2 / m (biased),  invstd_c = 1/sqrt(var_c + eps)
// forward:  y = (x - mean_c) * invstd_c * gamma_c + beta_c
// backward: xhat = (x - mean_c) * invstd_c,  gbeta_c = sum gy,  ggamma_c = sum gy * xhat,
//           gx = gamma_c * invstd_c * (gy - gbeta_c / m - xhat * ggamma_c / m)
// The reduction kernels give each channel to one block (blocks stride over channels).
#include "common.cuh"

template <typename T>
__device__ void batch_norm_stats(const T* x, T* mean, T* var, T* invstd, int N, int C, int HW, T eps) {
    __shared__ double buf[MAX_BLOCK];
    const long long m = (long long)N * HW;
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        double s = 0;
        for (long long j = threadIdx.x; j < m; j += blockDim.x) s += x[((j / HW) * C + c) * HW + j % HW];
        const double mu = block_sum(s, buf) / m;
        double q = 0;
        for (long long j = threadIdx.x; j < m; j += blockDim.x) {
            const double d = x[((j / HW) * C + c) * HW + j % HW] - mu;
            q += d * d;
        }
        const double v = block_sum(q, buf) / m;
        if (threadIdx.x == 0) {
            mean[c] = T(mu);
            var[c] = T(v);
            invstd[c] = T(1.0 / sqrt(v + double(eps)));
        }
    }
}

template <typename T>
__device__ void batch_norm_forward(const T* x, const T* mean, const T* invstd, const T* gamma, const T* beta,
                                   T* y, int N, int C, int HW) {
    GRID_STRIDE_LOOP(i, (long long)N * C * HW) {
        const int c = (i / HW) % C;
        y[i] = (x[i] - mean[c]) * invstd[c] * gamma[c] + beta[c];
    }
}

template <typename T>
__device__ void batch_norm_backward(const T* x, const T* gy, const T* mean, const T* invstd, const T* gamma,
                                    T* gx, T* ggamma, T* gbeta, int N, int C, int HW) {
    __shared__ double buf[MAX_BLOCK];
    const long long m = (long long)N * HW;
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        const double mu = mean[c], is = invstd[c];
        double sb = 0, sg = 0;
        for (long long j = threadIdx.x; j < m; j += blockDim.x) {
            const long long i = ((j / HW) * C + c) * HW + j % HW;
            sb += gy[i];
            sg += gy[i] * ((x[i] - mu) * is);
        }
        const double gb = block_sum(sb, buf);
        const double gg = block_sum(sg, buf);
        if (threadIdx.x == 0) {
            gbeta[c] = T(gb);
            ggamma[c] = T(gg);
        }
        const double scale = gamma[c] * is;
        for (long long j = threadIdx.x; j < m; j += blockDim.x) {
            const long long i = ((j / HW) * C + c) * HW + j % HW;
            const double xhat = (x[i] - mu) * is;
            gx[i] = T(scale * (gy[i] - gb / m - xhat * gg / m));
        }
    }
}

extern "C" __global__ void batch_norm_stats_f32(const float* x, float* mean, float* var, float* invstd, int N,
                                                int C, int HW, float eps) {
    batch_norm_stats(x, mean, var, invstd, N, C, HW, eps);
}
EMU_EXPORT(batch_norm_stats_f32)

extern "C" __global__ void batch_norm_stats_f64(const double* x, double* mean, double* var, double* invstd,
                                                int N, int C, int HW, double eps) {
    batch_norm_stats(x, mean, var, invstd, N, C, HW, eps);
}
EMU_EXPORT(batch_norm_stats_f64)

extern "C" __global__ void batch_norm_forward_f32(const float* x, const float* mean, const float* invstd,
                                                  const float* gamma, const float* beta, float* y, int N, int C,
                                                  int HW) {
    batch_norm_forward(x, mean, invstd, gamma, beta, y, N, C, HW);
}
EMU_EXPORT(batch_norm_forward_f32)

extern "C" __global__ void batch_norm_forward_f64(const double* x, const double* mean, const double* invstd,
                                                  const double* gamma, const double* beta, double* y, int N,
                                                  int C, int HW) {
    batch_norm_forward(x, mean, invstd, gamma, beta, y, N, C, HW);
}
EMU_EXPORT(batch_norm_forward_f64)

extern "C" __global__ void batch_norm_backward_f32(const float* x, const float* gy, const float* mean,
                                                   const float* invstd, const float* gamma, float* gx,
                                                   float* ggamma, float* gbeta, int N, int C, int HW) {
    batch_norm_backward(x, gy, mean, invstd, gamma, gx, ggamma, gbeta, N, C, HW);
}
EMU_EXPORT(batch_norm_backward_f32)

extern "C" __global__ void batch_norm_backward_f64(const double* x, const double* gy, const double* mean,
                                                   const double* invstd, const double* gamma, double* gx,
                                                   double* ggamma, double* gbeta, int N, int C, int HW) {
    batch_norm_backward(x, gy, mean, invstd, gamma, gx, ggamma, gbeta, N, C, HW);
}
EMU_EXPORT(batch_norm_backward_f64)
