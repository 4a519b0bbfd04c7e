// col[n, c, i, j, oy, ox] = x[n, c, oy * sh - ph + i, ox * sw - pw + j], or 0 in the padding.
// x: (N, C, H, W) and col: (N, C, KH, KW, OH, OW), both contiguous float32.
// One thread per col element, grid-stride loop.
extern "C" __global__ void im2col(const float* x, float* col,
                                  int n, int c, int h, int w, int kh, int kw,
                                  int sh, int sw, int ph, int pw, int oh, int ow)
{
    long long total = (long long)n * c * kh * kw * oh * ow;
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < total; k += stride) {
        int ox = k % ow;
        int oy = (k / ow) % oh;
        int j = (k / ((long long)ow * oh)) % kw;
        int i = (k / ((long long)ow * oh * kw)) % kh;
        long long plane = k / ((long long)ow * oh * kw * kh);  // n * C + c
        int y = oy * sh - ph + i;
        int xx = ox * sw - pw + j;
        col[k] = (y >= 0 && y < h && xx >= 0 && xx < w) ? x[(plane * h + y) * w + xx] : 0.0f;
    }
}
