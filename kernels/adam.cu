// One Adam step for one parameter tensor, in place, one pass over memory:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p = p - lr * (m / bias1) / (sqrt(v / bias2) + eps),  bias1 = 1 - b1^t, bias2 = 1 - b2^t
// p, g, m, v: contiguous float32 arrays of `size` elements. Grid-stride loop.
extern "C" __global__ void adam(float* p, const float* g, float* m, float* v, long long size,
                                float lr, float b1, float b2, float eps, float bias1, float bias2)
{
    long long stride = (long long)blockDim.x * gridDim.x;
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < size; k += stride) {
        float mk = b1 * m[k] + (1.0f - b1) * g[k];
        float vk = b2 * v[k] + (1.0f - b2) * g[k] * g[k];
        m[k] = mk;
        v[k] = vk;
        p[k] -= lr * (mk / bias1) / (sqrtf(vk / bias2) + eps);
    }
}
