// Batch norm's running statistics move toward a batch's, in place (momentum as in PyTorch;
// unbias = m / (m - 1) turns the batch's biased variance into the unbiased one):
//   running_mean += momentum * (mean - running_mean)
//   running_var  += momentum * (var * unbias - running_var)
// One thread per channel, grid-stride loop.
extern "C" __global__ void bn_running_update(float* running_mean, float* running_var,
                                             const float* mean, const float* var, int channels,
                                             float momentum, float unbias)
{
    int stride = blockDim.x * gridDim.x;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < channels; c += stride) {
        running_mean[c] += momentum * (mean[c] - running_mean[c]);
        running_var[c] += momentum * (var[c] * unbias - running_var[c]);
    }
}
