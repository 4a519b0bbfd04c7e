// Batch norm's statistics from bn_sums' per-channel sums of m values each:
//   mean[c] = sums[2c] / m;  var[c] = sums[2c + 1] / m - mean[c]^2   (biased; never below 0)
// computed in double, stored as float32. One thread per channel, grid-stride loop.
extern "C" __global__ void bn_moments(const double* sums, float* mean, float* var,
                                      int channels, long long m)
{
    int stride = blockDim.x * gridDim.x;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < channels; c += stride) {
        double mu = sums[2 * c] / m;
        double v = sums[2 * c + 1] / m - mu * mu;
        mean[c] = (float)mu;
        var[c] = (float)(v > 0.0 ? v : 0.0);
    }
}
