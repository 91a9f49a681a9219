#include "runtime/runner/user_distribution.h"

#include <stdexcept>

namespace cicada::runner {

UserDistribution::UserDistribution(std::vector<int> class_weights, int threads, std::vector<int> fixed_counts)
    : weights_(std::move(class_weights)),
      fixed_(std::move(fixed_counts)),
      active_(weights_.size(), true),
      class_counts_(weights_.size(), 0),
      thread_totals_(static_cast<std::size_t>(threads), 0),
      per_thread_class_(static_cast<std::size_t>(threads), std::vector<int>(weights_.size(), 0)),
      ended_(static_cast<std::size_t>(threads), std::vector<int>(weights_.size(), 0)) {
  if (weights_.empty() || threads < 1) throw std::invalid_argument("need at least one class and one thread");
  fixed_.resize(weights_.size(), 0);
  bool any_fixed = false;
  for (std::size_t c = 0; c < weights_.size(); ++c) {
    if (fixed_[c] > 0) {
      any_fixed = true;
    } else {
      weight_sum_ += weights_[c];
    }
  }
  if (weight_sum_ <= 0 && !any_fixed) throw std::invalid_argument("class weights must not all be zero");
}

void UserDistribution::place(int class_index, int thread) {
  ++class_counts_[static_cast<std::size_t>(class_index)];
  ++thread_totals_[static_cast<std::size_t>(thread)];
  ++per_thread_class_[static_cast<std::size_t>(thread)][static_cast<std::size_t>(class_index)];
  ++total_;
}

void UserDistribution::unplace(int class_index, int thread) {
  --class_counts_[static_cast<std::size_t>(class_index)];
  --thread_totals_[static_cast<std::size_t>(thread)];
  --per_thread_class_[static_cast<std::size_t>(thread)][static_cast<std::size_t>(class_index)];
  --total_;
}

// Weighted shares are computed over the active weighted classes only.
void UserDistribution::recount_weighted() {
  weight_sum_ = 0;
  weighted_users_ = 0;
  for (std::size_t c = 0; c < weights_.size(); ++c) {
    if (fixed_[c] > 0 || !active_[c]) continue;
    weight_sum_ += weights_[c];
    weighted_users_ += class_counts_[c];
  }
}

void UserDistribution::set_active_classes(const std::vector<bool>& active) {
  for (std::size_t c = 0; c < active_.size(); ++c) active_[c] = c < active.size() ? active[c] : false;
  recount_weighted();
}

int UserDistribution::active_total() const {
  int count = 0;
  for (std::size_t c = 0; c < weights_.size(); ++c)
    if (active_[c]) count += class_counts_[c];
  return count;
}

bool UserDistribution::mark_ended(int class_index, int thread) {
  if (class_index < 0 || static_cast<std::size_t>(class_index) >= weights_.size() || thread < 0 ||
      static_cast<std::size_t>(thread) >= thread_totals_.size())
    return false;
  const auto t = static_cast<std::size_t>(thread);
  const auto c = static_cast<std::size_t>(class_index);
  if (ended_[t][c] >= per_thread_class_[t][c]) return false;
  ++ended_[t][c];
  ++ended_total_;
  return true;
}

int UserDistribution::live_class_count(int class_index) const {
  int ended = 0;
  for (const auto& per_class : ended_) ended += per_class[static_cast<std::size_t>(class_index)];
  return class_counts_[static_cast<std::size_t>(class_index)] - ended;
}

UserDistribution::Placement UserDistribution::add_of_class(int class_index) {
  int best_thread = 0;
  for (std::size_t t = 1; t < thread_totals_.size(); ++t)
    if (thread_totals_[t] < thread_totals_[static_cast<std::size_t>(best_thread)]) best_thread = static_cast<int>(t);
  place(class_index, best_thread);
  recount_weighted();
  return Placement{class_index, best_thread};
}

std::optional<UserDistribution::Placement> UserDistribution::remove_of_class(int class_index) {
  const auto c = static_cast<std::size_t>(class_index);
  int best_thread = -1;
  int best_live = 0;
  for (std::size_t t = 0; t < thread_totals_.size(); ++t) {
    const int live = per_thread_class_[t][c] - ended_[t][c];
    if (live > best_live) best_thread = static_cast<int>(t), best_live = live;
  }
  if (best_thread < 0) return std::nullopt;
  unplace(class_index, best_thread);
  recount_weighted();
  return Placement{class_index, best_thread};
}

std::optional<UserDistribution::Placement> UserDistribution::add() {
  int chosen = -1;
  for (std::size_t c = 0; c < weights_.size() && chosen < 0; ++c)
    if (active_[c] && fixed_[c] > 0 && class_counts_[c] < fixed_[c]) chosen = static_cast<int>(c);

  if (chosen < 0) {
    if (weight_sum_ <= 0) return std::nullopt;
    // Compare deficits as fractions over weight_sum_ to stay exact: share_c(n) = w_c * n / W.
    std::int64_t next_total = weighted_users_ + 1;
    std::int64_t best_deficit = 0;
    for (std::size_t c = 0; c < weights_.size(); ++c) {
      if (fixed_[c] > 0 || weights_[c] == 0 || !active_[c]) continue;
      std::int64_t deficit = weights_[c] * next_total - std::int64_t{class_counts_[c]} * weight_sum_;
      if (chosen < 0 || deficit > best_deficit) {
        chosen = static_cast<int>(c);
        best_deficit = deficit;
      }
    }
    ++weighted_users_;
  }

  int best_thread = 0;
  for (std::size_t t = 1; t < thread_totals_.size(); ++t)
    if (thread_totals_[t] < thread_totals_[static_cast<std::size_t>(best_thread)]) best_thread = static_cast<int>(t);
  place(chosen, best_thread);
  return Placement{chosen, best_thread};
}

std::optional<UserDistribution::Placement> UserDistribution::remove() {
  if (total_ == 0) return std::nullopt;
  if (ended_total_ > 0) {
    // Forgetting a user that is gone already changes nothing that runs: the most ended first.
    std::size_t best_thread = 0, best_class = 0;
    for (std::size_t t = 0; t < ended_.size(); ++t)
      for (std::size_t c = 0; c < weights_.size(); ++c)
        if (ended_[t][c] > ended_[best_thread][best_class]) best_thread = t, best_class = c;
    --ended_[best_thread][best_class];
    --ended_total_;
    unplace(static_cast<int>(best_class), static_cast<int>(best_thread));
    recount_weighted();
    return Placement{static_cast<int>(best_class), static_cast<int>(best_thread), true};
  }
  int chosen = -1;
  // Users of classes the shape no longer runs go first, the biggest such class first.
  for (std::size_t c = 0; c < weights_.size(); ++c)
    if (!active_[c] && class_counts_[c] > 0 && (chosen < 0 || class_counts_[c] > class_counts_[static_cast<std::size_t>(chosen)]))
      chosen = static_cast<int>(c);
  // (They are not counted in weighted_users_.)
  if (chosen < 0 && weighted_users_ > 0) {
    std::int64_t next_total = weighted_users_ - 1;
    std::int64_t best_excess = 0;
    for (std::size_t c = 0; c < weights_.size(); ++c) {
      if (fixed_[c] > 0 || class_counts_[c] == 0 || !active_[c]) continue;
      std::int64_t excess = std::int64_t{class_counts_[c]} * weight_sum_ - weights_[c] * next_total;
      if (chosen < 0 || excess > best_excess) {
        chosen = static_cast<int>(c);
        best_excess = excess;
      }
    }
    --weighted_users_;
  } else if (chosen < 0) {
    // Only fixed-count users are left: the last class added goes first.
    for (std::size_t c = weights_.size(); c-- > 0 && chosen < 0;)
      if (class_counts_[c] > 0) chosen = static_cast<int>(c);
  }
  auto cls = static_cast<std::size_t>(chosen);
  int best_thread = -1;
  for (std::size_t t = 0; t < thread_totals_.size(); ++t) {
    if (per_thread_class_[t][cls] == 0) continue;
    if (best_thread < 0 || thread_totals_[t] > thread_totals_[static_cast<std::size_t>(best_thread)])
      best_thread = static_cast<int>(t);
  }
  unplace(chosen, best_thread);
  return Placement{chosen, best_thread, false};
}

std::vector<std::int64_t> UserDistribution::split_iterations(const std::vector<int>& class_weights, int threads,
                                                             int users, std::int64_t iterations,
                                                             const std::vector<int>& fixed_counts) {
  std::vector<std::int64_t> budgets(static_cast<std::size_t>(threads), 0);
  if (users <= 0 || iterations <= 0) return budgets;
  UserDistribution plan(class_weights, threads, fixed_counts);
  for (int i = 0; i < users && plan.add(); ++i) {
  }
  if (plan.total() == 0) return budgets;
  std::int64_t assigned = 0;
  for (int t = 0; t < threads; ++t) {
    budgets[static_cast<std::size_t>(t)] = iterations * plan.thread_count(t) / plan.total();
    assigned += budgets[static_cast<std::size_t>(t)];
  }
  for (int t = 0; assigned < iterations; t = (t + 1) % threads) {
    if (plan.thread_count(t) == 0) continue;
    ++budgets[static_cast<std::size_t>(t)];
    ++assigned;
  }
  return budgets;
}

}  // namespace cicada::runner
