// Per-channel sums of a channel-major (C, M) float32 array, for batch norm's statistics:
//   sums[2c] += sum over m of x[c, m];  sums[2c + 1] += sum over m of x[c, m]^2   (in double)
// Launched on a grid (blocks, C): blockIdx.y is the channel, and the threads of its blocks
// stride over the channel's M values; each adds its two partial sums with two atomics, so
// sums must start at 0.
extern "C" __global__ void bn_sums(const float* x, double* sums, int inner)
{
    const float* row = x + (long long)blockIdx.y * inner;
    long long stride = (long long)blockDim.x * gridDim.x;
    double sum = 0.0, squares = 0.0;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < inner; k += stride) {
        double v = row[k];
        sum += v;
        squares += v * v;
    }
    atomicAdd(&sums[2 * blockIdx.y], sum);
    atomicAdd(&sums[2 * blockIdx.y + 1], squares);
}
