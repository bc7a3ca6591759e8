// im2col / col2im for NCHW convolutions with stride (sy, sx), padding (ph, pw), dilation (dy, dx).
//
// Layout: col[n, (c*kh + ky)*kw + kx, oy*Wo + ox] = x[n, c, oy*sy - ph + ky*dy, ox*sx - pw + kx*dx]
// (zero where the input index falls in the padding), i.e. col is (N, C*kh*kw, Ho*Wo).
// col2im is the adjoint: it sums every col entry back onto the input pixel it was read from.
// It gathers (one thread per input pixel) rather than scatters, so it needs no atomics and
// is deterministic.
#include "common.cuh"

template <typename T>
__device__ void im2col(const T* x, T* col, int N, int C, int H, int W, int kh, int kw, int sy, int sx,
                       int ph, int pw, int dy, int dx, int Ho, int Wo) {
    const long long total = (long long)N * C * kh * kw * Ho * Wo;
    GRID_STRIDE_LOOP(i, total) {
        long long t = i;
        const int ox = t % Wo; t /= Wo;
        const int oy = t % Ho; t /= Ho;
        const int kx = t % kw; t /= kw;
        const int ky = t % kh; t /= kh;
        const int c = t % C;
        const int n = t / C;
        const int iy = oy * sy - ph + ky * dy;
        const int ix = ox * sx - pw + kx * dx;
        const bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        col[i] = inside ? x[(((long long)n * C + c) * H + iy) * W + ix] : T(0);
    }
}

template <typename T>
__device__ void col2im(const T* col, T* x, int N, int C, int H, int W, int kh, int kw, int sy, int sx,
                       int ph, int pw, int dy, int dx, int Ho, int Wo) {
    const long long total = (long long)N * C * H * W;
    GRID_STRIDE_LOOP(i, total) {
        const int ix = i % W;
        const int iy = (i / W) % H;
        const long long nc = i / ((long long)H * W);  // n * C + c
        T sum = T(0);
        for (int ky = 0; ky < kh; ++ky) {
            const int ty = iy + ph - ky * dy;  // = oy * sy for the output row that read (iy, ky)
            if (ty < 0 || ty % sy != 0 || ty / sy >= Ho) continue;
            const int oy = ty / sy;
            for (int kx = 0; kx < kw; ++kx) {
                const int tx = ix + pw - kx * dx;
                if (tx < 0 || tx % sx != 0 || tx / sx >= Wo) continue;
                const int ox = tx / sx;
                sum += col[((nc * kh + ky) * kw + kx) * Ho * Wo + (long long)oy * Wo + ox];
            }
        }
        x[i] = sum;
    }
}

extern "C" __global__ void im2col_f32(const float* x, float* col, int N, int C, int H, int W, int kh, int kw,
                                      int sy, int sx, int ph, int pw, int dy, int dx, int Ho, int Wo) {
    im2col(x, col, N, C, H, W, kh, kw, sy, sx, ph, pw, dy, dx, Ho, Wo);
}
EMU_EXPORT(im2col_f32)

extern "C" __global__ void im2col_f64(const double* x, double* col, int N, int C, int H, int W, int kh, int kw,
                                      int sy, int sx, int ph, int pw, int dy, int dx, int Ho, int Wo) {
    im2col(x, col, N, C, H, W, kh, kw, sy, sx, ph, pw, dy, dx, Ho, Wo);
}
EMU_EXPORT(im2col_f64)

extern "C" __global__ void col2im_f32(const float* col, float* x, int N, int C, int H, int W, int kh, int kw,
                                      int sy, int sx, int ph, int pw, int dy, int dx, int Ho, int Wo) {
    col2im(col, x, N, C, H, W, kh, kw, sy, sx, ph, pw, dy, dx, Ho, Wo);
}
EMU_EXPORT(col2im_f32)

extern "C" __global__ void col2im_f64(const double* col, double* x, int N, int C, int H, int W, int kh, int kw,
                                      int sy, int sx, int ph, int pw, int dy, int dx, int Ho, int Wo) {
    col2im(col, x, N, C, H, W, kh, kw, sy, sx, ph, pw, dy, dx, Ho, Wo);
}
EMU_EXPORT(col2im_f64)
