#pragma once
// Locust's master/worker messages (docs/distributed.md): msgpack arrays [type, data, node_id]
// as Locust's rpc/protocol.py writes them, and the payloads a worker sends and obeys, with
// Locust's field names. Checked against Debian's python3-locust (2.12) in the tests.
#include <msgpack.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/stats/stats_book.h"

namespace cicada::dist {

// A message as received: its data stays a msgpack object, valid as long as the message.
struct Message {
  std::string type;
  std::string node_id;
  msgpack::object_handle handle;  // the whole array
  const msgpack::object& data() const { return handle.get().via.array.ptr[1]; }
};

// Decodes one message; nothing (and `error` set) for anything but a 3-element array whose
// first and last elements are strings. Never throws.
std::optional<Message> decode_message(std::string_view bytes, std::string* error);

// Writes [type, data, node_id]: `pack_data` packs exactly one object.
template <class PackData>
std::string encode_message(std::string_view type, std::string_view node_id, PackData&& pack_data) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_array(3);
  packer.pack(type);
  pack_data(packer);
  packer.pack(node_id);
  return std::string(buffer.data(), buffer.size());
}

// Locust keeps response times rounded, in milliseconds: to 1 below 100 ms, to 10 below 1,000,
// to 100 below 10,000, else to 1,000 (Python's round(): halves to even).
std::int64_t locust_rounded_ms(double ms);

// One stats report of a worker: what it recorded since the previous one.
struct ReportDelta {
  const stats::StatsBook* book = nullptr;  // requests, failures and errors of the interval
  // Requests and failures per unix second of the interval, Aggregated and per entry.
  std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>> per_second_total;
  std::map<stats::EntryKey, std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>>> per_second;
  double start_time = 0;              // unix time of the interval's first request
  double last_request_timestamp = 0;  // unix time of its last
  std::map<std::string, int> user_classes_count;
  int user_count = 0;
};

// The `stats` message's data: {stats: [entry...], stats_total: entry, errors: {key: {...}},
// user_classes_count, user_count}; entries without requests are left out, as Locust does.
void pack_stats_report(msgpack::packer<msgpack::sbuffer>& packer, const ReportDelta& delta);

// A worker's `stats` message read back (a master): its entries, failures and, from a cicada
// worker, the requests in flight at its stop, added to `into`; the worker's user count. The
// exact histogram (`cicada_histogram`) when the worker sent one, else Locust's rounded
// response times. False, with `error` set and `into` unchanged, for a report of the wrong shape.
bool read_stats_report(const msgpack::object& data, stats::StatsBook* into, int* user_count, std::string* error);

// What `spawn` asks for.
struct SpawnOrder {
  double timestamp = 0;
  std::map<std::string, int> user_classes_count;
  std::string host;  // empty: the worker's own
  std::optional<double> stop_timeout_s;
};
std::optional<SpawnOrder> read_spawn(const msgpack::object& data, std::string* error);

}  // namespace cicada::dist
