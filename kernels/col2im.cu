// The adjoint of im2col, gather style (no atomics): each image pixel sums every col entry
// that im2col copied from it.
// x[c, n, y, xx] = sum over (i, j, oy, ox) with oy * sh - ph + i = y and ox * sw - pw + j = xx
//                  of col[c, i, j, n, oy, ox].
// col: (C, KH, KW, N, OH, OW) and x: channel-major (C, N, H, W), both contiguous float32.
// One thread per image pixel, grid-stride loop.
extern "C" __global__ void col2im(const float* col, float* x,
                                  int n, int c, int h, int w, int kh, int kw,
                                  int sh, int sw, int ph, int pw, int oh, int ow)
{
    long long total = (long long)n * c * h * w;
    long long stride = (long long)blockDim.x * gridDim.x;
    long long plane = (long long)n * oh * ow;  // one (c, i, j) slice of col
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total; k += stride) {
        int xx = k % w;
        int y = (k / w) % h;
        int b = (k / ((long long)w * h)) % n;
        int ch = k / ((long long)w * h * n);
        const float* patches = col + (long long)ch * kh * kw * plane + (long long)b * oh * ow;
        float sum = 0.0f;
        for (int i = 0; i < kh; ++i) {
            int ty = y + ph - i;  // = oy * sh when this kernel row touched pixel row y
            if (ty < 0 || ty % sh != 0 || ty / sh >= oh) continue;
            int oy = ty / sh;
            for (int j = 0; j < kw; ++j) {
                int tx = xx + pw - j;
                if (tx < 0 || tx % sw != 0 || tx / sw >= ow) continue;
                sum += patches[(i * kw + j) * plane + oy * ow + tx / sw];
            }
        }
        x[k] = sum;
    }
}
