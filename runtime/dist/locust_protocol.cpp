#include "runtime/dist/locust_protocol.h"

#include <cmath>

namespace cicada::dist {

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;
using PerSecond = std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>>;

bool is_string(const msgpack::object& object) { return object.type == msgpack::type::STR; }

std::string as_string(const msgpack::object& object) { return std::string(object.via.str.ptr, object.via.str.size); }

bool as_number(const msgpack::object& object, double* out) {
  switch (object.type) {
    case msgpack::type::POSITIVE_INTEGER: *out = static_cast<double>(object.via.u64); return true;
    case msgpack::type::NEGATIVE_INTEGER: *out = static_cast<double>(object.via.i64); return true;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: *out = object.via.f64; return true;
    default: return false;
  }
}

// Python's round(x, -digits) for x >= 0: halves go to the even multiple.
double round_half_even(double x, double unit) {
  const double scaled = x / unit;
  double whole = std::floor(scaled);
  const double rest = scaled - whole;
  if (rest > 0.5 || (rest == 0.5 && std::fmod(whole, 2.0) != 0)) whole += 1;
  return whole * unit;
}

void pack_counts(Packer& packer, const PerSecond& per_second, bool failures) {
  std::size_t size = 0;
  for (const auto& [second, counts] : per_second)
    if ((failures ? counts.second : counts.first) > 0) ++size;
  packer.pack_map(static_cast<std::uint32_t>(size));
  for (const auto& [second, counts] : per_second) {
    const std::uint64_t count = failures ? counts.second : counts.first;
    if (count == 0) continue;
    packer.pack(second);
    packer.pack(count);
  }
}

void pack_entry(Packer& packer, const stats::EntryKey* key, const stats::EntryStats& entry, const PerSecond& per_second,
                const ReportDelta& delta) {
  // Locust's response-time dict: each of cicada's buckets (exact below 1 ms, at most 0.2% wide
  // above) counted under the rounded value of its midpoint.
  std::map<std::int64_t, std::uint64_t> rounded;
  entry.histogram.for_each_bucket([&rounded](std::size_t index, std::uint64_t count) {
    rounded[locust_rounded_ms(static_cast<double>(stats::Histogram::bucket_mid(index)) / 1000.0)] += count;
  });
  packer.pack_map(15);
  packer.pack(std::string_view("name"));
  packer.pack(key ? std::string_view(key->name) : std::string_view("Aggregated"));
  packer.pack(std::string_view("method"));
  if (key) {
    packer.pack(std::string_view(key->method));
  } else {
    packer.pack_nil();
  }
  packer.pack(std::string_view("last_request_timestamp"));
  if (delta.last_request_timestamp > 0) {
    packer.pack(delta.last_request_timestamp);
  } else {
    packer.pack_nil();  // Locust's None: no request in the interval
  }
  packer.pack(std::string_view("start_time"));
  packer.pack(delta.start_time);
  packer.pack(std::string_view("num_requests"));
  packer.pack(entry.num_requests);
  packer.pack(std::string_view("num_none_requests"));
  packer.pack(0);
  packer.pack(std::string_view("num_failures"));
  packer.pack(entry.num_failures);
  packer.pack(std::string_view("total_response_time"));
  packer.pack(static_cast<double>(entry.total_response_us) / 1000.0);
  packer.pack(std::string_view("max_response_time"));
  packer.pack(entry.max_ms());
  packer.pack(std::string_view("min_response_time"));
  if (entry.num_requests > 0) {
    packer.pack(entry.min_ms());
  } else {
    packer.pack_nil();
  }
  packer.pack(std::string_view("total_content_length"));
  packer.pack(entry.total_content_length);
  packer.pack(std::string_view("response_times"));
  packer.pack_map(static_cast<std::uint32_t>(rounded.size()));
  for (const auto& [ms, count] : rounded) {
    packer.pack(ms);
    packer.pack(count);
  }
  packer.pack(std::string_view("num_reqs_per_sec"));
  pack_counts(packer, per_second, false);
  packer.pack(std::string_view("num_fail_per_sec"));
  pack_counts(packer, per_second, true);
  // cicada's own, which a Locust master leaves aside (StatsEntry.unserialize keeps only its
  // own keys): the exact histogram, [[bucket index, count], ...], for a cicada master to merge.
  packer.pack(std::string_view("cicada_histogram"));
  std::size_t buckets = 0;
  entry.histogram.for_each_bucket([&buckets](std::size_t, std::uint64_t) { ++buckets; });
  packer.pack_array(static_cast<std::uint32_t>(buckets));
  entry.histogram.for_each_bucket([&packer](std::size_t index, std::uint64_t count) {
    packer.pack_array(2);
    packer.pack(static_cast<std::uint64_t>(index));
    packer.pack(count);
  });
}

}  // namespace

std::int64_t locust_rounded_ms(double ms) {
  if (ms < 100) return static_cast<std::int64_t>(round_half_even(ms, 1));
  if (ms < 1000) return static_cast<std::int64_t>(round_half_even(ms, 10));
  if (ms < 10000) return static_cast<std::int64_t>(round_half_even(ms, 100));
  return static_cast<std::int64_t>(round_half_even(ms, 1000));
}

std::optional<Message> decode_message(std::string_view bytes, std::string* error) {
  Message message;
  try {
    std::size_t offset = 0;
    message.handle = msgpack::unpack(bytes.data(), bytes.size(), offset);
    if (offset != bytes.size()) {
      *error = "bytes after the message";
      return std::nullopt;
    }
  } catch (const std::exception& e) {
    *error = std::string("not msgpack: ") + e.what();
    return std::nullopt;
  }
  const msgpack::object& root = message.handle.get();
  if (root.type != msgpack::type::ARRAY || root.via.array.size != 3) {
    *error = "not a [type, data, node_id] array";
    return std::nullopt;
  }
  const msgpack::object& type = root.via.array.ptr[0];
  const msgpack::object& node = root.via.array.ptr[2];
  if (!is_string(type) || !(is_string(node) || node.type == msgpack::type::NIL)) {
    *error = "the type or the node id is not a string";
    return std::nullopt;
  }
  message.type = as_string(type);
  if (is_string(node)) message.node_id = as_string(node);
  return message;
}

void pack_stats_report(Packer& packer, const ReportDelta& delta) {
  static const PerSecond kNone;
  const stats::StatsBook& book = *delta.book;
  const auto entries = book.sorted_entries();
  std::size_t listed = 0;
  for (const auto& [key, entry] : entries)
    if (!entry->empty()) ++listed;
  packer.pack_map(5);
  packer.pack(std::string_view("stats"));
  packer.pack_array(static_cast<std::uint32_t>(listed));
  for (const auto& [key, entry] : entries) {
    if (entry->empty()) continue;
    const auto found = delta.per_second.find(key);
    pack_entry(packer, &key, *entry, found == delta.per_second.end() ? kNone : found->second, delta);
  }
  packer.pack(std::string_view("stats_total"));
  pack_entry(packer, nullptr, book.total(), delta.per_second_total, delta);
  packer.pack(std::string_view("errors"));
  packer.pack_map(static_cast<std::uint32_t>(book.failures().size()));
  for (const auto& [key, occurrences] : book.failures()) {
    // The master merges errors by this key: the same on every worker for the same failure.
    packer.pack(key.method + "." + key.name + "." + key.error);
    packer.pack_map(4);
    packer.pack(std::string_view("name"));
    packer.pack(key.name);
    packer.pack(std::string_view("method"));
    packer.pack(key.method);
    packer.pack(std::string_view("error"));
    packer.pack(key.error);
    packer.pack(std::string_view("occurrences"));
    packer.pack(occurrences);
  }
  packer.pack(std::string_view("user_classes_count"));
  packer.pack(delta.user_classes_count);
  packer.pack(std::string_view("user_count"));
  packer.pack(delta.user_count);
}

std::optional<SpawnOrder> read_spawn(const msgpack::object& data, std::string* error) {
  if (data.type != msgpack::type::MAP) {
    *error = "spawn: the data is not a map";
    return std::nullopt;
  }
  SpawnOrder order;
  bool has_timestamp = false, has_classes = false;
  for (std::uint32_t i = 0; i < data.via.map.size; ++i) {
    const msgpack::object& name = data.via.map.ptr[i].key;
    const msgpack::object& value = data.via.map.ptr[i].val;
    if (!is_string(name)) continue;
    const std::string key = as_string(name);
    if (key == "timestamp") {
      has_timestamp = as_number(value, &order.timestamp);
    } else if (key == "user_classes_count") {
      if (value.type != msgpack::type::MAP) {
        *error = "spawn: user_classes_count is not a map";
        return std::nullopt;
      }
      for (std::uint32_t c = 0; c < value.via.map.size; ++c) {
        double count = 0;
        if (!is_string(value.via.map.ptr[c].key) || !as_number(value.via.map.ptr[c].val, &count) || count < 0 ||
            count > 1e9 || count != std::floor(count)) {
          *error = "spawn: user_classes_count holds something other than class names and counts";
          return std::nullopt;
        }
        order.user_classes_count[as_string(value.via.map.ptr[c].key)] = static_cast<int>(count);
      }
      has_classes = true;
    } else if (key == "host") {
      if (is_string(value)) order.host = as_string(value);
    } else if (key == "stop_timeout") {
      double seconds = 0;
      if (as_number(value, &seconds) && seconds >= 0) order.stop_timeout_s = seconds;
    }
  }
  if (!has_timestamp || !has_classes) {
    *error = "spawn: timestamp or user_classes_count missing";
    return std::nullopt;
  }
  return order;
}

}  // namespace cicada::dist
