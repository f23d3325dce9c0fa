// The reference the SPSC ring is measured against: boost::lockfree::spsc_queue with the same
// workload as ring_race.swift (32-byte elements, capacity 4096, one producer thread and one
// consumer thread). One timed run per invocation, so a script can interleave it with the ring's.
//   boost_spsc single|batched ITEMS   prints items per second, in millions
#include <boost/lockfree/spsc_queue.hpp>
#include <pthread.h>
#include <sched.h>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

struct Element32 { uint64_t a, b, c, d; };

// Producer on CPU 0, consumer on CPU 1, as ring_race does: without it the scheduler sometimes
// puts both on one core, and a run measures that instead of the queue.
static void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

int main(int argc, char **argv) {
    if (argc != 3 || (std::strcmp(argv[1], "single") && std::strcmp(argv[1], "batched"))) {
        std::fputs("usage: boost_spsc single|batched ITEMS\n", stderr);
        return 2;
    }
    const bool batched = std::strcmp(argv[1], "batched") == 0;
    const uint64_t items = std::strtoull(argv[2], nullptr, 10);
    boost::lockfree::spsc_queue<Element32, boost::lockfree::capacity<4096>> queue;
    pin_to(1);
    auto start = std::chrono::steady_clock::now();
    std::thread producer([&] {
        pin_to(0);
        for (uint64_t i = 0; i < items;) {
            if (queue.push(Element32{i, 0, 0, 0})) ++i;
        }
    });
    uint64_t received = 0, checksum = 0;
    if (batched) {
        Element32 batch[512];
        while (received < items) {
            size_t n = queue.pop(batch, 512);
            for (size_t k = 0; k < n; ++k) checksum += batch[k].a;
            received += n;
        }
    } else {
        Element32 e;
        while (received < items) {
            if (queue.pop(e)) { checksum += e.a; ++received; }
        }
    }
    producer.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (checksum != items * (items - 1) / 2) { std::fputs("boost: lost or reordered items\n", stderr); return 1; }
    std::printf("%.2f\n", items / seconds / 1e6);
}
