/* Helpers for the browser tests: the real programs (gatescreend, gatescreen,
 * gatescreen-sim) in a scratch folder, the ledger through the sqlite3 CLI, and
 * a tally of checks printed as "ok"/"FAIL" lines with a closing "N passed, N
 * failed" line. Node's standard library only (besides playwright-core in the
 * test itself). */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const tls = require('tls');
const { spawn, spawnSync } = require('child_process');

const BUILD = process.env.GS_BUILD_DIR || path.join(__dirname, '../../build');
const SOURCE = process.env.GS_SOURCE_DIR || path.join(__dirname, '../..');

let passed = 0;
let failed = 0;

function check(cond, what) {
  if (cond) passed++; else failed++;
  console.log((cond ? 'ok   - ' : 'FAIL - ') + what);
  return !!cond;
}

function finish() {
  console.log(passed + ' passed, ' + failed + ' failed');
  return failed ? 1 : 0;
}

function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

async function waitUntil(pred, timeoutMs, stepMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > end) return false;
    await sleep(stepMs || 50);
  }
}

function freePort() {
  return new Promise(function (resolve, reject) {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', function () {
      const port = s.address().port;
      s.close(function () { resolve(port); });
    });
  });
}

/* A zone in which it is now about `hour` o'clock (Etc/GMT-N), so windows around
 * "now" never cross local midnight whatever the time of the run (gslib.py does
 * the same). Returns {zone, local: Date shifted to that zone's wall clock (read
 * it with getUTC*)}. */
function schoolZone(hour) {
  const now = new Date();
  let off = ((hour - now.getUTCHours()) % 24 + 24) % 24;
  if (off > 14) off -= 24;
  const zone = off === 0 ? 'Etc/GMT' : off > 0 ? 'Etc/GMT-' + off : 'Etc/GMT+' + -off;
  return { zone: zone, local: new Date(now.getTime() + off * 3600e3) };
}

function pad(n) { return String(n).padStart(2, '0'); }
function hhmm(d) { return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()); }
function isoDay(d) { return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()); }
function addMinutes(d, m) { return new Date(d.getTime() + m * 60e3); }

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input: input, encoding: 'utf8', timeout: 120e3 });
  return { code: r.status, out: r.stdout || '', err: (r.stderr || '') + (r.error ? String(r.error) : '') };
}

function cli(conf, args, input) {
  return run(path.join(BUILD, 'gatescreen'), ['-c', conf].concat(args), input);
}

function sql(db, statement) {
  const r = run('sqlite3', ['-batch', '-cmd', '.timeout 5000', db, statement]);
  if (r.code !== 0) throw new Error('sqlite3: ' + r.err);
  return r.out.trim();
}

/* A program with its output in a file, to wait for lines in. */
class Proc {
  constructor(file, args, logPath, stdin) {
    this.logPath = logPath;
    this.fd = fs.openSync(logPath, 'w');
    this.proc = spawn(file, args, { stdio: [stdin ? 'pipe' : 'ignore', this.fd, this.fd] });
    this.exit = new Promise((resolve) => { this.proc.on('exit', (code, sig) => resolve({ code, sig })); });
  }

  text() { return fs.readFileSync(this.logPath, 'utf8'); }

  waitFor(needle, timeoutMs) {
    return waitUntil(() => this.text().indexOf(needle) >= 0 || this.proc.exitCode !== null,
      timeoutMs || 15000).then(() => this.text().indexOf(needle) >= 0);
  }

  /* Sends sig; resolves to {code, seconds}. Killed after timeoutMs. */
  async stop(sig, timeoutMs) {
    const t0 = Date.now();
    if (this.proc.exitCode === null) this.proc.kill(sig || 'SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs || 15000);
    const r = await this.exit;
    clearTimeout(timer);
    fs.closeSync(this.fd);
    return { code: r.code, sig: r.sig, seconds: (Date.now() - t0) / 1000 };
  }
}

/* gatescreen-sim driven through its stdin: one command, one reply line. */
class Sim extends Proc {
  constructor(conf, extra = []) {
    super(path.join(BUILD, 'gatescreen-sim'), ['-c', conf].concat(extra), conf + '.sim.log', true);
  }

  async cmd(line) {
    const before = this.text().split('\n').length;
    this.proc.stdin.write(line + '\n');
    let reply = null;
    await waitUntil(() => {
      const lines = this.text().split('\n');
      const fresh = lines.slice(before - 1).filter((l) => l === 'ok' || l.startsWith('error'));
      if (fresh.length) reply = fresh[0];
      return reply !== null;
    }, 5000, 20);
    return reply;
  }
}

function scratch() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gs-browser-'));
}

/* The certificates of tests/tools/make_certs.py, and the base64 SHA-256 of the
 * server key's SubjectPublicKeyInfo: Chromium trusts exactly that key
 * (--ignore-certificate-errors-spki-list) and still checks everything else. */
function makeCerts(dir) {
  const r = run('python3', [path.join(SOURCE, 'tests/tools/make_certs.py'), dir]);
  if (r.code !== 0) throw new Error('make_certs.py: ' + r.err);
  const certs = JSON.parse(r.out);
  certs.spki = spkiOf(fs.readFileSync(certs.server));
  return certs;
}

/* The base64 SHA-256 of a PEM or DER certificate's SubjectPublicKeyInfo: what
 * --ignore-certificate-errors-spki-list takes. */
function spkiOf(cert) {
  const der = new crypto.X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('base64');
}

/* The SPKI hash of the certificate the server at https URL `url` shows, once TLS
 * has verified it against the CA file `caFile` (chain and IP/name): Chromium
 * then trusts exactly that key, as if it had the CA. Rejects with the reason. */
function verifiedSpki(url, caFile) {
  const u = new URL(url);
  return new Promise(function (resolve, reject) {
    const s = tls.connect({ host: u.hostname, port: Number(u.port || 443), ca: fs.readFileSync(caFile),
      servername: net.isIP(u.hostname) ? undefined : u.hostname, timeout: 10000 }, function () {
      const cert = s.getPeerX509Certificate();
      s.end();
      resolve(spkiOf(cert.raw));
    });
    s.on('error', function (e) { reject(new Error(url + ': TLS with the CA ' + caFile + ': ' + e.message)); });
    s.on('timeout', function () { s.destroy(); reject(new Error(url + ': no TLS answer in 10 s')); });
  });
}

/* Script errors, CSP violations and dialogs of a page, into `problems` (none are
 * expected). A refused login or an expired session is logged by Chromium as a
 * failed resource (the status is the answer, not a fault). */
function watch(page, name, problems) {
  page.on('pageerror', (e) => problems.push(name + ': page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
      problems.push(name + ': console: ' + m.text());
  });
  page.on('dialog', (d) => { problems.push(name + ': dialog: ' + d.message()); d.dismiss(); });
  return page;
}

/* A full-page screenshot dir/name.png, its path printed. */
async function shot(page, dir, name) {
  const file = path.join(dir, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  console.log('# screenshot ' + file);
}

const CHROMIUM = process.env.GS_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.GS_ARTIFACTS || path.join(BUILD, 'browser-artifacts');

/* Headless Chromium (playwright-core's `chromium`, passed in: this file needs
 * only Node's library) with a fresh profile in p.dir, trusting exactly p.certs'
 * server key, in the school's zone; `extra` adds context options. */
function launch(chromium, p, extra) {
  const userDir = fs.mkdtempSync(path.join(p.dir, 'chromium-'));
  return chromium.launchPersistentContext(userDir, Object.assign({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--ignore-certificate-errors-spki-list=' + p.certs.spki],
    ignoreHTTPSErrors: false,
    viewport: { width: 1280, height: 900 },
    locale: 'zh-CN',
    timezoneId: p.zone,
  }, extra || {}));
}

/* Logs in on the page's form as `name`; resolves once Today is shown, rejects with
 * the form's message when refused. */
async function login(page, base, name, password) {
  await page.goto(base + '/');
  await page.locator('#login input[name=name]').fill(name);
  await page.locator('#login input[name=password]').fill(password);
  await page.locator('#login button[type=submit]').click();
  await page.locator('#queue, #login .status:not(:empty)').first().waitFor({ timeout: 10000 });
  if (!(await page.locator('#queue').isVisible()))
    throw new Error('the login as ' + name + ' was refused: ' + await page.locator('#login .status').textContent());
}

/* The Registers view for opts.span ('day' or 'week') of opts.date (default: the
 * page's), printed by Chromium to the PDF `file` (A4, as the print stylesheet lays
 * it out: a class a page). opts.pages: the number of register pages to wait for. */
async function printRegisters(page, base, opts, file) {
  await page.goto(base + '/#/registers');
  const form = page.locator('#register-form');
  await form.waitFor({ timeout: 10000 });
  if (opts.date) await form.locator('input[name=date]').fill(opts.date);
  await form.locator('select[name=span]').selectOption(opts.span || 'day');
  await form.locator('button[type=submit]').click();
  await page.waitForTimeout(300);
  const pages = page.locator('.register-page' + (opts.date ? '[data-date="' + opts.date + '"]' : ''));
  await pages.nth(Math.max((opts.pages || 1) - 1, 0)).waitFor({ timeout: 20000 });
  await page.pdf({ path: file, format: 'A4', printBackground: true });
  return file;
}

/* pdfinfo's page count and page size (points) of a PDF (poppler-utils). */
function pdfPages(file) {
  const r = run('pdfinfo', [file]);
  const m = /Pages:\s+(\d+)/.exec(r.out);
  const size = /Page size:\s+([\d.]+) x ([\d.]+)/.exec(r.out);
  return { pages: m ? Number(m[1]) : -1, w: size ? Number(size[1]) : 0, h: size ? Number(size[2]) : 0,
    err: r.err };
}

/* pdftotext's text of a PDF's pages first..last (all when first is not given). */
function pdfText(file, first, last) {
  const args = first ? ['-f', String(first), '-l', String(last || first)] : [];
  return run('pdftotext', args.concat(['-enc', 'UTF-8', file, '-'])).out;
}

module.exports = {
  CHROMIUM, ARTIFACTS, launch,
  BUILD, SOURCE, check, finish, sleep, waitUntil, freePort, schoolZone, hhmm, isoDay,
  addMinutes, run, cli, sql, Proc, Sim, scratch, makeCerts, spkiOf, verifiedSpki, watch, shot,
  login, printRegisters, pdfPages, pdfText,
};
