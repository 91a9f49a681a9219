#pragma once
// Decides which class each new user belongs to and which thread hosts it, so that the class
// mix follows the weights at every user count (not only at the end of a ramp) and threads
// stay evenly loaded. Classes with a fixed count get exactly that many users, before any
// weighted class (Locust's fixed_count). Deterministic: the same input gives the same plan.
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

  UserDistribution(std::vector<int> class_weights, int threads, std::vector<int> fixed_counts = {});

  // The next user to add: a fixed-count class still short of its count, else the weighted
  // class furthest below its share, on the thread with the fewest users. Empty when every
  // class is fixed and full.
  std::optional<Placement> add();
  // The user to remove when ramping down: the class furthest above its share of (total - 1),
  // from the thread with the most users of that class. Empty when there are no users.
  std::optional<Placement> remove();

  int total() const { return total_; }
  int class_count(int class_index) const { return class_counts_[class_index]; }
  int thread_count(int thread) const { return thread_totals_[thread]; }

  // Splits `iterations` over the threads in proportion to their users once `users` users are
  // placed (remainders go to the threads with users, lowest index first).
  static std::vector<std::int64_t> split_iterations(const std::vector<int>& class_weights, int threads, int users,
                                                    std::int64_t iterations, const std::vector<int>& fixed_counts = {});

 private:
  void place(int class_index, int thread);

  std::vector<int> weights_;
  std::vector<int> fixed_;  // 0 = weighted class
  std::int64_t weight_sum_ = 0;  // of the weighted classes
  std::int64_t weighted_users_ = 0;
  std::vector<int> class_counts_;
  std::vector<int> thread_totals_;
  std::vector<std::vector<int>> per_thread_class_;  // [thread][class]
  int total_ = 0;
};

}  // namespace cicada::runner
