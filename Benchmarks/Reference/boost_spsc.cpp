// The reference the SPSC ring is measured against: boost::lockfree::spsc_queue with the same
// workload (32-byte elements, capacity 4096, one producer and one consumer thread, 50M items).
#include <boost/lockfree/spsc_queue.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

struct Element32 { uint64_t a, b, c, d; };

int main() {
    constexpr uint64_t items = 50'000'000;
    for (int run = 0; run < 5; ++run) {
        boost::lockfree::spsc_queue<Element32, boost::lockfree::capacity<4096>> queue;
        auto start = std::chrono::steady_clock::now();
        std::thread producer([&] {
            for (uint64_t i = 0; i < items;) {
                if (queue.push(Element32{i, 0, 0, 0})) ++i;
            }
        });
        uint64_t received = 0, checksum = 0;
        Element32 batch[512];
        while (received < items) {
            size_t n = queue.pop(batch, 512);
            for (size_t k = 0; k < n; ++k) checksum += batch[k].a;
            received += n;
        }
        producer.join();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (checksum != items * (items - 1) / 2) { std::puts("boost: lost items"); return 1; }
        std::printf("boost::lockfree::spsc_queue run %d: %.1f M items/s\n", run + 1, items / seconds / 1e6);
    }
}
