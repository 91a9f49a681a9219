#pragma once
// The web UI, Locust's HTTP API and Prometheus' /metrics (docs/web-ui.md): a front-end that
// drives the run through its controller, served by the target's HTTP server code on the run's
// loop (never a worker's), so that every answer reads the run's state without a lock.
#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "runtime/control/run_controller.h"
#include "runtime/report/run_reports.h"
#include "runtime/target/server.h"
#include "runtime/target/site.h"

namespace cicada::web {

struct WebOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8089;  // 0: any free port
  std::string auth;           // "user:password" for HTTP basic; empty: none
  // After the test: keep serving until a signal (the UI), for `autoquit_s` (>= 0), or end with
  // the test (a headless run's /metrics).
  bool stay_up_after_test = true;
  double autoquit_s = -1;
  // --csv-full-history's file, served at /stats/requests_full_history/csv; empty: 404.
  std::string full_history_csv;
  // What the page's form starts with (-u, -r, -t, -H given without starting the test).
  int form_users = 1;
  double form_spawn_rate = 1;
  std::string form_run_time;
  std::string form_host;
  std::string form_tags;  // -T, comma-separated
};

// A new test asked for once a test has ended: the process starts again (runtime/cli), keeping
// the listening socket, and the new process starts the test with this form.
struct NewTest {
  int listen_fd = -1;  // a duplicate of the UI's listening socket, open across the exec
  std::string form;    // the POST /swarm body
};
// Where the new process finds them.
inline constexpr const char* kInheritedListenerVariable = "CICADA_WEB_LISTEN_FD";
inline constexpr const char* kNewTestFormVariable = "CICADA_WEB_NEW_TEST";

class WebFrontEnd final : public target::Site {
 public:
  WebFrontEnd(control::RunController& run, WebOptions options);
  ~WebFrontEnd() override;
  WebFrontEnd(const WebFrontEnd&) = delete;
  WebFrontEnd& operator=(const WebFrontEnd&) = delete;

  // Binds and starts serving on the run's loop; prints the URL (and a warning for a
  // non-loopback address without --web-auth). False with `error` set when it cannot listen.
  bool listen(std::string* error);
  const std::string& url() const { return url_; }
  // In a process started for a new test: starts it with the previous process's form. False
  // when this process was not started so (or the form is refused, which is logged).
  bool start_from_inherited_form();
  // After the run's loop ended: the new test asked for, if any.
  std::optional<NewTest> take_new_test() { return std::exchange(new_test_, std::nullopt); }

  // target::Site
  bool reads_body(std::string_view method, std::string_view path) const override;
  void answer(const target::SiteRequest& request, target::SiteAnswer& answer) override;

 private:
  void route(const target::SiteRequest& request, target::SiteAnswer& answer);
  // Refuses what a browser tab on another site, or a name rebound to this address, may send.
  bool refuse_foreign_request(const target::SiteRequest& request, target::SiteAnswer& answer) const;
  bool refuse_unauthorized(const target::SiteRequest& request, target::SiteAnswer& answer) const;
  void swarm(const target::SiteRequest& request, target::SiteAnswer& answer);
  void stop(target::SiteAnswer& answer);
  void reset_stats(target::SiteAnswer& answer);
  void report_html(const target::SiteRequest& request, target::SiteAnswer& answer);
  void summary_json(target::SiteAnswer& answer);
  void page_config(target::SiteAnswer& answer);
  void on_phase(control::RunPhase to);
  // Answers the swarm, then closes the server on the next turn of the loop so that the run's
  // loop ends and the process can start again.
  void begin_new_test(std::string form);
  void close();
  static void on_signal(uv_signal_t* handle, int signum);

  control::RunController& run_;
  WebOptions options_;
  std::string url_;
  std::uint16_t bound_port_ = 0;
  std::string auth_header_value_;  // "Basic dXNlcjpwYXNz"
  std::unique_ptr<target::Worker> server_;
  uv_timer_t autoquit_timer_{};
  uv_signal_t signals_[3]{};
  bool handles_open_ = false;
  bool quit_requested_ = false;  // a signal: the process ends with the test
  bool closed_ = false;
  std::optional<NewTest> new_test_;
  uv_timer_t new_test_timer_{};
};

}  // namespace cicada::web
