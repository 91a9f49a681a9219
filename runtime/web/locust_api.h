#pragma once
// Locust's web API documents, with its field names (docs/web-ui.md says which Locust version
// each name comes from), built from a run's snapshot: what a script or exporter written against
// Locust's web UI reads, plus cicada's own fields under names Locust does not use.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/control/run_controller.h"

namespace cicada::web {

// GET /stats/requests.
std::string stats_requests_json(const control::RunSnapshot& run, const control::RunReportView& report);
// A distributed master's workers that are not missing (Locust's /worker-count).
int connected_worker_count(const control::RunSnapshot& run);
// GET /exceptions: {"exceptions": [{count, msg, traceback, nodes}]}.
std::string exceptions_json(const stats::RunStats& run);
// GET /logs: {"master": [...], "workers": {}}.
std::string logs_json(const std::vector<std::string>& lines);
// cicada's GET /stats/history: the points behind the charts, from index `since` on.
std::string history_json(const std::vector<report::HistoryPoint>& history, std::size_t since);
// The answers of POST /swarm, GET /stop and the like: {"success": ..., "message": ...} and
// any further members, already JSON without braces ("\"host\":\"...\",\"run_time\":20").
std::string outcome_json(bool success, std::string_view message, std::string_view more_fields = {});

// A form body (application/x-www-form-urlencoded), decoded: names and values in order.
using FormFields = std::vector<std::pair<std::string, std::string>>;
FormFields parse_form(std::string_view body);

// POST /swarm's fields (user_count, spawn_rate, host, run_time, user_classes, tags): the load to
// start with, or the first bad or missing field's message.
struct SwarmForm {
  control::LoadRequest load;
  std::string error;  // empty: good
};
SwarmForm read_swarm_form(const FormFields& fields);

}  // namespace cicada::web
