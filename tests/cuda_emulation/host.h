// The CUDA execution model on the host, for running kernels/*.cu unchanged on a CPU.
// Force-included by g++ (-include host.h) ahead of a kernel file: the kernel's own text is
// compiled as plain C++, and emulation::launch walks grid x block one thread at a time.
// Threads run one after another, so a kernel that needs threads of a block to meet
// (__syncthreads, __shared__ memory) cannot be emulated: using either is a compile error.
#pragma once

#include <cmath>
#include <cstddef>
#include <math.h>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline

#define __syncthreads() \
    static_assert(false, "__syncthreads() is not emulated: threads run one after another")
#define __shared__ \
    static_assert(false, "__shared__ memory is not emulated: threads run one after another");

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x = 1, unsigned y = 1, unsigned z = 1) : x(x), y(y), z(z) {}
};

inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

// Exact without atomics: no two emulated threads ever run at the same time.
template <typename T>
inline T atomicAdd(T* address, T value)
{
    T old = *address;
    *address = old + value;
    return old;
}

namespace emulation {

// The position of linear index `k` in a box of size `extent`, x fastest (as CUDA numbers threads).
constexpr dim3 unflatten(unsigned long long k, dim3 extent)
{
    return dim3(k % extent.x, k / extent.x % extent.y, k / extent.x / extent.y);
}

// Calls kernel with the arguments that args[i] point at, the way cuLaunchKernel reads them.
template <typename... Params, std::size_t... I>
void call(void (*kernel)(Params...), void** args, std::index_sequence<I...>)
{
    kernel(*static_cast<Params*>(args[I])...);
}

// Runs every thread of every block of the grid, one after another.
template <typename... Params>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, void** args)
{
    gridDim = grid;
    blockDim = block;
    unsigned long long blocks = 1ULL * grid.x * grid.y * grid.z;
    unsigned long long threads = 1ULL * block.x * block.y * block.z;
    for (unsigned long long b = 0; b < blocks; ++b) {
        blockIdx = unflatten(b, grid);
        for (unsigned long long t = 0; t < threads; ++t) {
            threadIdx = unflatten(t, block);
            call(kernel, args, std::index_sequence_for<Params...>{});
        }
    }
}

}  // namespace emulation
