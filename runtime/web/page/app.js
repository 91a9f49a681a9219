// cicada's web UI: one page over the Locust-compatible API the binary serves (docs/web-ui.md).
// Preact through htm's standalone build (npm, embedded at build time); charts by uPlot, the
// HTML report's chart library. Every URL is relative, so the page works behind a path prefix.
import { html, render, useState, useEffect, useRef } from './htm-preact.js';

const STATS_EVERY_MS = 1000;
const HISTORY_EVERY_MS = 2000;
const EXCEPTIONS_EVERY_MS = 5000;

async function getJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function postForm(url, fields) {
  const body = new URLSearchParams();
  for (const [name, value] of fields) body.append(name, value);
  const response = await fetch(url, { method: 'POST', body });
  return response.json();
}

// Calls `fn` now and every `ms` while the component lives.
function usePolling(fn, ms) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try { await saved.current(); } catch (error) { /* the next tick retries */ }
      if (!stopped) timer = setTimeout(tick, ms);
    };
    let timer = setTimeout(tick, 0);
    return () => { stopped = true; clearTimeout(timer); };
  }, [ms]);
}

const fixed = (value, digits) => (value === null || value === undefined ? '' : Number(value).toFixed(digits));
const ms = (value) => fixed(value, 3);
function duration(seconds) {
  seconds = Math.floor(seconds || 0);
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return (h ? `${h}h` : '') + (h || m ? `${m}m` : '') + `${s}s`;
}

function StartForm({ config, onStarted }) {
  const [users, setUsers] = useState(String(config.users));
  const [rate, setRate] = useState(String(config.spawn_rate));
  const [host, setHost] = useState(config.host || '');
  const [runTime, setRunTime] = useState(config.run_time || '');
  const [classes, setClasses] = useState(config.user_classes.map((c) => c.name));
  const [tags, setTags] = useState(config.tags || '');
  const [error, setError] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const fields = [['user_count', users], ['spawn_rate', rate], ['host', host], ['run_time', runTime]];
    if (classes.length !== config.user_classes.length) for (const name of classes) fields.push(['user_classes', name]);
    if (tags.trim() !== (config.tags || '')) fields.push(['tags', tags]);
    const outcome = await postForm('./swarm', fields);
    if (outcome.success) { setError(''); onStarted(); } else setError(outcome.message);
  };
  const toggle = (name) => setClasses(classes.includes(name) ? classes.filter((c) => c !== name) : [...classes, name]);
  return html`<form class="start" onSubmit=${submit}>
    <label for="user_count">Number of users (peak concurrency)</label>
    <input id="user_count" name="user_count" type="number" min="0" value=${users} onInput=${(e) => setUsers(e.target.value)} />
    <label for="spawn_rate">Ramp up (users started/second)</label>
    <input id="spawn_rate" name="spawn_rate" type="number" min="0" step="any" value=${rate} onInput=${(e) => setRate(e.target.value)} />
    <label for="host">Host</label>
    <input id="host" name="host" type="text" placeholder=${config.default_host || 'http://127.0.0.1:8080'} value=${host} onInput=${(e) => setHost(e.target.value)} />
    <label for="run_time">Run time (e.g. 20s, 3m, 1h20m)</label>
    <input id="run_time" name="run_time" type="text" placeholder="until stopped" value=${runTime} onInput=${(e) => setRunTime(e.target.value)} />
    <label for="tags">Tags (only tasks with one of them)</label>
    <input id="tags" name="tags" type="text" placeholder="all tasks" value=${tags} onInput=${(e) => setTags(e.target.value)} />
    ${config.user_classes.length > 1 && html`<label>User classes (weight)</label>
      <div class="classes">${config.user_classes.map((c) => html`<label key=${c.name}>
        <input type="checkbox" name="user_classes" value=${c.name} checked=${classes.includes(c.name)} onChange=${() => toggle(c.name)} />
        ${' '}${c.name} <span class="muted">(${c.fixed_count ? `fixed ${c.fixed_count}` : c.weight})</span></label>`)}</div>`}
    <div class="submit"><button class="primary" id="start" type="submit">Start</button></div>
    ${error && html`<div class="message error" id="form-error" style="grid-column: 1 / 3">${error}</div>`}
  </form>`;
}

function EditForm({ stats, onDone }) {
  const [users, setUsers] = useState(String(stats.target_users));
  const [rate, setRate] = useState(String(stats.spawn_rate || 1));
  const [error, setError] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const outcome = await postForm('./swarm', [['user_count', users], ['spawn_rate', rate]]);
    if (outcome.success) onDone(); else setError(outcome.message);
  };
  return html`<form class="edit" onSubmit=${submit}>
    <label for="edit_user_count">Number of users</label>
    <input id="edit_user_count" type="number" min="0" value=${users} onInput=${(e) => setUsers(e.target.value)} />
    <label for="edit_spawn_rate">Ramp (users/second)</label>
    <input id="edit_spawn_rate" type="number" min="0" step="any" value=${rate} onInput=${(e) => setRate(e.target.value)} />
    <div class="submit"><button class="primary" id="apply-edit" type="submit">Apply</button>
      <button type="button" onClick=${onDone}>Cancel</button></div>
    ${error && html`<div class="message error" style="grid-column: 1 / 3">${error}</div>`}
  </form>`;
}

const STAT_COLUMNS = [
  ['Type', (s) => s.method || ''],
  ['Name', (s) => s.name],
  ['# Requests', (s) => s.num_requests, 0],
  ['# Fails', (s) => s.num_failures, 0],
  ['Median (ms)', (s) => s.response_time_percentiles_exact['0.5'], 3],
  ['95%ile (ms)', (s) => s.response_time_percentiles_exact['0.95'], 3],
  ['99%ile (ms)', (s) => s.response_time_percentiles_exact['0.99'], 3],
  ['Average (ms)', (s) => s.avg_response_time, 3],
  ['Min (ms)', (s) => s.min_response_time_exact, 3],
  ['Max (ms)', (s) => s.max_response_time_exact, 3],
  ['Average size (bytes)', (s) => s.avg_content_length, 0],
  ['Current RPS', (s) => s.current_rps, 1],
  ['Current failures/s', (s) => s.current_fail_per_sec, 1],
];

function StatsTable({ stats }) {
  const [sort, setSort] = useState({ column: 1, descending: false });
  const entries = stats.stats.slice(0, -1);
  const total = stats.stats[stats.stats.length - 1];
  const [, value] = STAT_COLUMNS[sort.column];
  entries.sort((a, b) => {
    const x = value(a), y = value(b);
    const order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
    return sort.descending ? -order : order;
  });
  const cell = (s, [, get, digits]) => html`<td class=${digits !== undefined ? 'num' : ''}>${digits !== undefined ? fixed(get(s), digits) : get(s)}</td>`;
  const header = (column, index) => html`<th class=${column[2] !== undefined ? 'num' : ''}
    onClick=${() => setSort({ column: index, descending: sort.column === index ? !sort.descending : column[2] !== undefined })}>
    ${column[0]}${sort.column === index ? (sort.descending ? ' ▼' : ' ▲') : ''}</th>`;
  return html`<table id="stats-table">
    <thead><tr>${STAT_COLUMNS.map(header)}</tr></thead>
    <tbody>${entries.map((s) => html`<tr key=${s.method + ' ' + s.name}>${STAT_COLUMNS.map((c) => cell(s, c))}</tr>`)}
      ${total && html`<tr class="total">${STAT_COLUMNS.map((c) => cell(total, c))}</tr>`}</tbody>
  </table>`;
}

function FailuresTable({ stats }) {
  if (!stats.errors.length) return html`<p class="muted">No failures.</p>`;
  return html`<table id="failures-table"><thead><tr><th class="num"># Failures</th><th>Method</th><th>Name</th><th>Message</th></tr></thead>
    <tbody>${stats.errors.map((e) => html`<tr><td class="num">${e.occurrences}</td><td>${e.method}</td><td>${e.name}</td><td>${e.error}</td></tr>`)}</tbody></table>`;
}

function ExceptionsTable({ exceptions }) {
  if (!exceptions.length) return html`<p class="muted">No exceptions.</p>`;
  return html`<table id="exceptions-table"><thead><tr><th class="num">Count</th><th>Message</th><th>Traceback</th></tr></thead>
    <tbody>${exceptions.map((e) => html`<tr><td class="num">${e.count}</td><td>${e.msg}</td><td><pre>${e.traceback}</pre></td></tr>`)}</tbody></table>`;
}

// A distributed master's workers (Locust's Workers tab), from /stats/requests.
function WorkersTable({ workers }) {
  if (!workers.length) return html`<p class="muted">No worker has connected yet.</p>`;
  return html`<table id="workers-table"><thead><tr><th class="num">#</th><th>Worker</th><th>State</th><th class="num">Users</th>
    <th class="num">CPU %</th><th class="num">Memory MB</th></tr></thead>
    <tbody>${workers.map((w) => html`<tr><td class="num">${w.index}</td><td>${w.id}</td><td class=${w.state === 'missing' ? 'fail' : ''}>${w.state}</td>
      <td class="num">${w.user_count}</td><td class="num">${fixed(w.cpu_usage, 1)}</td><td class="num">${fixed(w.memory_usage / 1048576, 0)}</td></tr>`)}</tbody></table>`;
}

function ThresholdsTable({ stats }) {
  if (!stats.thresholds.length) return html`<p class="muted">No thresholds (cicada.thresholds{} or --threshold).</p>`;
  return html`<table id="thresholds-table"><thead><tr><th>Threshold</th><th class="num">Now</th><th>Result</th><th>Declared in</th></tr></thead>
    <tbody>${stats.thresholds.map((t) => html`<tr><td>${t.threshold}</td><td class="num">${t.has_data ? t.value : 'no data'}</td>
      <td class=${t.passed ? 'pass' : 'fail'}>${t.passed ? 'pass' : t.aborted_test ? 'fail (stopped the test)' : 'fail'}</td><td>${t.source}</td></tr>`)}</tbody></table>`;
}

// One uPlot chart over the run; `series` are [label, key, colour] over the history points.
function Chart({ id, title, history, series }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    plot.current = new uPlot({
      width: Math.max(400, box.current.clientWidth || 560), height: 240,
      series: [{}, ...series.map(([label, , stroke]) => ({ label, stroke, width: 2, spanGaps: true }))],
      axes: [{}, { size: 60 }],
    }, [[], ...series.map(() => [])], box.current);
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    if (!plot.current) return;
    plot.current.setData([history.map((p) => p.time), ...series.map(([, key]) => history.map((p) => p[key]))]);
  }, [history]);
  return html`<div class="chart" id=${id}><h3>${title}</h3><div ref=${box}></div></div>`;
}

function Charts({ history }) {
  return html`<div class="charts">
    <${Chart} id="chart-rps" title="Requests and failures per second" history=${history}
      series=${[['RPS', 'rps', '#1a7f37'], ['Failures/s', 'failures_per_s', '#cf222e']]} />
    <${Chart} id="chart-times" title="Response times (ms)" history=${history}
      series=${[['p50', 'p50_ms', '#0969da'], ['p95', 'p95_ms', '#9a6700'], ['p99', 'p99_ms', '#cf222e']]} />
    <${Chart} id="chart-users" title="Users" history=${history} series=${[['Users', 'users', '#8250df']]} />
  </div>`;
}

function Downloads() {
  const links = [
    ['./stats/report?download=1', 'HTML report', 'download-report'],
    ['./stats/requests/csv', 'Statistics CSV', 'download-stats-csv'],
    ['./stats/requests_full_history/csv', 'Full history CSV (with --csv-full-history)', 'download-history-csv'],
    ['./stats/failures/csv', 'Failures CSV', 'download-failures-csv'],
    ['./exceptions/csv', 'Exceptions CSV', 'download-exceptions-csv'],
    ['./stats/summary.json', 'JSON summary', 'download-summary'],
  ];
  return html`<ul class="downloads">${links.map(([href, text, id]) => html`<li><a id=${id} href=${href}>${text}</a></li>`)}
    <li><a href="./stats/report" target="_blank">View the HTML report</a></li></ul>`;
}

function App() {
  const [config, setConfig] = useState(null);
  const [stats, setStats] = useState(null);
  const [history, setHistory] = useState([]);
  const [exceptions, setExceptions] = useState([]);
  const [tab, setTab] = useState('stats');
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState('');
  const [newTest, setNewTest] = useState(false);
  const next = useRef(0);

  useEffect(() => { getJson('./config').then(setConfig); }, []);
  usePolling(async () => setStats(await getJson('./stats/requests')), STATS_EVERY_MS);
  usePolling(async () => {
    const update = await getJson(`./stats/history?since=${next.current}`);
    // A history that merged its points (long runs) starts again from the beginning.
    if (update.next < next.current) { next.current = 0; setHistory([]); return; }
    next.current = update.next;
    if (update.points.length) setHistory((old) => old.concat(update.points));
  }, HISTORY_EVERY_MS);
  usePolling(async () => setExceptions((await getJson('./exceptions')).exceptions), EXCEPTIONS_EVERY_MS);

  if (!config || !stats) return html`<p class="loading">Loading…</p>`;
  const state = stats.state;
  const active = state === 'spawning' || state === 'running';
  const total = stats.stats[stats.stats.length - 1] || {};
  const command = async (url, message) => {
    const response = await fetch(url, { cache: 'no-store' });
    const text = await response.text();
    setNotice(response.ok ? message : text);
  };
  const tabs = [['stats', 'Statistics'], ['charts', 'Charts'], ['failures', `Failures (${stats.errors.length})`],
    ['exceptions', `Exceptions (${exceptions.length})`], ['thresholds', 'Thresholds'], ['downloads', 'Download data']];
  if (stats.workers) tabs.splice(4, 0, ['workers', `Workers (${stats.worker_count})`]);
  return html`
    <header>
      <h1>cicada</h1>
      <span class=${'state ' + state} id="state">${state}</span>
      <div class="figure"><span>Host</span><span id="host">${stats.host || config.default_host || '-'}</span></div>
      <div class="figure"><span>Users</span><span id="user-count">${stats.user_count}</span></div>
      <div class="figure"><span>RPS</span><span id="rps">${fixed(stats.current_rps, 1)}</span></div>
      <div class="figure"><span>Failures</span><span id="fail-ratio">${fixed(stats.fail_ratio * 100, 1)}%</span></div>
      <div class="figure"><span>Elapsed</span><span id="elapsed">${duration(stats.elapsed_s)}</span></div>
      <div class="actions">
        ${active && !stats.open_model && !stats.shape_driven && html`<button id="edit" onClick=${() => setEditing(!editing)}>Edit</button>`}
        ${active && html`<button class="danger" id="stop" onClick=${() => command('./stop', 'Stopping the test')}>Stop</button>`}
        ${(active || state === 'stopped') && html`<button id="reset" disabled=${!active} onClick=${() => command('./stats/reset', 'Statistics reset')}>Reset stats</button>`}
        ${state === 'stopped' && html`<button class="primary" id="new-test" onClick=${() => setNewTest(!newTest)}>New test</button>`}
      </div>
    </header>
    <main>
      ${(state === 'ready' || (state === 'stopped' && newTest)) && html`<h2>Start a new load test</h2><p class="muted">${config.script}</p>
        ${state === 'stopped' && html`<p class="muted">A new test starts afresh: new statistics, and the report files written again.</p>`}
        <${StartForm} config=${config} onStarted=${() => { setNotice(''); setNewTest(false); }} />`}
      ${editing && active && html`<${EditForm} stats=${stats} onDone=${() => setEditing(false)} />`}
      ${notice && html`<div class="message" id="notice">${notice}</div>`}
      ${stats.stop_reason && html`<p class="muted" id="stop-reason">${stats.stop_reason}</p>`}
      <nav class="tabs">${tabs.map(([key, label]) => html`<button id=${'tab-' + key} class=${tab === key ? 'active' : ''} onClick=${() => setTab(key)}>${label}</button>`)}</nav>
      ${tab === 'stats' && html`<${StatsTable} stats=${stats} />`}
      <div style=${tab === 'charts' ? '' : 'display: none'}><${Charts} history=${history} /></div>
      ${tab === 'failures' && html`<${FailuresTable} stats=${stats} />`}
      ${tab === 'exceptions' && html`<${ExceptionsTable} exceptions=${exceptions} />`}
      ${tab === 'thresholds' && html`<${ThresholdsTable} stats=${stats} />`}
      ${tab === 'workers' && html`<${WorkersTable} workers=${stats.workers || []} />`}
      ${tab === 'downloads' && html`<${Downloads} />`}
      <p class="muted">cicada ${config.version} · ${total.num_requests || 0} requests · <a href="./metrics">/metrics</a></p>
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
