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
    bool ended = false;  // remove(): a user that had ended on its own (nothing left to stop)
  };

  UserDistribution(std::vector<int> class_weights, int threads, std::vector<int> fixed_counts = {});

  // The next user to add: a fixed-count class still short of its count, else the weighted
  // class furthest below its share, on the thread with the fewest users. Empty when every
  // class is fixed and full.
  std::optional<Placement> add();
  // The user to remove when ramping down: one that ended on its own if any (it only has to be
  // forgotten), else a user of a class that is no longer active, else one of the class furthest
  // above its share of (total - 1); from the thread with the most users of that class. Empty
  // when there are no users.
  std::optional<Placement> remove();
  // A user of `class_index` on `thread` ended on its own: it keeps its place (it is not
  // replaced, and a fixed_count stays reached) until a ramp-down forgets it. False when the plan
  // has no live user there (a ramp-down already took it).
  bool mark_ended(int class_index, int thread);
  // A master's order names the users of each class itself (a distributed worker): one user of
  // `class_index` more, on the thread with the fewest users, whatever the weights say.
  Placement add_of_class(int class_index);
  // One running user of `class_index` fewer, from the thread with the most of them; empty when
  // none runs.
  std::optional<Placement> remove_of_class(int class_index);

  // A shape may run only some classes (the third value a cicada.shape returns): new users
  // then come from the active classes only, and users of the others are removed first.
  // Every class is active at first.
  void set_active_classes(const std::vector<bool>& active);
  const std::vector<bool>& active_classes() const { return active_; }
  // Users of active classes.
  int active_total() const;

  int total() const { return total_; }
  // Users that have not ended on their own.
  int live_total() const { return total_ - ended_total_; }
  int live_class_count(int class_index) const;
  int class_count(int class_index) const { return class_counts_[class_index]; }
  int thread_count(int thread) const { return thread_totals_[thread]; }

  // Splits `iterations` over the threads in proportion to their users once `users` users are
  // placed (remainders go to the threads with users, lowest index first).
  static std::vector<std::int64_t> split_iterations(const std::vector<int>& class_weights, int threads, int users,
                                                    std::int64_t iterations, const std::vector<int>& fixed_counts = {});

 private:
  void place(int class_index, int thread);
  void unplace(int class_index, int thread);
  void recount_weighted();

  std::vector<int> weights_;
  std::vector<int> fixed_;  // 0 = weighted class
  std::vector<bool> active_;
  std::int64_t weight_sum_ = 0;  // of the active weighted classes
  std::int64_t weighted_users_ = 0;  // users of the active weighted classes
  std::vector<int> class_counts_;
  std::vector<int> thread_totals_;
  std::vector<std::vector<int>> per_thread_class_;  // [thread][class]
  std::vector<std::vector<int>> ended_;             // [thread][class]: of those, ended on their own
  int total_ = 0;
  int ended_total_ = 0;
};

}  // namespace cicada::runner
