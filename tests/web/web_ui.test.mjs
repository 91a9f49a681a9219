// The web UI in a real browser: Debian's chromium driven by puppeteer-core (npm). Starts the
// target and `cicada run --web-port 0`, fills the form, starts, sees the table fill and the
// charts draw, changes the user count mid-run, stops, downloads the stats CSV and compares it
// with /stats/requests/csv, and fails on any console error. Screenshots go to
// $CICADA_ARTIFACTS_DIR (build/test-artifacts/web-ui). Every wait is bounded; loopback only.
//
// Run by ctest (test_web_ui_browser) with CICADA_BIN, CICADA_SOURCE_DIR and PUPPETEER_MODULES
// (the node_modules `npm ci` made in the build folder from tests/web/package-lock.json).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(path.join(process.env.PUPPETEER_MODULES, 'x.js'));
const puppeteer = require('puppeteer-core');

const cicada = process.env.CICADA_BIN;
const source = process.env.CICADA_SOURCE_DIR;
const artifacts = process.env.CICADA_ARTIFACTS_DIR || path.join(path.dirname(cicada), 'test-artifacts', 'web-ui');
fs.mkdirSync(artifacts, { recursive: true });
const deadline = setTimeout(() => { console.error('FAIL: the browser test ran past 240 s'); process.exit(1); }, 240_000);

// Starts `command` and resolves with the first stdout line matching `pattern`.
function startAndMatch(args, pattern, children) {
  return new Promise((resolve, reject) => {
    const child = spawn(cicada, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} from ${args.join(' ')}: ${out}${err}`)), 30_000);
    child.stdout.on('data', (data) => {
      out += data;
      const match = out.match(pattern);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    });
    child.stderr.on('data', (data) => { err += data; });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}${err}`)));
  });
}

// A port nothing listens on now, for a process to bind next.
function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(String(port)));
    });
  });
}

async function until(what, predicate, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function chromium() {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (fs.existsSync(candidate)) return candidate;
  throw new Error("Debian's chromium is not installed (scripts/setup installs it)");
}

// Pixels of `rgb` in the canvas of chart `id`: a drawn series, not only the axes.
async function seriesPixels(page, id, rgb) {
  return page.$eval(`#${id} canvas`, (canvas, [r, g, b]) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4)
      if (Math.abs(data[i] - r) < 30 && Math.abs(data[i + 1] - g) < 30 && Math.abs(data[i + 2] - b) < 30 && data[i + 3] > 200) count++;
    return count;
  }, rgb);
}

const children = [];
let browser;
const problems = [];
try {
  const target = await startAndMatch(['target', '--port', '0'], /listening on (http:\/\/\S+)/, children);
  const ui = await startAndMatch(['run', path.join(source, 'tests/integration/scenarios/web_two_endpoints.lua'), '-H', target,
    '--web-port', '0', '--only-summary'], /Web UI: (http:\/\/\S+)/, children);
  const api = async (route) => (await fetch(ui + route.replace(/^\//, ''))).text();

  browser = await puppeteer.launch({ executablePath: chromium(), headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  // While the process starts again for a new test, a poll may find its connection closed.
  let restarting = false;
  page.on('console', (message) => {
    if (message.type() === 'error' && !(restarting && message.text().includes('Failed to load resource')))
      problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A link that downloads a file ends its navigation as "aborted": that is the download.
    const download = request.failure()?.errorText === 'net::ERR_ABORTED' && request.url().endsWith('/csv');
    if (!download && !restarting) problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });

  await page.goto(ui, { waitUntil: 'networkidle0', timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'ready', { timeout: 30_000 });
  await page.screenshot({ path: path.join(artifacts, '1-ready.png') });

  // The form, as a person fills it.
  await page.$eval('#user_count', (input) => { input.value = ''; });
  await page.type('#user_count', '3');
  await page.$eval('#spawn_rate', (input) => { input.value = ''; });
  await page.type('#spawn_rate', '50');
  await page.click('#start');
  await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'running'
    && document.querySelector('#user-count')?.textContent === '3', { timeout: 60_000 });
  // The table fills: both entries and the Aggregated row, with requests counted.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#stats-table tbody tr')];
    return rows.length === 3 && rows.every((row) => Number(row.children[2].textContent) > 0);
  }, { timeout: 60_000 });
  const started = JSON.parse(await api('/stats/requests'));
  if (started.user_count !== 3) throw new Error(`the API says ${started.user_count} users, the page said 3`);

  // The charts draw their series (green requests/s, purple users) once history comes in.
  await page.click('#tab-charts');
  await until('the charts to draw', async () =>
    (await seriesPixels(page, 'chart-rps', [26, 127, 55])) > 20 && (await seriesPixels(page, 'chart-users', [130, 80, 223])) > 20);
  await page.screenshot({ path: path.join(artifacts, '2-running-charts.png') });

  // Fewer users mid-run, from the Edit form.
  await page.click('#edit');
  await page.waitForSelector('#edit_user_count');
  await page.$eval('#edit_user_count', (input) => { input.value = ''; });
  await page.type('#edit_user_count', '1');
  await page.click('#apply-edit');
  await page.waitForFunction(() => document.querySelector('#user-count')?.textContent === '1', { timeout: 60_000 });
  const edited = JSON.parse(await api('/stats/requests'));
  if (edited.user_count !== 1) throw new Error(`after the edit the API says ${edited.user_count} users`);
  await page.click('#tab-stats');
  await page.screenshot({ path: path.join(artifacts, '3-edited.png') });

  await page.click('#stop');
  await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'stopped', { timeout: 60_000 });

  // The CSV download, compared with what the API serves.
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'cicada-downloads-'));
  const session = await page.createCDPSession();
  await session.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await page.click('#tab-downloads');
  await page.click('#download-stats-csv');
  const file = await until('the CSV download', () => fs.readdirSync(downloads).find((name) => name.endsWith('.csv')));
  const downloaded = fs.readFileSync(path.join(downloads, file), 'utf8');
  const served = await api('/stats/requests/csv');
  if (downloaded !== served) throw new Error(`the downloaded CSV differs from /stats/requests/csv:\n${downloaded}\n---\n${served}`);
  if (!downloaded.startsWith('Type,Name,Request Count,Failure Count,')) throw new Error(`not Locust's header: ${downloaded}`);
  await page.click('#tab-stats');
  await page.screenshot({ path: path.join(artifacts, '4-stopped.png') });

  // New test: the form again, a second test with fresh numbers on the same page.
  const firstTotal = JSON.parse(await api('/stats/requests')).stats.at(-1).num_requests;
  await page.click('#new-test');
  await page.waitForSelector('#user_count');
  await page.$eval('#user_count', (input) => { input.value = ''; });
  await page.type('#user_count', '2');
  restarting = true;
  await page.click('#start');
  await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'running'
    && document.querySelector('#user-count')?.textContent === '2', { timeout: 60_000 });
  restarting = false;
  const second = await until('the new test\'s numbers', async () => {
    const stats = JSON.parse(await api('/stats/requests'));
    return stats.stats.at(-1).num_requests > 0 && stats;
  });
  // A fresh run: no stop reason yet, its own count (the first test's ended with firstTotal).
  if (second.stop_reason !== '' || second.user_count !== 2 || firstTotal <= 0)
    throw new Error(`the new test did not start afresh: ${JSON.stringify(second)}`);
  await page.screenshot({ path: path.join(artifacts, '5-new-test.png') });

  // A distributed master's page: its Workers tab lists the worker, running its users.
  const masterPort = await freePort();
  const master = await startAndMatch(['run', path.join(source, 'tests/integration/scenarios/web_two_endpoints.lua'), '-H', target,
    '--master', '--master-bind-host', '127.0.0.1', '--master-bind-port', masterPort, '--web-port', '0', '--only-summary',
    '-u', '2', '-r', '10'], /Web UI: (http:\/\/\S+)/, children);
  const worker = spawn(cicada, ['run', path.join(source, 'tests/integration/scenarios/web_two_endpoints.lua'), '--worker',
    '--master-port', masterPort, '--threads', '1'], { stdio: 'ignore' });
  children.push(worker);
  await page.goto(master, { waitUntil: 'networkidle0', timeout: 30_000 });
  await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'running', { timeout: 60_000 });
  await page.waitForSelector('#tab-workers');
  await page.click('#tab-workers');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#workers-table tbody tr')];
    return rows.length === 1 && rows[0].children[2].textContent === 'running' && rows[0].children[3].textContent === '2';
  }, { timeout: 60_000 });
  await page.screenshot({ path: path.join(artifacts, '6-master-workers.png') });

  if (problems.length) throw new Error(`the page reported:\n${problems.join('\n')}`);
  console.log(`ok   the web UI in chromium: started, 3 users, charts drawn, edited to 1, stopped, CSV downloaded, a new test, a master's workers (${artifacts})`);
} catch (error) {
  console.error(`FAIL ${error.stack || error}`);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  for (const child of children) child.kill('SIGTERM');
  clearTimeout(deadline);
}
