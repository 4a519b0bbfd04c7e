// The terms of the fused batch-norm + activation backward's sums, one pass:
//   xhat = (x - mean[c]) * inv_std[c];  z = gamma[c] * xhat + beta[c]
//   gz = gy * (z > 0 ? 1 : slope)   (the activation's backward)
//   gz_xhat = gz * xhat             (summed per channel afterwards: the gamma gradient)
// All (outer, C, inner) arrays contiguous float32; tinygan passes channel-major (C, M) arrays,
// outer 1 and inner M = N * H * W. Per-channel arrays: (C,).
extern "C" __global__ void bn_act_backward_terms(const float* x, const float* gy, const float* mean,
                                               const float* inv_std, const float* gamma,
                                               const float* beta, float* gz, float* gz_xhat,
                                               long long size, int channels, int inner, float slope)
{
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < size; k += stride) {
        int ch = (k / inner) % channels;
        float xhat = (x[k] - mean[ch]) * inv_std[ch];
        float z = gamma[ch] * xhat + beta[ch];
        float g = z > 0.0f ? gy[k] : slope * gy[k];
        gz[k] = g;
        gz_xhat[k] = g * xhat;
    }
}
