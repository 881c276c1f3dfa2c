// The TF32 gate: lets forwards that need a process-wide flag in different states take turns.
#ifndef TF32_GATE_H
#define TF32_GATE_H

#include <condition_variable>
#include <functional>
#include <mutex>
#include <utility>

namespace tb_detail {

// TF32 is a process-wide libtorch flag, read when a matrix product or convolution is
// launched. Forwards on CUDA hold this gate with their precision's setting while they launch
// their work: forwards of one setting run together; one of the other setting waits until
// those have launched, and from then on newcomers of the first setting wait behind it, so
// neither starves: with both waiting, the settings take turns. `apply` sets the flag; it is called by whoever opens the gate for a setting
// other than the last one applied. (A graph replay needs no gate: its setting was fixed when
// it was captured.) A thread already inside passes again (a forward within a forward): the
// outer setting holds.
class Tf32Gate {
public:
    explicit Tf32Gate(std::function<void(bool)> apply) : apply_(std::move(apply)) {}
    Tf32Gate(const Tf32Gate&) = delete;
    Tf32Gate& operator=(const Tf32Gate&) = delete;

    void enter(bool tf32) {
        if (depth_ > 0) {
            ++depth_;
            return;
        }
        std::unique_lock<std::mutex> hold(lock_);
        ++waiting_[tf32];
        // The open setting lets more in only while the other one has nobody waiting (an empty
        // gate too: it goes to the setting that waited); the other setting waits for it to empty.
        turn_.wait(hold, [&] { return open_ == tf32 ? waiting_[!tf32] == 0 : holders_ == 0; });
        --waiting_[tf32];
        if (holders_ == 0 && (!applied_ || open_ != tf32)) {
            try {
                apply_(tf32);
            } catch (...) {
                turn_.notify_all();  // this thread no longer waits: others may go on
                throw;
            }
            applied_ = true;
        }
        open_ = tf32;
        ++holders_;
        depth_ = 1;
    }

    void leave() {
        if (--depth_ > 0) return;
        std::lock_guard<std::mutex> hold(lock_);
        if (--holders_ == 0) turn_.notify_all();
    }

private:
    std::function<void(bool)> apply_;
    std::mutex lock_;
    std::condition_variable turn_;
    int holders_ = 0;
    int waiting_[2] = {0, 0};
    bool open_ = false;
    bool applied_ = false;
    static inline thread_local int depth_ = 0;
};

}  // namespace tb_detail

#endif
