/* The paper registers and the trends (issue 19), in headless Chromium against the
 * real gatescreend over HTTPS (no gate devices: the ledger is seeded with ten days
 * of checks, absences and fever screens through the sqlite3 CLI).
 *
 * Registers: the day's 晨午检 and 因病缺勤 registers of a school with two classes,
 * printed to PDF by Chromium (page.pdf, A4): one page per class, one of them of 45
 * pupils (pdfinfo counts them, A4 portrait), the Chinese headings, each class on its own page and the
 * teacher's signature line (pdftotext); the week: classes × school days so far.
 * The CSV has the BOM, the Chinese header, one row per pupil and a name that looks
 * like a formula guarded. A teacher gets their class only (another is a 403) and
 * no trends. Trends: every point of the five SVG charts has the value the API
 * gives for its series and day; hovering a point shows it; the CSV has the same
 * numbers. PDFs and screenshots go to $GS_ARTIFACTS. About 15 s. */
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const L = require('./lib');
const { check } = L;

const ARTIFACTS = L.ARTIFACTS;
const PASSWORD = 'correct horse battery';
const C1 = '一年级1班';
const C2 = '一年级2班';

const ROSTER = [
  'external_id,kind,name,grade,class,card,active',
  'S1,student,张三,一年级,' + C1 + ',1001,1',
  'S2,student,李四,一年级,' + C1 + ',1002,1',
  'S3,student,王五,一年级,' + C1 + ',1003,1',
  'S4,student,赵六,一年级,' + C2 + ',1004,1',
  'S5,student,=1+1,一年级,' + C2 + ',1005,1',
  'T1,teacher,吴老师,,' + C1 + ',2001,1',
].concat(Array.from({ length: 43 }, (_, i) => 'S' + (10 + i) + ',student,学生' + (10 + i) + ',一年级,' + C2 + ',' +
  (3010 + i) + ',1'), ['']).join('\n');
/* 48 pupils: 3 in C1, 45 in C2 (a full class must still print on one page). */
const PUPILS = 48;
const RATE = Math.floor((PUPILS - 1) * 1000 / PUPILS); /* today S2 is absent */

function config(p) {
  return `[school]
code = REG
name = 测试学校
timezone = ${p.zone}

[ledger]
database = ledger.db

[windows]
morning = 07:00-08:00
days = mon-sun

[web]
enabled = yes
listen = 127.0.0.1
port = ${p.webPort}
tls_cert = ${p.certs.server}
tls_key = ${p.certs['server.key']}
`;
}

/* Ten days of records, day 0 being today: everyone checked in the morning except
 * the absent and S3 on leave yesterday; S2 ill on days 0 and 3 (fever, cough), S4 ill on day 1 (diarrhoea),
 * S5 away on personal grounds on day 2; fever screens: S1 today (confirmed), two on
 * day 4. */
function seed(p) {
  const absent = { 0: ['S2'], 1: ['S4'], 2: ['S5'], 3: ['S2'] };
  const leave = { 1: ['S3'] };
  const sql = [];
  p.days = [];
  for (let i = 0; i < 10; i++) {
    const day = L.isoDay(L.addMinutes(p.local, -i * 24 * 60));
    p.days.push(day);
    const away = absent[i] || [];
    for (const v of leave[i] || []) sql.push(`INSERT INTO leaves (person_id, from_day, to_day, reason, at_ms)
      SELECT id, '${day}', '${day}', 'family', 1 FROM people WHERE external_id = '${v}';`);
    sql.push(`INSERT INTO checks (person_id, day, window, temp_centi, threshold_centi, instrument, at_ms)
      SELECT id, '${day}', 'morning', CASE WHEN external_id = 'S1' AND ${i} = 0 THEN 3790 ELSE 3650 + ${i} END,
             3730, 'gate', 1 FROM people WHERE kind = 'student'
             AND external_id NOT IN (${away.concat(leave[i] || []).map((a) => "'" + a + "'").join(',') || "''"});`);
    if (i === 0) sql.push(`INSERT INTO checks (person_id, day, window, temp_centi, threshold_centi, instrument, at_ms)
      SELECT id, '${day}', 'noon', 3660, 3730, 'ear', 1 FROM people WHERE external_id IN ('S1', 'S3');`);
    for (const a of away) {
      const ill = a !== 'S5';
      sql.push(`INSERT INTO absences (person_id, day, cause, symptoms, onset_day, clinic_visit, recorded_ms)
        SELECT id, '${day}', '${ill ? 'illness' : 'personal'}', '${ill ? (a === 'S2' ? 'fever,cough' : 'diarrhoea') : ''}',
               ${ill ? "'" + day + "'" : 'NULL'}, ${ill ? 1 : 'NULL'}, 1 FROM people WHERE external_id = '${a}';`);
    }
  }
  const flag = (who, i, state) => sql.push(`INSERT INTO flags (person_id, opened_ms, day, screen_centi, threshold_centi, state)
    SELECT id, 1, '${p.days[i]}', 3790, 3730, '${state}' FROM people WHERE external_id = '${who}';`);
  /* S4 left at noon today and did not come back (what the noon sweep writes: 午检缺勤). */
  sql.push(`INSERT INTO part_absences (person_id, day, part, recorded_ms)
    SELECT id, '${p.days[0]}', 'noon', 1 FROM people WHERE external_id = 'S4';`);
  flag('S1', 0, 'confirmed');
  flag('S3', 4, 'cleared');
  flag('S4', 4, 'open');
  L.sql(p.db, sql.join('\n'));
}

async function prepare() {
  const dir = L.scratch();
  const zl = L.schoolZone(10);
  const p = { dir: dir, zone: zl.zone, local: zl.local, certs: L.makeCerts(path.join(dir, 'certs')),
    webPort: await L.freePort() };
  p.conf = path.join(dir, 'gatescreen.conf');
  p.db = path.join(dir, 'ledger.db');
  p.base = 'https://127.0.0.1:' + p.webPort;
  fs.writeFileSync(p.conf, config(p));
  fs.writeFileSync(path.join(dir, 'roster.csv'), ROSTER);
  let r = L.cli(p.conf, ['roster', 'import', path.join(dir, 'roster.csv')]);
  check(r.code === 0, 'roster imported ' + r.err.trim());
  seed(p);
  for (const u of [['nurse1', 'nurse'], ['teacher2', 'teacher', C2]]) {
    r = L.cli(p.conf, ['user', 'add', u[0], '--role', u[1]].concat(u[2] ? ['--class', u[2]] : []),
      PASSWORD + '\n');
    check(r.code === 0, 'user ' + u[0] + ' added ' + r.err.trim());
  }
  return p;
}

const problems = [];

function login(page, p, name) { return L.login(page, p.base, name, PASSWORD); }

/* GET from inside the page (its session cookie): {status, text}. */
function fetchText(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u);
    /* ignoreBOM: keep the BOM in the text, to check that it is there */
    return { status: r.status, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(await r.arrayBuffer()) };
  }, url);
}

async function fetchJson(page, url) {
  const r = await fetchText(page, url);
  return { status: r.status, body: r.status === 200 ? JSON.parse(r.text) : null };
}

const { pdfPages, pdfText } = L;

async function printRegisters(page, p, span, name) {
  const file = await L.printRegisters(page, p.base, { span: span }, path.join(ARTIFACTS, name + '.pdf'));
  console.log('# pdf ' + file);
  return file;
}

async function registers(page, p) {
  const api = await fetchJson(page, '/api/v1/registers');
  check(api.status === 200 && api.body.pages.length === 2, 'the day\'s registers: one page per class (API: ' +
    (api.body ? api.body.pages.length : api.status) + ')');
  const day = await printRegisters(page, p, 'day', 'register-day');
  await L.shot(page, ARTIFACTS, 'registers-day');
  const info = pdfPages(day);
  check(info.pages === 2, 'the printed day has 2 pages, one per class (PDF: ' + info.pages + ') ' + info.err);
  check(Math.abs(info.w - 595) < 2 && Math.abs(info.h - 842) < 2, 'A4 portrait (' + info.w + ' x ' + info.h + ' pt)');
  const all = pdfText(day);
  for (const s of ['晨午检登记表', '因病缺勤登记表', '班主任签名', '测试学校', '张三', '发热、咳嗽'])
    check(all.indexOf(s) >= 0, 'the PDF says ' + s);
  const one = pdfText(day, 1), two = pdfText(day, 2);
  check(one.indexOf(C1) >= 0 && one.indexOf(C2) < 0 && two.indexOf(C2) >= 0 && two.indexOf(C1) < 0,
    'page 1 is ' + C1 + ', page 2 is ' + C2);
  check(two.indexOf('午检缺勤') >= 0 && one.indexOf('午检缺勤') < 0,
    'the noon column says 午检缺勤 on ' + C2 + '\'s page (S4, swept at noon), nowhere on ' + C1 + '\'s');
  const week = await printRegisters(page, p, 'week', 'register-week');
  const wapi = await fetchJson(page, '/api/v1/registers?span=week');
  const ndays = wapi.body ? wapi.body.dates.length : -1;
  const winfo = pdfPages(week);
  check(ndays >= 1 && winfo.pages === 2 * ndays, 'the printed week has classes × days pages (' +
    winfo.pages + ' = 2 × ' + ndays + ')');
  const y = await fetchJson(page, '/api/v1/registers?class=' + encodeURIComponent(C1) + '&date=' + p.days[1]);
  const att = y.body ? y.body.pages[0].students.map((s) => s.id + ':' + s.attendance).join(' ') : y.status;
  check(att === 'S1:present S2:present S3:leave', 'yesterday in ' + C1 + ': ' + att);
  const bad = await fetchText(page, '/api/v1/registers?span=month');
  check(bad.status === 400 && bad.text.indexOf('span must be day or week') >= 0, 'span=month is a 400 naming span');
  const badDays = await fetchText(page, '/api/v1/trends?days=0');
  check(badDays.status === 400 && badDays.text.indexOf('days must be') >= 0, 'trends days=0 is a 400 naming days');
  const csv = await fetchText(page, '/api/v1/export/registers.csv');
  const lines = csv.text.split('\r\n').filter(Boolean);
  check(csv.status === 200 && csv.text.startsWith('\ufeff日期,班级,学号,姓名,晨检体温,午检体温,出勤'),
    'registers CSV: BOM and Chinese header');
  check(lines.length === PUPILS + 1, 'registers CSV: one row per pupil (' + (lines.length - 1) + ')');
  check(lines.some((l) => l.indexOf(',S2,李四,,,缺勤,因病,发热、咳嗽,') > 0), 'registers CSV: S2 absent ill, symptoms in Chinese');
  check(lines.some((l) => l.indexOf(',S5,\'=1+1,') > 0), 'registers CSV: a formula-like name is guarded');
}

async function teacher(page, p) {
  await login(page, p, 'teacher2');
  const own = await fetchJson(page, '/api/v1/registers');
  check(own.status === 200 && own.body.pages.length === 1 && own.body.pages[0].class === C2,
    'a teacher\'s registers are their class only');
  const other = await fetchText(page, '/api/v1/registers?class=' + encodeURIComponent(C1));
  check(other.status === 403, 'another class is a 403 (' + other.status + ')');
  const tr = await fetchText(page, '/api/v1/trends');
  check(tr.status === 403, 'a teacher gets no trends (' + tr.status + ')');
  check(!(await page.locator('#nav a[data-route=trends]').isVisible()), 'nor the Trends link');
}

/* Every point of a chart against the API's series. */
async function chartMatches(page, chartId, seriesOf) {
  const pts = await page.locator('#' + chartId + ' circle').evaluateAll((cs) => cs.map((c) => ({
    s: c.dataset.series, i: Number(c.dataset.index), v: Number(c.dataset.value) })));
  let expected = 0;
  const bad = pts.filter((pt) => seriesOf(pt.s)[pt.i] !== pt.v);
  Object.keys(seriesOf.all).forEach((k) => { expected += seriesOf.all[k].filter((v) => v !== null).length; });
  return { n: pts.length, bad: bad.length, expected: expected };
}

async function trends(page, p) {
  await page.goto(p.base + '/#/trends');
  await page.locator('#chart-rate circle').first().waitFor({ timeout: 10000 });
  const api = (await fetchJson(page, '/api/v1/trends')).body;
  check(api && api.dates.length === 30 && api.dates[29] === p.days[0], 'trends: 30 days up to today');
  check(api.series.check_rate_permille[29] === RATE && api.series.fever_screens[25] === 2 &&
    api.series.illness_absences[29] === 1, 'trends API: today 97.9% checked, 2 screens 4 days ago, 1 ill today');
  check(api.series.noon_absences[29] === 1 && api.series.noon_absences[28] === 0 &&
    api.series.evening_absences.every((v) => v === 0), 'trends API: S4\'s noon absence today');
  const byClass = {};
  api.classes.forEach((c) => { byClass['class:' + c.class] = c.illness_absences; });
  check(byClass['class:' + C1] && byClass['class:' + C1][29] === 1 && byClass['class:' + C2][28] === 1,
    'trends API: illness by class');
  const sym = {};
  Object.keys(api.symptoms).filter((k) => api.symptoms[k].some((v) => v))
    .forEach((k) => { sym['symptom:' + k] = api.symptoms[k]; });
  const charts = [
    ['chart-rate', { check_rate_permille: api.series.check_rate_permille }],
    ['chart-fever', { fever_screens: api.series.fever_screens, fever_confirmed: api.series.fever_confirmed }],
    ['chart-parts', { noon_absences: api.series.noon_absences, evening_absences: api.series.evening_absences }],
    ['chart-class', byClass],
    ['chart-symptom', sym],
  ];
  for (const [id, series] of charts) {
    const of = (s) => series[s] || [];
    of.all = series;
    const r = await chartMatches(page, id, of);
    check(r.n > 0 && r.bad === 0 && r.n === r.expected, id + ': its ' + r.n + ' points are the API\'s numbers (' +
      r.bad + ' differ, ' + r.expected + ' expected)');
  }
  const last = page.locator('#chart-rate circle[data-index="29"]');
  await last.hover();
  const tip = await page.locator('#chart-rate .chart-tip').textContent();
  check(tip === p.days[0] + ' · 晨检率: 97.9%', 'hovering today\'s point shows its values (' + tip + ')');
  await L.shot(page, ARTIFACTS, 'trends-zh');
  await page.locator('#lang').click();
  await page.locator('h1:has-text("Last 30 days")').waitFor({ timeout: 5000 });
  await L.shot(page, ARTIFACTS, 'trends-en');
  await page.goto(p.base + '/#/registers');
  await page.locator('.register-page').first().waitFor({ timeout: 10000 });
  const h2 = await page.locator('.register-page h2').first().textContent();
  check(h2.indexOf('晨午检及因病缺勤登记表') >= 0 && await page.locator('#register-print').textContent() ===
    'Print (A4 portrait, one class a page)', 'in English the controls are English, the register stays Chinese');
  await page.locator('#lang').click();
  const csv = await fetchText(page, '/api/v1/export/trends.csv');
  const lines = csv.text.split('\r\n').filter(Boolean);
  const head = lines[0].replace('\ufeff', '').split(',');
  const today = lines[30] ? lines[30].split(',') : [];
  check(csv.text.startsWith('\ufeffdate,expected,morning_checked,check_rate_permille') && lines.length === 31,
    'trends CSV: BOM, header and 30 days');
  check(today[0] === p.days[0] && today[head.indexOf('check_rate_permille')] === String(RATE) &&
    today[head.indexOf('fever_screens')] === '1' && today[head.indexOf('illness_absences.' + C1)] === '1',
    'trends CSV: today\'s numbers are the API\'s');
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const p = await prepare();
  const daemon = new L.Proc(path.join(L.BUILD, 'gatescreend'), ['-f', '-c', p.conf], p.conf + '.log');
  check(await daemon.waitFor('web: serving HTTPS', 15000), 'daemon serves HTTPS');
  const ctx = await L.launch(chromium, p);
  try {
    const page = L.watch(await ctx.newPage(), 'registers', problems);
    await login(page, p, 'nurse1');
    await registers(page, p);
    await trends(page, p);
    await page.locator('#logout').click();
    await teacher(page, p);
  } catch (e) {
    check(false, 'the scenario ran to its end: ' + (e.stack || e));
  } finally {
    await ctx.close();
    await daemon.stop('SIGTERM', 10000);
  }
  check(problems.length === 0, 'no script error, CSP violation or dialog' +
    (problems.length ? ': ' + problems.join(' | ') : ''));
  const rc = L.finish();
  if (rc === 0) fs.rmSync(p.dir, { recursive: true, force: true }); /* kept to look into when failed */
  process.exit(rc);
}

main();
