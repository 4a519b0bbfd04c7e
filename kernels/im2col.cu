// col[c, i, j, n, oy, ox] = x[c, n, oy * sh - ph + i, ox * sw - pw + j], or 0 in the padding.
// x: channel-major (C, N, H, W) and col: (C, KH, KW, N, OH, OW), both contiguous float32.
// One thread per col element, grid-stride loop.
extern "C" __global__ void im2col(const float* x, float* col,
                                  int n, int c, int h, int w, int kh, int kw,
                                  int sh, int sw, int ph, int pw, int oh, int ow)
{
    long long total = (long long)c * kh * kw * n * oh * ow;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total; k += stride) {
        int ox = k % ow;
        int oy = (k / ow) % oh;
        long long rest = k / ((long long)ow * oh);  // ((c * KH + i) * KW + j) * N + n
        int b = rest % n;
        int j = (rest / n) % kw;
        int i = (rest / ((long long)n * kw)) % kh;
        int ch = rest / ((long long)n * kw * kh);
        int y = oy * sh - ph + i;
        int xx = ox * sw - pw + j;
        bool inside = y >= 0 && y < h && xx >= 0 && xx < w;
        col[k] = inside ? x[(((long long)ch * n + b) * h + y) * w + xx] : 0.0f;
    }
}
