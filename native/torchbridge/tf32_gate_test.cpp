// Checks the TF32 gate (tf32_gate.h) under threads: forwards of different settings never hold
// it at once and each sees its own setting applied; a steady stream of one setting does not
// starve the other; a thread inside passes again; the flag is applied only on a change.
// Prints one line per check and exits non-zero on the first failure (run by NativeTests).
#include "tf32_gate.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok) ++failures;
}

void exclusion() {
    std::atomic<int> flag{-1}, applies{0}, inside[2] = {{0}, {0}}, violations{0}, entries{0};
    tb_detail::Tf32Gate gate([&](bool tf32) {
        flag = tf32 ? 1 : 0;
        ++applies;
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3000; ++i) {
                const bool tf32 = (t + i / 500) % 2 == 1;
                gate.enter(tf32);
                ++inside[tf32];
                ++entries;
                if (flag != (tf32 ? 1 : 0) || inside[!tf32] != 0) ++violations;
                if (i % 7 == 0) std::this_thread::yield();
                --inside[tf32];
                gate.leave();
            }
        });
    for (auto& t : threads) t.join();
    check(entries == 8 * 3000, "every entry got through (no deadlock, none lost)");
    check(violations == 0, "no two settings held the gate at once; each holder saw its own setting");
    check(applies >= 2 && applies <= entries, "the flag was applied on changes, not on every entry");
}

void no_starvation() {
    std::atomic<bool> stop{false};
    std::atomic<long> stream{0};
    tb_detail::Tf32Gate gate([](bool) {});
    std::vector<std::thread> busy;
    for (int t = 0; t < 4; ++t)
        busy.emplace_back([&] {
            while (!stop) {
                gate.enter(false);
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                ++stream;
                gate.leave();
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto start = std::chrono::steady_clock::now();
    std::atomic<int> done{0};
    std::thread other([&] {
        for (int i = 0; i < 50; ++i) {
            gate.enter(true);
            gate.leave();
            ++done;
        }
    });
    // 50 turns against four overlapping holders: each waits for at most one round of them.
    while (done < 50 && std::chrono::steady_clock::now() - start < std::chrono::seconds(20))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const bool finished = done == 50;
    stop = true;
    other.join();
    for (auto& t : busy) t.join();
    check(finished, "the other setting got its 50 turns while four threads kept the first one busy");
    check(stream > 0, "the busy setting went on between them");
}

void reentry() {
    std::atomic<int> applies{0};
    tb_detail::Tf32Gate gate([&](bool) { ++applies; });
    std::atomic<bool> waiting_done{false};
    gate.enter(false);
    std::thread other([&] {
        gate.enter(true);
        gate.leave();
        waiting_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gate.enter(true);  // nested, the other setting waiting: passes, the outer setting holds
    gate.leave();
    const bool waited = !waiting_done;
    gate.leave();
    other.join();
    check(waited, "a nested entry passes without letting the waiting setting in early");
    check(waiting_done && applies == 2, "the waiting setting went in once the outer entry left");
}

void throwing_apply() {
    std::atomic<bool> fail{true};
    tb_detail::Tf32Gate gate([&](bool) {
        if (fail) throw std::runtime_error("apply");
    });
    bool threw = false;
    try {
        gate.enter(true);
    } catch (const std::runtime_error&) {
        threw = true;
    }
    check(threw, "an apply that throws reaches the caller");
    fail = false;
    std::atomic<int> got_in{0};
    std::thread after([&] {
        gate.enter(false);
        gate.leave();
        ++got_in;
        gate.enter(true);
        gate.leave();
        ++got_in;
    });
    const auto start = std::chrono::steady_clock::now();
    while (got_in < 2 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const bool both = got_in == 2;
    check(both, "after it, both settings still get in (nothing was left held)");
    if (!both) {
        std::printf("tf32 gate: %d failure(s) (a thread is stuck in the gate)\n", failures);
        std::fflush(stdout);
        std::_Exit(EXIT_FAILURE);
    }
    after.join();
}

}  // namespace

int main() {
    exclusion();
    no_starvation();
    reentry();
    throwing_apply();
    std::printf("tf32 gate: %d failure(s)\n", failures);
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
