#pragma once
// Decides which class each new user belongs to and which thread hosts it, so that the class
// mix follows the weights at every user count (not only at the end of a ramp) and threads
// stay evenly loaded. Deterministic: the same weights and counts always give the same plan.
#include <cstdint>
#include <optional>
#include <vector>

namespace cicada::runner {

class UserDistribution {
 public:
  struct Placement {
    int class_index;
    int thread;
  };

  UserDistribution(std::vector<int> class_weights, int threads);

  // The next user to add: the class furthest below its share of (total + 1) users, on the
  // thread with the fewest users.
  Placement add();
  // The user to remove when ramping down: the class furthest above its share of (total - 1),
  // from the thread with the most users of that class. Empty when there are no users.
  std::optional<Placement> remove();

  int total() const { return total_; }
  int class_count(int class_index) const { return class_counts_[class_index]; }
  int thread_count(int thread) const { return thread_totals_[thread]; }

  // Splits `iterations` over the threads in proportion to their users once `users` users are
  // placed (remainders go to the threads with users, lowest index first).
  static std::vector<std::int64_t> split_iterations(const std::vector<int>& class_weights, int threads, int users,
                                                    std::int64_t iterations);

 private:
  std::vector<int> weights_;
  std::int64_t weight_sum_ = 0;
  std::vector<int> class_counts_;
  std::vector<int> thread_totals_;
  std::vector<std::vector<int>> per_thread_class_;  // [thread][class]
  int total_ = 0;
};

}  // namespace cicada::runner
