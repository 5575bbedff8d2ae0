#include "thread_pool.h"

#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "errors.h"

namespace mmca::cpu {
namespace {

// One parallel_for call. Lives on the caller's stack; the caller removes it from the queue and
// waits until no worker uses it before returning.
struct Job {
    const std::function<void(int64_t)> *fn;
    int64_t n;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    int users = 0;  // workers inside run(), guarded by the pool mutex
    std::exception_ptr error;
    std::mutex error_mutex;

    void run() {
        for (;;) {
            int64_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= n) return;
            try {
                (*fn)(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
            }
            done.fetch_add(1, std::memory_order_acq_rel);
        }
    }
};

class Pool {
public:
    Pool() { resize(initial_threads()); }

    ~Pool() { stop_workers(); }

    int threads() {
        std::lock_guard<std::mutex> lock(mutex_);
        return static_cast<int>(workers_.size()) + 1;
    }

    void resize(int n) {
        stop_workers();
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = false;
        for (int i = 1; i < n; i++) workers_.emplace_back([this] { work(); });
    }

    void run(int64_t n, const std::function<void(int64_t)> &fn) {
        Job job;
        job.fn = &fn;
        job.n = n;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            jobs_.push_back(&job);
        }
        work_cv_.notify_all();
        job.run();
        std::unique_lock<std::mutex> lock(mutex_);
        for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
            if (*it == &job) {
                jobs_.erase(it);
                break;
            }
        }
        done_cv_.wait(lock, [&] { return job.users == 0 && job.done.load() == job.n; });
        lock.unlock();
        if (job.error) std::rethrow_exception(job.error);
    }

private:
    static int initial_threads() {
        cpu_set_t set;
        int n = 0;
        if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
        if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
        return n > 0 ? n : 1;
    }

    void work() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            work_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            Job *job = jobs_.front();
            if (job->next.load() >= job->n) {
                jobs_.pop_front();  // fully handed out; its caller waits for completion
                continue;
            }
            job->users++;
            lock.unlock();
            job->run();
            lock.lock();
            job->users--;
            done_cv_.notify_all();
        }
    }

    void stop_workers() {
        std::vector<std::thread> old;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
            old.swap(workers_);
        }
        work_cv_.notify_all();
        for (auto &t : old) t.join();
    }

    std::mutex mutex_;
    std::condition_variable work_cv_;
    std::condition_variable done_cv_;
    std::deque<Job *> jobs_;
    std::vector<std::thread> workers_;
    bool stopping_ = false;
};

Pool &pool() {
    static Pool instance;
    return instance;
}

}  // namespace

int pool_threads() { return pool().threads(); }

int64_t machine_threads() {
    static const int64_t n = [] {
        const unsigned hw = std::thread::hardware_concurrency();
        return static_cast<int64_t>(hw == 0 ? 1 : hw > 256 ? 256 : hw);
    }();
    return n;
}

void set_pool_threads(int n) {
    if (n < 1 || n > 4096) fail("threads: expected an integer in [1, 4096], got " + std::to_string(n));
    pool().resize(n);
}

void parallel_for(int64_t n, const std::function<void(int64_t)> &fn, bool inline_only) {
    if (n <= 0) return;
    if (n == 1 || inline_only || pool_threads() == 1) {
        for (int64_t i = 0; i < n; i++) fn(i);
        return;
    }
    pool().run(n, fn);
}

}  // namespace mmca::cpu
