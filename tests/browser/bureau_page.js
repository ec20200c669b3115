/* The bureau's page in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), against the real gatescreen-bureaud that bureau_page.py started
 * on a private PostgreSQL. Checks: zh-CN by default; a wrong password; the county
 * officer's today shows their county only, its numbers equal to the API's; the
 * notices with the acknowledgement from the page; English; a phone viewport without
 * sideways scrolling of the page itself; the city officer sees both counties; the
 * administrator adds and disables a user on Users (a tab the others do not have); the
 * figures' drill-down (county → schools, highest illness rate first, sorting by a
 * heading, the CSV download equal to the table); the trends' SVG charts (every point
 * is the API's number, hovering shows it); a notice uploaded while the notices are
 * open appears without a reload (server-sent events); no script error, CSP violation
 * or dialog. Screenshots of every view go to $GS_ARTIFACTS. */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { chromium } = require('playwright-core');
const L = require('./lib');
const { check } = L;

const URL = process.env.GS_BPAGE_URL;
const DAY = process.env.GS_BPAGE_DAY;
const THU = process.env.GS_BPAGE_THU;
const SIGNALS = process.env.GS_BPAGE_SIGNALS;
const USERS = JSON.parse(process.env.GS_BPAGE_USERS);
const ARTIFACTS = process.env.GS_ARTIFACTS || path.join(L.BUILD, 'browser-artifacts');
const problems = [];

function spki(certFile) {
  const pub = spawnSync('openssl', ['x509', '-in', certFile, '-noout', '-pubkey'], { encoding: 'utf8' });
  const der = spawnSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pub.stdout });
  return require('crypto').createHash('sha256').update(der.stdout).digest('base64');
}

function watch(page, name) { return L.watch(page, name, problems); }

function shot(page, name) { return L.shot(page, ARTIFACTS, 'bureau-' + name); }

async function login(page, name, password) {
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
}

async function showDay(page) {
  await page.fill('#today-day', DAY);
  await page.selectOption('#today-deadline', 'day');
  await page.click('#today-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#today-head').textContent.includes('2026-12-04'));
}

async function tableText(page, id) {
  return page.$$eval('#' + id + ' tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
}

async function countyOfficer(page) {
  await page.goto(URL);
  await page.waitForSelector('#login-form');
  check(await page.title() === '教育局 · 晨午检上报', 'zh-CN by default: ' + await page.title());
  await shot(page, 'login-zh');
  await login(page, '王科长', 'wrong-password-0');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent !== '');
  check(await page.textContent('#login-error') === '用户名或密码错误', 'a wrong password is said so');
  await login(page, '王科长', USERS['王科长']);
  await page.waitForSelector('#app-view:not([hidden])');
  check(await page.isHidden('#today-county-label'), 'a county officer has no county to choose');
  check(await page.isHidden('#users-tab'), '... and no Users tab');
  await showDay(page);
  const counties = await tableText(page, 'today-counties');
  check(counties.length === 1 && counties[0][0] === '魏都区', 'today: their county only ' + JSON.stringify(counties));
  const api = await page.evaluate(async (d) => (await fetch('/api/v1/today?deadline=day&day=' + d)).json(), DAY);
  const c = api.counties[0];
  check(counties[0][1] === `${c.on_time + c.late}/${c.expected}` && counties[0][4] === String(c.missing),
    'the table says what the API says: ' + JSON.stringify(counties[0]));
  const schools = await tableText(page, 'today-schools');
  check(schools.length === 2 && schools.some((r) => r[1].includes('W1') && r[3] === '迟报') &&
    schools.some((r) => r[1].includes('W2') && r[3] === '未报'), 'W1 late, W2 missing: ' + JSON.stringify(schools));
  await shot(page, 'today-county-zh');
}

async function notices(page) {
  await page.click('button[data-view=notices]');
  await page.waitForSelector('#notices-table tbody tr');
  let rows = await tableText(page, 'notices-table');
  check(rows.length === 1 && rows[0][0] === '未确认' && rows[0][2].includes('W1'),
    'notices: their county\'s, unacknowledged: ' + JSON.stringify(rows));
  await shot(page, 'notices-zh');
  await page.fill('.ack-form input', '已联系学校');
  await page.click('.ack-form button');
  await page.waitForFunction(() => document.querySelector('#notices-table tbody tr td').textContent === '已确认');
  rows = await tableText(page, 'notices-table');
  check(rows[0][5].includes('王科长') && rows[0][5].includes('已联系学校'), 'acknowledged from the page: ' + rows[0][5]);
}

async function figures(page) {
  await page.click('button[data-view=figures]');
  await page.fill('#figures-day', THU);
  await page.click('#figures-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#figures-table tbody tr td') &&
    document.querySelector('#figures-table tbody tr td').textContent === '魏都区' &&
    document.querySelector('#figures-table tbody tr').cells[1].textContent === '2/2');
  let rows = await tableText(page, 'figures-table');
  check(rows.length === 1, 'figures: a county officer starts at their county: ' + JSON.stringify(rows));
  await shot(page, 'figures-county-zh');
  await page.click('#figures-table tbody tr');
  await page.waitForFunction(() => document.querySelector('#figures-table tbody tr td').textContent.includes('('));
  rows = await tableText(page, 'figures-table');
  const api = await page.evaluate(async (d) => (await fetch('/api/v1/figures?level=school&day=' + d)).json(), THU);
  const want = api.rows.map((r) => [`${r.school.name} (${r.school.code})`, r.illness_per_1000 == null ? '' : r.illness_per_1000.toFixed(1)]);
  /* the column of illness per 1,000, found by its key (columns come and go) */
  const per1000 = await page.evaluate(() => [...document.querySelectorAll('#figures-table thead th')]
    .findIndex((th) => th.dataset.k === 'per1000'));
  check(JSON.stringify(rows.map((r) => [r[0], r[per1000]])) === JSON.stringify(want) &&
    rows[0][0].includes('W2'), 'a click: the county\'s schools, highest illness rate first, as the API: ' +
    JSON.stringify(rows.map((r) => [r[0], r[per1000]])));
  await shot(page, 'figures-schools-zh');
  await page.click('#figures-table th[data-k=unit]');
  rows = await tableText(page, 'figures-table');
  const units = rows.map((r) => r[0]);
  check(JSON.stringify(units) === JSON.stringify([...units].sort((a, b) => a.localeCompare(b, 'zh-CN'))) &&
    units[0] !== want[0][0], 'sorted by a heading: ' + units);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#figures-csv')]);
  const text = fs.readFileSync(await dl.path());
  const lines = text.toString('utf8').trim().split('\r\n');
  check(text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf && lines.length === rows.length + 1 &&
    lines[1].includes('W2') && dl.suggestedFilename().endsWith('.csv'),
    'the figures\' CSV: a BOM, the table\'s rows, highest illness first (' + dl.suggestedFilename() + ')');
}

async function trends(page) {
  await page.click('button[data-view=trends]');
  await page.fill('#trends-to', THU);
  await page.fill('#trends-school', 'W1');
  await page.click('#trends-form button[type=submit]');
  await page.waitForSelector('svg.chart[data-chart=fever_screens] circle');
  const api = await page.evaluate(async (d) => (await fetch('/api/v1/trends?days=30&level=school&school=W1&to=' + d)).json(), THU);
  for (const [chart, get] of [['fever_screens', (r) => r.fevers && r.fevers.screens],
    ['check_rate', (r) => r.checks && r.checks.morning.rate], ['per1000', (r) => r.illness_per_1000]]) {
    const pts = await page.$$eval(`svg.chart[data-chart=${chart}] circle`,
      (cs) => cs.map((c) => [c.dataset.day, Number(c.dataset.value)]));
    const want = api.rows.filter((r) => get(r) != null).map((r) => [r.day, get(r)]);
    check(pts.length > 0 && JSON.stringify(pts) === JSON.stringify(want),
      `the ${chart} chart's points are the API's numbers (${pts.length} points)`);
  }
  const ys = await page.$$eval('svg.chart[data-chart=fever_screens] circle', (cs) => cs.map((c) => Number(c.getAttribute('cy'))));
  check(ys[1] < ys[2] && ys[1] < ys[0], 'the highest value is drawn highest (5 screens on 2026-12-01)');
  await page.hover('svg.chart[data-chart=fever_screens] circle[data-day="2026-12-01"]');
  await page.waitForSelector('#trends-tip:not([hidden])');
  const tip = await page.textContent('#trends-tip');
  check(tip.includes('2026-12-01') && tip.includes(': 5'), 'hovering a point shows its values: ' + tip);
  await shot(page, 'trends-school-zh');
  const href = await page.getAttribute('#trends-csv', 'href');
  check(href.startsWith('/api/v1/trends.csv?') && href.includes('school=W1'), 'the trend\'s CSV link: ' + href);
  await page.fill('#trends-school', '');
  await page.click('#trends-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#trends-head').textContent.includes('魏都区'));
  await shot(page, 'trends-county-zh');
}

async function liveNotices(page) {
  await page.click('button[data-view=notices]');
  await page.waitForSelector('#notices-table tbody tr');
  const before = (await tableText(page, 'notices-table')).length;
  await page.evaluate(() => { window.__same_page = true; });
  await L.sleep(1500); /* the stream is open and has its first state */
  fs.writeFileSync(path.join(SIGNALS, 'send-1'), '');
  const t0 = Date.now();
  const came = await L.waitUntil(async () => (await tableText(page, 'notices-table')).length === before + 1, 10000);
  const rows = await tableText(page, 'notices-table');
  const done = fs.existsSync(path.join(SIGNALS, 'done-1')) ? fs.readFileSync(path.join(SIGNALS, 'done-1'), 'utf8') : '';
  check(came && rows[0][0] === '未确认' && await page.evaluate(() => window.__same_page === true),
    `a notice uploaded with the page open appears without a reload, unacknowledged first (${Date.now() - t0} ms; upload ${done.slice(0, 3)})`);
  await shot(page, 'notices-live-zh');
}

async function english(page) {
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  check((await page.textContent('h1')).startsWith('Education bureau'), 'English on request');
  await shot(page, 'notices-en');
  for (const v of ['figures', 'trends']) {
    await page.click(`button[data-view=${v}]`);
    await page.waitForSelector(`#${v}:not([hidden])`);
    await L.sleep(300);
    await shot(page, v + '-en');
  }
  await page.click('button[data-view=today]');
  await showDay(page);
  await shot(page, 'today-county-en');
  await page.reload();
  await page.waitForSelector('#app-view:not([hidden])');
  check(await page.evaluate(() => document.documentElement.lang) === 'en', 'the language is remembered');
  await page.click('#lang'); /* back to zh-CN for the next pages */
}

async function phone(ctx) {
  const page = watch(await ctx.newPage(), 'phone');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(URL);
  await page.waitForSelector('#app-view:not([hidden])');
  await showDay(page);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 0, 'a phone: the page itself does not scroll sideways (' + wide + ' px)');
  await shot(page, 'today-phone');
  for (const v of ['figures', 'trends', 'notices']) {
    await page.click(`button[data-view=${v}]`);
    await page.waitForSelector(`#${v}:not([hidden])`);
    if (v === 'figures') await page.waitForSelector('#figures-table tbody tr');
    if (v === 'trends') await page.waitForSelector('svg.chart');
    const w = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(w <= 0, `a phone: ${v} does not scroll sideways (${w} px)`);
    await shot(page, v + '-phone');
  }
  await page.close();
}

async function city(page) {
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  await login(page, 'city1', USERS.city1);
  await page.waitForSelector('#app-view:not([hidden])');
  await showDay(page);
  const counties = (await tableText(page, 'today-counties')).map((r) => r[0]).sort();
  check(JSON.stringify(counties) === JSON.stringify(['建安区', '魏都区']), 'the city officer sees both counties: ' + counties);
  await shot(page, 'today-city-zh');
  await page.click('button[data-view=figures]');
  await page.fill('#figures-day', THU);
  await page.click('#figures-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#figures-table tbody tr td') &&
    document.querySelector('#figures-table tbody tr td').textContent === '全市');
  await shot(page, 'figures-city-zh');
  await page.click('#figures-table tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('#figures-table tbody tr').length === 2);
  const cs = (await tableText(page, 'figures-table')).map((r) => r[0]);
  check(JSON.stringify(cs) === JSON.stringify(['魏都区', '建安区']), 'the city\'s counties, highest illness rate first: ' + cs);
  await shot(page, 'figures-counties-zh');
  await page.click('button[data-view=trends]');
  await page.waitForSelector('svg.chart circle');
  await shot(page, 'trends-city-zh');
}

async function admin(page) {
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  await login(page, 'admin1', USERS.admin1);
  await page.waitForSelector('#users-tab:not([hidden])');
  await page.click('#users-tab');
  await page.waitForSelector('#users-table tbody tr');
  await page.fill('#user-name', '孙科长');
  await page.selectOption('#user-role', 'county');
  await page.fill('#user-county', '建安区');
  await page.fill('#user-password', 'sun-password-1');
  await page.click('#user-form button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#users-table tbody tr')]
    .some((r) => r.cells[0].textContent === '孙科长'));
  let rows = await tableText(page, 'users-table');
  const sun = rows.find((r) => r[0] === '孙科长');
  check(sun && sun[1] === '区县' && sun[2] === '建安区' && sun[3] === '启用', 'a user added on the page: ' + JSON.stringify(sun));
  await shot(page, 'users-zh');
  await page.click('#users-table tbody tr:has(td:text-is("孙科长")) button');
  await page.waitForFunction(() => [...document.querySelectorAll('#users-table tbody tr')]
    .some((r) => r.cells[0].textContent === '孙科长' && r.cells[3].textContent === '停用'));
  check(true, 'and disabled there');
  const api = await page.evaluate(async () => (await fetch('/api/v1/users')).json());
  check(api.users.some((u) => u.name === '孙科长' && u.active === false), 'the API agrees');
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const dir = L.scratch();
  const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(dir, 'chromium-')), {
    executablePath: process.env.GS_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--ignore-certificate-errors-spki-list=' + spki(process.env.GS_BPAGE_SERVER_CERT)],
    ignoreHTTPSErrors: false,
    viewport: { width: 1280, height: 900 },
    locale: 'zh-CN',
  });
  try {
    const page = watch(await ctx.newPage(), 'bureau');
    await countyOfficer(page);
    await notices(page);
    await figures(page);
    await trends(page);
    await liveNotices(page);
    await english(page);
    await phone(ctx);
    await city(page);
    await admin(page);
    check(problems.length === 0, 'no script error, CSP violation or dialog: ' + JSON.stringify(problems));
  } catch (e) {
    check(false, 'the scenario ran to its end: ' + (e.stack || e));
  } finally {
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(L.finish());
}

main();
