#include "runtime/runner/user_distribution.h"

#include <numeric>
#include <stdexcept>

namespace cicada::runner {

UserDistribution::UserDistribution(std::vector<int> class_weights, int threads)
    : weights_(std::move(class_weights)),
      class_counts_(weights_.size(), 0),
      thread_totals_(static_cast<std::size_t>(threads), 0),
      per_thread_class_(static_cast<std::size_t>(threads), std::vector<int>(weights_.size(), 0)) {
  if (weights_.empty() || threads < 1) throw std::invalid_argument("need at least one class and one thread");
  weight_sum_ = std::accumulate(weights_.begin(), weights_.end(), std::int64_t{0});
  if (weight_sum_ <= 0) throw std::invalid_argument("class weights must not all be zero");
}

UserDistribution::Placement UserDistribution::add() {
  // Compare deficits as fractions over weight_sum_ to stay exact: share_c(n) = w_c * n / W.
  std::int64_t next_total = total_ + 1;
  int best_class = -1;
  std::int64_t best_deficit = 0;
  for (std::size_t c = 0; c < weights_.size(); ++c) {
    if (weights_[c] == 0) continue;
    std::int64_t deficit = weights_[c] * next_total - std::int64_t{class_counts_[c]} * weight_sum_;
    if (best_class < 0 || deficit > best_deficit) {
      best_class = static_cast<int>(c);
      best_deficit = deficit;
    }
  }
  int best_thread = 0;
  for (std::size_t t = 1; t < thread_totals_.size(); ++t)
    if (thread_totals_[t] < thread_totals_[static_cast<std::size_t>(best_thread)]) best_thread = static_cast<int>(t);

  ++class_counts_[static_cast<std::size_t>(best_class)];
  ++thread_totals_[static_cast<std::size_t>(best_thread)];
  ++per_thread_class_[static_cast<std::size_t>(best_thread)][static_cast<std::size_t>(best_class)];
  ++total_;
  return {best_class, best_thread};
}

std::optional<UserDistribution::Placement> UserDistribution::remove() {
  if (total_ == 0) return std::nullopt;
  std::int64_t next_total = total_ - 1;
  int best_class = -1;
  std::int64_t best_excess = 0;
  for (std::size_t c = 0; c < weights_.size(); ++c) {
    if (class_counts_[c] == 0) continue;
    std::int64_t excess = std::int64_t{class_counts_[c]} * weight_sum_ - weights_[c] * next_total;
    if (best_class < 0 || excess > best_excess) {
      best_class = static_cast<int>(c);
      best_excess = excess;
    }
  }
  auto cls = static_cast<std::size_t>(best_class);
  int best_thread = -1;
  for (std::size_t t = 0; t < thread_totals_.size(); ++t) {
    if (per_thread_class_[t][cls] == 0) continue;
    if (best_thread < 0 || thread_totals_[t] > thread_totals_[static_cast<std::size_t>(best_thread)])
      best_thread = static_cast<int>(t);
  }
  --class_counts_[cls];
  --thread_totals_[static_cast<std::size_t>(best_thread)];
  --per_thread_class_[static_cast<std::size_t>(best_thread)][cls];
  --total_;
  return Placement{best_class, best_thread};
}

std::vector<std::int64_t> UserDistribution::split_iterations(const std::vector<int>& class_weights, int threads,
                                                             int users, std::int64_t iterations) {
  std::vector<std::int64_t> budgets(static_cast<std::size_t>(threads), 0);
  if (users <= 0 || iterations <= 0) return budgets;
  UserDistribution plan(class_weights, threads);
  for (int i = 0; i < users; ++i) plan.add();
  std::int64_t assigned = 0;
  for (int t = 0; t < threads; ++t) {
    budgets[static_cast<std::size_t>(t)] = iterations * plan.thread_count(t) / users;
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
