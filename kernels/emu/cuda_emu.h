// CPU emulation of the small subset of CUDA C++ that kernels/*.cu use.
//
// Build:  g++ -std=c++20 -shared -fPIC -pthread -x c++ -include kernels/emu/cuda_emu.h FILE.cu
//
// Execution model
// - Blocks run one after another; the threads of one block run concurrently, one std::thread
//   per CUDA thread, so __syncthreads() is a real barrier (std::barrier).
// - __shared__ becomes `static`: a kernel's shared array is then one object that all threads of
//   the running block see, and since blocks never overlap in time it is "per block" as on a GPU.
//   (It is not zeroed between blocks; neither is shared memory on a GPU.)
// - A thread that returns leaves the barrier (arrive_and_drop), like an exited GPU thread.
// - Launches are serialised by a mutex, because shared storage is static.
//
// Launching: after each extern "C" kernel, the .cu says EMU_EXPORT(name). Here that defines
//   extern "C" void emu_launch_<name>(const unsigned grid[3], const unsigned block[3], void** args)
// where args[i] points at the value of the kernel's i-th parameter: the same convention as
// cuLaunchKernel's kernelParams.
#pragma once

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstddef>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
using uint3 = dim3;

inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace emu {

inline std::barrier<>* block_barrier = nullptr;  // the running block's barrier
inline std::mutex launch_mutex;

template <class Body>
void launch(const unsigned* grid, const unsigned* block, Body body) {
    std::lock_guard<std::mutex> lock(launch_mutex);
    const dim3 g{grid[0], grid[1], grid[2]};
    const dim3 b{block[0], block[1], block[2]};
    const std::ptrdiff_t nthreads = std::ptrdiff_t(b.x) * b.y * b.z;
    for (unsigned bz = 0; bz < g.z; ++bz)
        for (unsigned by = 0; by < g.y; ++by)
            for (unsigned bx = 0; bx < g.x; ++bx) {
                std::barrier<> barrier(nthreads);
                block_barrier = &barrier;
                std::vector<std::thread> threads;
                threads.reserve(nthreads);
                for (unsigned tz = 0; tz < b.z; ++tz)
                    for (unsigned ty = 0; ty < b.y; ++ty)
                        for (unsigned tx = 0; tx < b.x; ++tx)
                            threads.emplace_back([&, tx, ty, tz, bx, by, bz] {
                                threadIdx = {tx, ty, tz};
                                blockIdx = {bx, by, bz};
                                blockDim = b;
                                gridDim = g;
                                body();
                                barrier.arrive_and_drop();
                            });
                for (auto& t : threads) t.join();
                block_barrier = nullptr;
            }
}

// Call kernel k with its parameters read from args (see the header comment).
template <class... A, std::size_t... I>
void call_unpacked(void (*k)(A...), void** args, std::index_sequence<I...>) {
    k(*static_cast<A*>(args[I])...);
}

template <class... A>
void call(void (*k)(A...), void** args) {
    call_unpacked(k, args, std::index_sequence_for<A...>{});
}

}  // namespace emu

#define EMU_EXPORT(name)                                                                  \
    extern "C" void emu_launch_##name(const unsigned* grid, const unsigned* block,       \
                                      void** args) {                                     \
        emu::launch(grid, block, [args] { emu::call(name, args); });                     \
    }

inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }

template <class T>
T atomicAdd(T* address, T value) {
    return std::atomic_ref<T>(*address).fetch_add(value);
}

// Device math that CUDA has and the C++ standard library spells differently or not at all.
using std::sqrt;
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
