#include "serial_executor.hpp"

namespace viewcache::detail {

SerialExecutor::SerialExecutor(std::size_t max_queued)
    : max_queued_(max_queued), worker_([this] { run(); }) {}

SerialExecutor::~SerialExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  worker_.join();
}

bool SerialExecutor::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) {
      return false;
    }
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void SerialExecutor::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        return;
      }
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    // Tasks catch their own errors; one that escapes must not end the worker.
    try {
      task();
    } catch (...) {
    }
  }
}

}  // namespace viewcache::detail
