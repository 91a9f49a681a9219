#include "runtime/web/web_front_end.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "runtime/common/json.h"
#include "runtime/common/log.h"
#include "runtime/common/parse.h"
#include "runtime/common/text.h"
#include "runtime/report/csv_report.h"
#include "runtime/report/html_report.h"
#include "runtime/report/json_report.h"
#include "runtime/web/locust_api.h"
#include "runtime/web/page.h"
#include "runtime/web/prometheus.h"

namespace cicada::web {

namespace {

using common::json::Writer;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kCsv = "text/csv; charset=utf-8";
constexpr std::string_view kHtml = "text/html; charset=utf-8";

bool is_ip_literal(const std::string& text) {
  unsigned char address[16];
  return inet_pton(AF_INET, text.c_str(), address) == 1 || inet_pton(AF_INET6, text.c_str(), address) == 1;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  unsigned char address[16];
  if (inet_pton(AF_INET, host.c_str(), address) == 1) return address[0] == 127;
  if (inet_pton(AF_INET6, host.c_str(), address) == 1) {
    for (int i = 0; i < 15; ++i)
      if (address[i] != 0) return false;
    return address[15] == 1;
  }
  return false;
}

// The name in a Host header ("example.com:8089", "[::1]:8089"), lower-cased, without the port.
std::string host_name(std::string_view host_header) {
  std::string name;
  if (!host_header.empty() && host_header.front() == '[') {
    const std::size_t close = host_header.find(']');
    name = std::string(host_header.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  } else {
    name = std::string(host_header.substr(0, host_header.rfind(':')));
  }
  return common::lowercase_ascii(name);
}

// "20261207-201501": a file name's time stamp, as Locust puts one in its download names.
std::string file_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &local);
  return text;
}

void set_download(target::SiteAnswer& answer, std::string_view content_type, const std::string& file_name) {
  answer.content_type = std::string(content_type);
  answer.header_lines += "Content-Disposition: attachment; filename=\"" + file_name + "\"\r\n";
}

void set_json(target::SiteAnswer& answer, std::string body, unsigned status = 200) {
  answer.status = status;
  answer.content_type = std::string(kJson);
  answer.body = std::move(body);
}

// The base64 of "user:password" for comparing Authorization headers.
std::string base64(std::string_view text) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(text[i]) << 16) | (static_cast<unsigned char>(text[i + 1]) << 8) |
                       static_cast<unsigned char>(text[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < text.size()) {
    unsigned n = static_cast<unsigned char>(text[i]) << 16;
    if (i + 1 < text.size()) n |= static_cast<unsigned char>(text[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < text.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Compares without stopping at the first difference, so that timing does not tell how much
// of a guessed password was right.
bool equal_in_constant_time(std::string_view a, std::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return difference == 0 && !b.empty();
}

}  // namespace

WebFrontEnd::WebFrontEnd(control::RunController& run, WebOptions options) : run_(run), options_(std::move(options)) {
  if (!options_.auth.empty()) auth_header_value_ = "Basic " + base64(options_.auth);
}

WebFrontEnd::~WebFrontEnd() = default;

bool WebFrontEnd::listen(std::string* error) {
  int fd = -1;
  if (const char* inherited = std::getenv(kInheritedListenerVariable)) {
    // The previous process of this UI, started again for a new test, handed its socket over.
    fd = std::atoi(inherited);
    unsetenv(kInheritedListenerVariable);
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    int accepting = 0;
    socklen_t flag_length = sizeof accepting;
    if (fd <= 2 || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &flag_length) != 0 || !accepting) {
      *error = std::string(kInheritedListenerVariable) + " is not a listening socket";
      return false;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    bound_port_ = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                                      : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  } else {
    fd = target::bind_listening_socket(options_.host, options_.port, &bound_port_, *error);
    if (fd < 0) return false;
  }
  server_ = target::Worker::create_on_loop(run_.loop(), fd, *this, *error);
  if (!server_) return false;
  uv_loop_t* loop = run_.loop();
  uv_timer_init(loop, &autoquit_timer_);
  autoquit_timer_.data = this;
  uv_timer_init(loop, &new_test_timer_);
  new_test_timer_.data = this;
  const int signums[3] = {SIGINT, SIGTERM, SIGHUP};
  for (int i = 0; i < 3; ++i) {
    uv_signal_init(loop, &signals_[i]);
    signals_[i].data = this;
    uv_signal_start(&signals_[i], on_signal, signums[i]);
  }
  handles_open_ = true;
  run_.phases().add_listener([this](control::RunPhase, control::RunPhase to) { on_phase(to); });
  run_.add_exit_hook([this] { closed_ = true; });

  const std::string shown_host = options_.host == "0.0.0.0" || options_.host == "::" ? "127.0.0.1" : options_.host;
  url_ = "http://" + target::host_and_port(shown_host, bound_port_) + "/";
  common::log_info("Web UI and API at %s (Locust's routes, /metrics for Prometheus)", url_.c_str());
  if (!is_loopback_host(options_.host) && options_.auth.empty())
    common::log_warning("The web UI listens on %s without --web-auth: anyone who can reach it can start a load test",
                        options_.host.c_str());
  return true;
}

// --- the end of the process -----------------------------------------------------------------

void WebFrontEnd::on_phase(control::RunPhase to) {
  if (to != control::RunPhase::Stopped || closed_) return;
  if (quit_requested_ || (!options_.stay_up_after_test && options_.autoquit_s < 0)) return close();
  if (options_.autoquit_s >= 0) {
    common::log_info("The web UI stays up for %.0f s (--autoquit)", options_.autoquit_s);
    uv_timer_start(
        &autoquit_timer_, [](uv_timer_t* timer) { static_cast<WebFrontEnd*>(timer->data)->close(); },
        static_cast<std::uint64_t>(options_.autoquit_s * 1000), 0);
    return;
  }
  common::log_info("The test is over; the web UI stays up at %s until Ctrl-C", url_.c_str());
}

void WebFrontEnd::on_signal(uv_signal_t* handle, int) {
  auto* self = static_cast<WebFrontEnd*>(handle->data);
  // The run's own handler stops the test (and writes the reports) when one is going on; the
  // UI then goes with it.
  self->quit_requested_ = true;
  if (self->run_.phases().is(control::RunPhase::Stopped)) self->close();
}

void WebFrontEnd::close() {
  if (closed_ || !handles_open_) return;
  closed_ = true;
  handles_open_ = false;
  server_->stop_now();
  uv_close(reinterpret_cast<uv_handle_t*>(&autoquit_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&new_test_timer_), nullptr);
  for (uv_signal_t& signal : signals_) uv_close(reinterpret_cast<uv_handle_t*>(&signal), nullptr);
}

// --- requests ------------------------------------------------------------------------------

bool WebFrontEnd::reads_body(std::string_view method, std::string_view path) const {
  return method == "POST" && path == "/swarm";
}

void WebFrontEnd::answer(const target::SiteRequest& request, target::SiteAnswer& answer) {
  // Nothing a browser should keep: every answer reflects the run as it is now.
  answer.header_lines = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  if (refuse_unauthorized(request, answer) || refuse_foreign_request(request, answer)) return;
  route(request, answer);
}

bool WebFrontEnd::refuse_unauthorized(const target::SiteRequest& request, target::SiteAnswer& answer) const {
  if (auth_header_value_.empty()) return false;
  const auto given = request.headers.find("authorization");
  if (given && equal_in_constant_time(common::trim_whitespace(*given), auth_header_value_)) return false;
  answer.status = 401;
  answer.header_lines += "WWW-Authenticate: Basic realm=\"cicada\", charset=\"UTF-8\"\r\n";
  answer.body = "Authentication required (--web-auth)\n";
  return true;
}

bool WebFrontEnd::refuse_foreign_request(const target::SiteRequest& request, target::SiteAnswer& answer) const {
  const std::string_view host_header = request.headers.find("host").value_or("");
  const std::string name = host_name(host_header);
  // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 reaches this
  // server with "Host: evil.example". A loopback server answers only to its own names.
  const bool known_name = name.empty() || is_ip_literal(name) || name == "localhost" ||
                          name.ends_with(".localhost") || name == common::lowercase_ascii(options_.host) ||
                          !is_loopback_host(options_.host);
  if (!known_name) {
    set_json(answer, outcome_json(false, "refused: Host '" + std::string(host_header) + "' is not this server"), 403);
    return true;
  }
  const std::string_view path = request.target.path;
  const bool changes_state = path == "/swarm" || path == "/stop" || path == "/stats/reset";
  if (!changes_state) return false;
  // A browser tab on another site may send these (a form, an image); it names itself.
  const auto fetch_site = request.headers.find("sec-fetch-site");
  bool foreign = fetch_site && (*fetch_site == "cross-site" || *fetch_site == "same-site");
  if (const auto origin = request.headers.find("origin")) {
    const std::size_t scheme_end = origin->find("://");
    const std::string_view origin_host = scheme_end == std::string_view::npos ? *origin : origin->substr(scheme_end + 3);
    if (!common::equals_ignoring_case(origin_host, host_header)) foreign = true;
  }
  if (foreign) {
    set_json(answer, outcome_json(false, "refused: a request from another site may not change the test"), 403);
    return true;
  }
  return false;
}

void WebFrontEnd::route(const target::SiteRequest& request, target::SiteAnswer& answer) {
  const std::string_view path = request.target.path;
  const std::string_view method = request.method;
  const bool get = method == "GET" || method == "HEAD";
  if (path == "/swarm") {
    if (method != "POST") {
      answer.status = 405;
      answer.header_lines += "Allow: POST\r\n";
      answer.body = "POST /swarm with user_count and spawn_rate\n";
      return;
    }
    return swarm(request, answer);
  }
  if (!get) {
    answer.status = 405;
    answer.header_lines += "Allow: GET, HEAD\r\n";
    answer.body = "method not allowed\n";
    return;
  }
  const control::RunSnapshot snapshot = run_.snapshot();
  const stats::RunStats& stats = *snapshot.stats;
  if (path == "/" || path == "/index.html") {
    answer.content_type = std::string(kHtml);
    answer.body = std::string(page_html());
  } else if (const auto asset = page_asset(path)) {
    answer.content_type = std::string(asset->content_type);
    answer.body = std::string(asset->body);
  } else if (path == "/stop") {
    stop(answer);
  } else if (path == "/stats/reset") {
    reset_stats(answer);
  } else if (path == "/stats/requests") {
    set_json(answer, stats_requests_json(snapshot, run_.report_view()));
  } else if (path == "/stats/requests/csv") {
    answer.body = report::csv::stats_file(stats);
    set_download(answer, kCsv, "requests_" + file_stamp() + ".csv");
  } else if (path == "/stats/requests_full_history/csv") {
    std::ifstream in(options_.full_history_csv);
    if (options_.full_history_csv.empty() || !in) {
      answer.status = 404;
      answer.body = "The full history is kept only with --csv PREFIX --csv-full-history\n";
      return;
    }
    std::ostringstream text;
    text << in.rdbuf();
    answer.body = text.str();
    set_download(answer, kCsv, "requests_full_history_" + file_stamp() + ".csv");
  } else if (path == "/stats/failures/csv") {
    answer.body = report::csv::failures_file(stats);
    set_download(answer, kCsv, "failures_" + file_stamp() + ".csv");
  } else if (path == "/exceptions/csv") {
    answer.body = report::csv::exceptions_file(stats);
    set_download(answer, kCsv, "exceptions_" + file_stamp() + ".csv");
  } else if (path == "/exceptions") {
    set_json(answer, exceptions_json(stats));
  } else if (path == "/stats/report") {
    report_html(request, answer);
  } else if (path == "/stats/summary.json") {
    summary_json(answer);
  } else if (path == "/stats/history") {
    std::size_t from = 0;
    if (const auto since = target::find_query_value(request.target.query, "since")) {
      const double number = common::parse_number(*since).value_or(0);
      if (number > 0) from = static_cast<std::size_t>(number);
    }
    const control::RunReportView view = run_.report_view();
    set_json(answer, history_json(*view.history, std::min(from, view.history->size())));
  } else if (path == "/tasks") {
    set_json(answer, run_.task_ratios_json());
  } else if (path == "/logs") {
    set_json(answer, logs_json(common::recent_log_lines()));
  } else if (path == "/worker-count") {
    set_json(answer, "{\"worker_count\":" + std::to_string(connected_worker_count(run_.snapshot())) + "}");
  } else if (path == "/metrics") {
    answer.content_type = kPrometheusContentType;
    answer.body = prometheus_metrics(snapshot);
  } else if (path == "/config") {
    page_config(answer);
  } else {
    answer.status = 404;
    answer.body = "not found\n";
  }
}

void WebFrontEnd::swarm(const target::SiteRequest& request, target::SiteAnswer& answer) {
  if (request.body_too_large) return set_json(answer, outcome_json(false, "the form is too large"), 413);
  const auto content_type = request.headers.find("content-type");
  if (content_type && !common::lowercase_ascii(*content_type).starts_with("application/x-www-form-urlencoded"))
    return set_json(answer,
                    outcome_json(false, "send the form as application/x-www-form-urlencoded (curl -d, not -F)"), 400);
  const SwarmForm form = read_swarm_form(parse_form(request.body));
  if (!form.error.empty()) return set_json(answer, outcome_json(false, form.error), 400);

  const control::RunSnapshot snapshot = run_.snapshot();
  control::CommandResult result;
  if (snapshot.phase == control::RunPhase::Ready) {
    result = run_.start(form.load);
  } else if (snapshot.phase == control::RunPhase::Spawning || snapshot.phase == control::RunPhase::Running) {
    // Locust's page edits a running test by posting the form again: the new user count and
    // rate apply; the host, run time and classes of a running test stay.
    result = run_.set_users(*form.load.users, *form.load.spawn_rate);
  } else if (snapshot.phase == control::RunPhase::Stopped && options_.stay_up_after_test && !closed_) {
    // Locust's "New test": a start once a test has ended runs a new one.
    begin_new_test(std::string(request.body));
  } else {
    result = control::CommandResult::refused("the test is " + std::string(control::phase_name(snapshot.phase)));
  }
  if (!result.accepted) return set_json(answer, outcome_json(false, result.message), 400);

  std::string more;
  Writer w(more);
  w.begin_object().field("host", form.load.host.value_or(run_.report_view().info.host));
  if (form.load.run_time_s) w.field("run_time", *form.load.run_time_s);
  if (!form.load.user_classes.empty()) {
    w.key("user_classes").begin_array();
    for (const std::string& name : form.load.user_classes) w.string(name);
    w.end_array();
  }
  w.end_object();
  // The members without their braces, for outcome_json to append after its own.
  set_json(answer, outcome_json(true, "Swarming started", std::string_view(more).substr(1, more.size() - 2)));
}

void WebFrontEnd::begin_new_test(std::string form) {
  if (new_test_) return;
  const int listen_fd = server_->listener_fd();
  const int kept = listen_fd >= 0 ? fcntl(listen_fd, F_DUPFD_CLOEXEC, 3) : -1;
  if (kept < 0) {
    common::log_error("cannot keep the web UI's socket for a new test");
    return;
  }
  new_test_ = NewTest{kept, std::move(form)};
  common::log_info("New test from the web UI: starting again");
  uv_timer_start(&new_test_timer_, [](uv_timer_t* timer) { static_cast<WebFrontEnd*>(timer->data)->close(); }, 0, 0);
}

bool WebFrontEnd::start_from_inherited_form() {
  const char* form = std::getenv(kNewTestFormVariable);
  if (!form) return false;
  const std::string body = form;
  unsetenv(kNewTestFormVariable);
  const SwarmForm swarm = read_swarm_form(parse_form(body));
  const control::CommandResult result = swarm.error.empty() ? run_.start(swarm.load)
                                                            : control::CommandResult::refused(swarm.error);
  if (!result.accepted) common::log_error("The new test cannot start: %s", result.message.c_str());
  return true;
}

void WebFrontEnd::stop(target::SiteAnswer& answer) {
  const control::CommandResult result = run_.stop("Stopped from the web UI");
  // Locust answers success to a stop of a test already stopped.
  if (!result.accepted && run_.phases().is(control::RunPhase::Ready))
    return set_json(answer, outcome_json(false, result.message), 400);
  set_json(answer, outcome_json(true, "Test stopped"));
}

void WebFrontEnd::reset_stats(target::SiteAnswer& answer) {
  run_.reset_stats();
  answer.body = "ok";
}

void WebFrontEnd::report_html(const target::SiteRequest& request, target::SiteAnswer& answer) {
  const control::RunSnapshot snapshot = run_.snapshot();
  const control::RunReportView view = run_.report_view();
  const report::ReportContent content{view.info, *snapshot.stats, *view.history, view.thresholds};
  answer.content_type = std::string(kHtml);
  answer.body = report::html_report(content, report::json_report(content));
  if (target::find_query_value(request.target.query, "download"))
    set_download(answer, kHtml, "cicada_report_" + file_stamp() + ".html");
}

void WebFrontEnd::summary_json(target::SiteAnswer& answer) {
  const control::RunSnapshot snapshot = run_.snapshot();
  const control::RunReportView view = run_.report_view();
  const report::ReportContent content{view.info, *snapshot.stats, *view.history, view.thresholds};
  set_json(answer, report::json_report(content));
  set_download(answer, kJson, "cicada_summary_" + file_stamp() + ".json");
}

// What the page needs once: the form's defaults, the classes, whether the test may be edited.
void WebFrontEnd::page_config(target::SiteAnswer& answer) {
  const control::RunReportView view = run_.report_view();
  const control::RunSnapshot snapshot = run_.snapshot();
  std::string out;
  Writer w(out);
  w.begin_object()
      .field("version", CICADA_VERSION)
      .field("script", view.info.script)
      .field("users", options_.form_users)
      .field("spawn_rate", options_.form_spawn_rate)
      .field("run_time", options_.form_run_time)
      .field("host", options_.form_host)
      .field("tags", options_.form_tags)
      .field("default_host", view.info.host)
      .field("open_model", snapshot.open_model)
      .field("shape_driven", snapshot.shape_driven)
      .key("user_classes")
      .begin_array();
  for (const control::UserClassChoice& choice : run_.user_classes())
    w.begin_object().field("name", choice.name).field("weight", choice.weight).field("fixed_count", choice.fixed_count).field("host", choice.host).end_object();
  w.end_array().end_object();
  set_json(answer, std::move(out));
}

}  // namespace cicada::web
