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
    // msgpack-c allocates an array or a map whole when it reads its header: these bounds keep a
    // header that claims billions of elements from asking for gigabytes (a real report has a few
    // thousand entries of a few hundred buckets each; ZeroMQ caps a message at 64 MiB).
    constexpr std::size_t kMaxElements = std::size_t{1} << 17;
    constexpr std::size_t kMaxBytes = std::size_t{64} << 20;
    constexpr std::size_t kMaxDepth = 32;
    const msgpack::unpack_limit limit(kMaxElements, kMaxElements, kMaxBytes, kMaxBytes, kMaxBytes, kMaxDepth);
    std::size_t offset = 0;
    message.handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
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
  packer.pack_map(6);
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
  // cicada's own, which a Locust master leaves aside: requests without an answer when their
  // user stopped, [[method, name, count, oldest µs], ...].
  packer.pack(std::string_view("cicada_in_flight_at_stop"));
  packer.pack_array(static_cast<std::uint32_t>(book.in_flight_at_stop().size()));
  for (const auto& [key, in_flight] : book.in_flight_at_stop()) {
    packer.pack_array(4);
    packer.pack(key.method);
    packer.pack(key.name);
    packer.pack(in_flight.count);
    packer.pack(in_flight.oldest_us);
  }
}

namespace {

const msgpack::object* field(const msgpack::object& map, std::string_view name) {
  if (map.type != msgpack::type::MAP) return nullptr;
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object& key = map.via.map.ptr[i].key;
    if (key.type == msgpack::type::STR && std::string_view(key.via.str.ptr, key.via.str.size) == name)
      return &map.via.map.ptr[i].val;
  }
  return nullptr;
}

// A whole number from 0 to 2^53 (Locust's counts; floats are accepted when whole).
bool as_count(const msgpack::object& object, std::uint64_t* out) {
  double value = 0;
  if (object.type == msgpack::type::POSITIVE_INTEGER) {
    *out = object.via.u64;
    return true;
  }
  if (!as_number(object, &value) || value < 0 || value > 9007199254740992.0 || value != std::floor(value)) return false;
  *out = static_cast<std::uint64_t>(value);
  return true;
}

bool as_ms_to_us(const msgpack::object& object, std::uint64_t* out) {
  double ms = 0;
  if (!as_number(object, &ms) || !(ms >= 0) || ms > 1e15) return false;
  *out = static_cast<std::uint64_t>(std::llround(ms * 1000.0));
  return true;
}

// An entry of a report, read but not yet counted: a report is counted whole or not at all.
struct ReadEntry {
  std::string method;
  std::string name;
  stats::EntryStats counts;  // without its histogram
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets;  // (µs, count)
};

bool read_buckets(const msgpack::object& object, ReadEntry* out, std::string* error);

bool read_entry(const msgpack::object& object, ReadEntry* out, std::string* error) {
  const msgpack::object* name_field = field(object, "name");
  const msgpack::object* method_field = field(object, "method");
  if (!name_field || !is_string(*name_field) || !method_field ||
      !(is_string(*method_field) || method_field->type == msgpack::type::NIL)) {
    *error = "an entry without a name or a method";
    return false;
  }
  out->name = as_string(*name_field);
  out->method = is_string(*method_field) ? as_string(*method_field) : "";
  stats::EntryStats& entry = out->counts;
  const msgpack::object* requests = field(object, "num_requests");
  const msgpack::object* failures = field(object, "num_failures");
  const msgpack::object* total = field(object, "total_response_time");
  const msgpack::object* max = field(object, "max_response_time");
  const msgpack::object* min = field(object, "min_response_time");
  const msgpack::object* length = field(object, "total_content_length");
  if (!requests || !as_count(*requests, &entry.num_requests) || !failures ||
      !as_count(*failures, &entry.num_failures) || !total || !as_ms_to_us(*total, &entry.total_response_us) ||
      !max || !as_ms_to_us(*max, &entry.max_response_us) || !length ||
      !as_count(*length, &entry.total_content_length)) {
    *error = "entry '" + out->name + "': a count or a time is missing or not a number";
    return false;
  }
  if (min && min->type != msgpack::type::NIL && !as_ms_to_us(*min, &entry.min_response_us)) {
    *error = "entry '" + out->name + "': min_response_time is not a number";
    return false;
  }
  if (entry.num_requests == 0) entry.min_response_us = UINT64_MAX;
  if (!read_buckets(object, out, error)) return false;
  // A report without its min (None) or max: the smallest and largest times it holds.
  if (entry.num_requests > 0) {
    const bool min_missing = !min || min->type == msgpack::type::NIL;
    const bool max_missing = entry.max_response_us == 0;
    for (const auto& [us, count] : out->buckets) {
      if (count == 0) continue;
      if (min_missing) entry.min_response_us = std::min(entry.min_response_us, us);
      if (max_missing) entry.max_response_us = std::max(entry.max_response_us, us);
    }
  }
  return true;
}

bool read_buckets(const msgpack::object& object, ReadEntry* out, std::string* error) {
  if (const msgpack::object* exact = field(object, "cicada_histogram"); exact && exact->type == msgpack::type::ARRAY) {
    out->buckets.reserve(exact->via.array.size);
    for (std::uint32_t i = 0; i < exact->via.array.size; ++i) {
      const msgpack::object& pair = exact->via.array.ptr[i];
      std::uint64_t index = 0, count = 0;
      if (pair.type != msgpack::type::ARRAY || pair.via.array.size != 2 || !as_count(pair.via.array.ptr[0], &index) ||
          index >= stats::Histogram::kBuckets || !as_count(pair.via.array.ptr[1], &count)) {
        *error = "entry '" + out->name + "': cicada_histogram holds something other than [bucket, count] pairs";
        return false;
      }
      out->buckets.emplace_back(stats::Histogram::bucket_mid(static_cast<std::size_t>(index)), count);
    }
    return true;
  }
  // A Locust worker: its rounded milliseconds.
  const msgpack::object* rounded = field(object, "response_times");
  if (!rounded || rounded->type != msgpack::type::MAP) {
    *error = "entry '" + out->name + "': response_times is not a map";
    return false;
  }
  out->buckets.reserve(rounded->via.map.size);
  for (std::uint32_t i = 0; i < rounded->via.map.size; ++i) {
    std::uint64_t us = 0, count = 0;
    if (!as_ms_to_us(rounded->via.map.ptr[i].key, &us) || !as_count(rounded->via.map.ptr[i].val, &count)) {
      *error = "entry '" + out->name + "': response_times holds something other than times and counts";
      return false;
    }
    out->buckets.emplace_back(us, count);
  }
  return true;
}

}  // namespace

bool read_stats_report(const msgpack::object& data, stats::StatsBook* into, int* user_count, std::string* error) {
  if (data.type != msgpack::type::MAP) {
    *error = "stats: the data is not a map";
    return false;
  }
  const msgpack::object* entries = field(data, "stats");
  if (!entries || entries->type != msgpack::type::ARRAY) {
    *error = "stats: no list of entries";
    return false;
  }
  // Everything is read and checked first, then counted: a bad report counts for nothing.
  std::vector<ReadEntry> read;
  for (std::uint32_t i = 0; i < entries->via.array.size; ++i) {
    if (!read_entry(entries->via.array.ptr[i], &read.emplace_back(), error)) {
      *error = "stats: " + *error;
      return false;
    }
  }
  struct Failure {
    std::string method, name, error;
    std::uint64_t count;
  };
  std::vector<Failure> failures;
  if (const msgpack::object* errors = field(data, "errors"); errors && errors->type == msgpack::type::MAP) {
    for (std::uint32_t i = 0; i < errors->via.map.size; ++i) {
      const msgpack::object& value = errors->via.map.ptr[i].val;
      const msgpack::object* name = field(value, "name");
      const msgpack::object* method = field(value, "method");
      const msgpack::object* text = field(value, "error");
      const msgpack::object* occurrences = field(value, "occurrences");
      std::uint64_t count = 0;
      if (!name || !is_string(*name) || !method || !(is_string(*method) || method->type == msgpack::type::NIL) ||
          !text || !is_string(*text) || !occurrences || !as_count(*occurrences, &count)) {
        *error = "stats: an error without a name, method, error or count";
        return false;
      }
      failures.push_back({is_string(*method) ? as_string(*method) : "", as_string(*name), as_string(*text), count});
    }
  }
  std::vector<std::pair<stats::EntryKey, stats::InFlightAtStop>> cut_off;
  if (const msgpack::object* cut = field(data, "cicada_in_flight_at_stop"); cut && cut->type == msgpack::type::ARRAY) {
    for (std::uint32_t i = 0; i < cut->via.array.size; ++i) {
      const msgpack::object& row = cut->via.array.ptr[i];
      stats::InFlightAtStop in_flight;
      if (row.type != msgpack::type::ARRAY || row.via.array.size != 4 || !is_string(row.via.array.ptr[0]) ||
          !is_string(row.via.array.ptr[1]) || !as_count(row.via.array.ptr[2], &in_flight.count) ||
          !as_count(row.via.array.ptr[3], &in_flight.oldest_us)) {
        *error = "stats: cicada_in_flight_at_stop holds something other than [method, name, count, µs] rows";
        return false;
      }
      cut_off.push_back({{as_string(row.via.array.ptr[0]), as_string(row.via.array.ptr[1])}, in_flight});
    }
  }
  for (const ReadEntry& entry : read) into->merge_entry(entry.method, entry.name, entry.counts, entry.buckets);
  for (const Failure& failure : failures) into->add_failures(failure.method, failure.name, failure.error, failure.count);
  for (const auto& [key, in_flight] : cut_off) into->add_in_flight_at_stop(key.method, key.name, in_flight);
  std::uint64_t users = 0;
  if (const msgpack::object* count = field(data, "user_count"); count && as_count(*count, &users) && users < (1u << 30))
    *user_count = static_cast<int>(users);
  return true;
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
