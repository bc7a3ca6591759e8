// Instance normalisation over x viewed as (N*C rows, HW); statistics are per row r = n*C + c.
//
// forward:  mean_r = sum x / HW,  var_r = sum (x - mean_r)^2 / HW,  invstd_r = 1/sqrt(var_r + eps),
//           y = (x - mean_r) * invstd_r * gamma_c + beta_c
// backward: xhat = (x - mean_r) * invstd_r,  sb_r = sum gy,  sg_r = sum gy * xhat,
//           gx = gamma_c * invstd_r * (gy - sb_r / HW - xhat * sg_r / HW);
//           the kernel writes the per-row partials sb_r, sg_r; gbeta_c, ggamma_c are their sums over n.
// Each row goes to one block (blocks stride over rows).
#include "common.cuh"

template <typename T>
__device__ void instance_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* invstd,
                                      int rows, int C, int HW, T eps) {
    __shared__ double buf[MAX_BLOCK];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const T* xr = x + (long long)r * HW;
        T* yr = y + (long long)r * HW;
        double s = 0;
        for (int j = threadIdx.x; j < HW; j += blockDim.x) s += xr[j];
        const double mu = block_sum(s, buf) / HW;
        double q = 0;
        for (int j = threadIdx.x; j < HW; j += blockDim.x) q += (xr[j] - mu) * (xr[j] - mu);
        const double is = 1.0 / sqrt(block_sum(q, buf) / HW + double(eps));
        const double g = gamma[r % C], b = beta[r % C];
        for (int j = threadIdx.x; j < HW; j += blockDim.x) yr[j] = T((xr[j] - mu) * is * g + b);
        if (threadIdx.x == 0) {
            mean[r] = T(mu);
            invstd[r] = T(is);
        }
    }
}

template <typename T>
__device__ void instance_norm_backward(const T* x, const T* gy, const T* mean, const T* invstd, const T* gamma,
                                       T* gx, T* ggamma_part, T* gbeta_part, int rows, int C, int HW) {
    __shared__ double buf[MAX_BLOCK];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        const long long base = (long long)r * HW;
        const double mu = mean[r], is = invstd[r];
        double sb = 0, sg = 0;
        for (int j = threadIdx.x; j < HW; j += blockDim.x) {
            sb += gy[base + j];
            sg += gy[base + j] * ((x[base + j] - mu) * is);
        }
        sb = block_sum(sb, buf);
        sg = block_sum(sg, buf);
        if (threadIdx.x == 0) {
            gbeta_part[r] = T(sb);
            ggamma_part[r] = T(sg);
        }
        const double scale = gamma[r % C] * is;
        for (int j = threadIdx.x; j < HW; j += blockDim.x) {
            const double xhat = (x[base + j] - mu) * is;
            gx[base + j] = T(scale * (gy[base + j] - sb / HW - xhat * sg / HW));
        }
    }
}

extern "C" __global__ void instance_norm_forward_f32(const float* x, const float* gamma, const float* beta,
                                                     float* y, float* mean, float* invstd, int rows, int C,
                                                     int HW, float eps) {
    instance_norm_forward(x, gamma, beta, y, mean, invstd, rows, C, HW, eps);
}
EMU_EXPORT(instance_norm_forward_f32)

extern "C" __global__ void instance_norm_forward_f64(const double* x, const double* gamma, const double* beta,
                                                     double* y, double* mean, double* invstd, int rows, int C,
                                                     int HW, double eps) {
    instance_norm_forward(x, gamma, beta, y, mean, invstd, rows, C, HW, eps);
}
EMU_EXPORT(instance_norm_forward_f64)

extern "C" __global__ void instance_norm_backward_f32(const float* x, const float* gy, const float* mean,
                                                      const float* invstd, const float* gamma, float* gx,
                                                      float* ggamma_part, float* gbeta_part, int rows, int C,
                                                      int HW) {
    instance_norm_backward(x, gy, mean, invstd, gamma, gx, ggamma_part, gbeta_part, rows, C, HW);
}
EMU_EXPORT(instance_norm_backward_f32)

extern "C" __global__ void instance_norm_backward_f64(const double* x, const double* gy, const double* mean,
                                                      const double* invstd, const double* gamma, double* gx,
                                                      double* ggamma_part, double* gbeta_part, int rows, int C,
                                                      int HW) {
    instance_norm_backward(x, gy, mean, invstd, gamma, gx, ggamma_part, gbeta_part, rows, C, HW);
}
EMU_EXPORT(instance_norm_backward_f64)
