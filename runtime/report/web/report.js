// Draws the charts of cicada's HTML report from the run's history (the JSON summary embedded
// in the page), with uPlot, inlined before this script.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("cicada-report-data").textContent);
  var history = data.history;
  var times = history.map(function (point) { return point.time; });
  var column = function (name) { return history.map(function (point) { return point[name]; }); };

  var open = data.run.model === "open";

  var charts = [
    {
      id: "chart-rps",
      title: "Requests per second",
      unit: "per second",
      series: [
        { label: "requests/s", stroke: "#0969da", values: column("rps") },
        { label: "failures/s", stroke: "#cf222e", values: column("failures_per_s") }
      ]
    },
    {
      id: "chart-response-times",
      title: "Response times (ms)",
      unit: "ms",
      series: [
        { label: "p50", stroke: "#1a7f37", values: column("p50_ms") },
        { label: "p95", stroke: "#bf8700", values: column("p95_ms") },
        { label: "p99", stroke: "#8250df", values: column("p99_ms") }
      ]
    },
    {
      id: "chart-users",
      title: "Users",
      unit: "users",
      series: [{ label: "users", stroke: "#0550ae", values: column("users") }]
    }
  ];

  // The open model adds the iterations started and dropped to the rates, and the uncorrected
  // service time beside the response times measured from each iteration's scheduled start.
  if (open) {
    charts[0].series.push({ label: "iterations/s", stroke: "#1a7f37", values: column("iterations_per_s") });
    charts[0].series.push({ label: "dropped/s", stroke: "#bc4c00", values: column("dropped_per_s") });
    charts[1].series.push({ label: "p99 service (uncorrected)", stroke: "#6e7781", values: column("service_p99_ms") });
  }

  var plots = [];

  function width(element) {
    return Math.max(320, element.clientWidth || 0);
  }

  charts.forEach(function (chart) {
    var element = document.getElementById(chart.id);
    if (!element) return;
    if (history.length === 0) {
      element.innerHTML = '<p class="none">No data: the test stopped before its first second.</p>';
      return;
    }
    var options = {
      title: chart.title,
      width: width(element),
      height: 260,
      scales: { x: { time: true } },
      series: [{}].concat(chart.series.map(function (series) {
        return { label: series.label, stroke: series.stroke, width: 2, spanGaps: false };
      })),
      axes: [{}, { label: chart.unit, size: 60 }]
    };
    var values = [times].concat(chart.series.map(function (series) { return series.values; }));
    plots.push({ element: element, plot: new uPlot(options, values, element) });
  });

  window.addEventListener("resize", function () {
    plots.forEach(function (entry) {
      entry.plot.setSize({ width: width(entry.element), height: 260 });
    });
  });
})();
