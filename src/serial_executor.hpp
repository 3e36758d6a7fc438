#pragma once

// The built-in executor for background refreshes: one worker thread and a
// bounded queue. A page cache refreshes a few stale pages at a time, so one
// thread is enough, and a full queue drops work instead of growing.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace viewcache::detail {

class SerialExecutor {
 public:
  explicit SerialExecutor(std::size_t max_queued);
  // Stops the worker after its current task; queued tasks are dropped.
  ~SerialExecutor();

  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  // Queues task. Returns false, without queuing, when the queue is full.
  bool submit(std::function<void()> task);

 private:
  void run();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread worker_;  // last: started after every other member exists
};

}  // namespace viewcache::detail
