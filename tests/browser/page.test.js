/* The nurse and gate page in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core; no browser download), against the real gatescreend
 * over HTTPS with the test CA's certificate, the real gatescreen-sim over Modbus
 * TCP and users made with `gatescreen user add`.
 *
 * A school morning (issue 7): log in; a fever arrival appears on Gates and on
 * Today without a reload; a recheck confirms it, the referral gets its outcome;
 * an absence gets its cause and symptoms (which opens a cluster alert, closed
 * from the page); a pupil back after illness is amber "see the nurse" until the
 * certificate recorded on the page, then admitted; the CSV downloads have a BOM,
 * a header and the day's rows; a roster name "<script>…" shows as text; the
 * language switch is remembered; the gate role sees the gates only, without
 * names or temperatures; the daemon stops promptly with an event stream open.
 *
 * Screenshots of every page go to $GS_ARTIFACTS (printed at the start and end). */
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const L = require('./lib');
const { check } = L;

const ARTIFACTS = L.ARTIFACTS;
const SCRIPT_NAME = '<script>alert(1)</script>';
const PASSWORD = 'correct horse battery';

const ROSTER = [
  'external_id,kind,name,grade,class,card,active',
  'S1,student,张三,一年级,一年级1班,1001,1',
  'S2,student,李四,一年级,一年级1班,1002,1',
  'S4,student,赵六,一年级,一年级2班,1004,1',
  'S7,student,周九,一年级,一年级1班,1007,1',
  'S9,student,' + SCRIPT_NAME + ',一年级,一年级1班,1009,1',
  'T1,teacher,吴老师,,一年级1班,2001,1',
  '',
].join('\n');

/* Two lanes on one simulated Modbus TCP gateway; short holds so the test moves
 * fast; two illness cases in a class in a day open a cluster alert. */
function config(p) {
  return `[school]
code = WEB
name = 测试学校
timezone = ${p.zone}

[ledger]
database = ledger.db

[daemon]
indicator_log = lights.log

[windows]
morning = ${L.hhmm(L.addMinutes(p.local, -5))}-${L.hhmm(L.addMinutes(p.local, 60))}
days = mon-sun

[screening]
threshold = 37.3
pair_window = 2s
hold_admit = 300ms
hold_fever = 1500ms
buzzer = 500ms
hold_invalid = 400ms
hold_deny = 400ms
hold_nurse = 400ms
hold_no_measurement = 400ms
cluster_day_cases = 2

[web]
enabled = yes
listen = 127.0.0.1
port = ${p.webPort}
tls_cert = ${p.certs.server}
tls_key = ${p.certs['server.key']}

[bus gw]
tcp = 127.0.0.1:${p.busPort}
response_timeout = 200ms
retry_max = 1s

[lane a]
gate = 东门
indicator = test
[lane b]
gate = 北门
indicator = test

[device ir-a]
bus = gw
unit = 1
poll = 50ms
lane = a

[device ir-b]
bus = gw
unit = 2
poll = 50ms
lane = b

[terminals]
listen = 127.0.0.1:${p.termPort}
max_clock_skew = 30s

[lane t]
gate = 西门
indicator = test

[terminal zk-t]
kind = zkteco-adms
address = 127.0.0.9
serial = BRADMS0001
lane = t

[grade 一年级]
slot = ${L.hhmm(L.addMinutes(p.local, -5))}-${L.hhmm(L.addMinutes(p.local, 20))}
`;
}

/* ---- the school ------------------------------------------------------------------- */

async function prepare() {
  const dir = L.scratch();
  const zl = L.schoolZone(9);
  const p = { dir: dir, zone: zl.zone, local: zl.local, today: L.isoDay(zl.local),
    yesterday: L.isoDay(L.addMinutes(zl.local, -24 * 60)), certs: L.makeCerts(path.join(dir, 'certs')),
    webPort: await L.freePort(), busPort: await L.freePort(), termPort: await L.freePort() };
  p.conf = path.join(dir, 'gatescreen.conf');
  p.db = path.join(dir, 'ledger.db');
  p.base = 'https://127.0.0.1:' + p.webPort;
  fs.writeFileSync(p.conf, config(p));
  fs.writeFileSync(path.join(dir, 'roster.csv'), ROSTER);
  let r = L.cli(p.conf, ['roster', 'import', path.join(dir, 'roster.csv')]);
  check(r.code === 0, 'roster imported ' + r.err.trim());
  /* S4 was off ill yesterday: back today, amber "see the nurse" until a certificate. */
  r = L.cli(p.conf, ['absence', 'S4', '--date', p.yesterday, '--cause', 'illness', '--by', 'nurse']);
  check(r.code === 0, 'S4 absent ill yesterday ' + r.err.trim());
  /* S7 is absent today and nobody knows why yet (what the absence sweep writes). */
  L.sql(p.db, "INSERT INTO absences (person_id, day, cause, recorded_ms) SELECT id, '" +
    p.today + "', 'unknown', 1 FROM people WHERE external_id = 'S7'");
  /* S1 left at noon and did not come back (what the noon sweep writes: 午检缺勤). */
  L.sql(p.db, "INSERT INTO part_absences (person_id, day, part, recorded_ms) SELECT id, '" +
    p.today + "', 'noon', 1 FROM people WHERE external_id = 'S1'");
  for (const u of [['nurse1', 'nurse'], ['gate1', 'gate'], ['teacher2', 'teacher', '一年级2班']]) {
    const args = ['user', 'add', u[0], '--role', u[1]].concat(u[2] ? ['--class', u[2]] : []);
    r = L.cli(p.conf, args, PASSWORD + '\n');
    check(r.code === 0, 'user ' + u[0] + ' (' + u[1] + ') added ' + r.err.trim());
  }
  return p;
}

async function startPrograms(p) {
  const sim = new L.Sim(p.conf, ['--adms', 'zk-t', '--adms-heartbeat', '1s']);
  check(await sim.waitFor('ready', 10000), 'simulator ready');
  const daemon = new L.Proc(path.join(L.BUILD, 'gatescreend'), ['-f', '-c', p.conf], p.conf + '.log');
  check(await daemon.waitFor('web: serving HTTPS', 15000), 'daemon serves HTTPS');
  check(await daemon.waitFor('device ir-b: state ok', 15000), 'both devices ok');
  return { sim: sim, daemon: daemon };
}

function launch(p) {
  return L.launch(chromium, p, { acceptDownloads: true });
}

/* ---- page helpers ------------------------------------------------------------------ */

const problems = [];   /* script errors, CSP violations, dialogs: none expected */

function watch(page, name) { return L.watch(page, name, problems); }

function shot(page, name) { return L.shot(page, ARTIFACTS, name); }

/* Only the front tab renders frames, and Playwright waits for frames before it
 * clicks: the page acted on comes to the front first. */
async function front(page) {
  await page.bringToFront();
  return page;
}

async function visible(page, selector, timeout) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: timeout || 10000 });
    return true;
  } catch (e) {
    return false;
  }
}

async function gone(page, selector, timeout) {
  try {
    await page.locator(selector).first().waitFor({ state: 'detached', timeout: timeout || 10000 });
    return true;
  } catch (e) {
    return false;
  }
}

/* Whether the page says `expected` as a success (a message of an earlier action
 * may still be up: wait for this one). */
async function said(page, expected) {
  if (await visible(page, '#msg.ok:has-text("' + expected + '")', 10000)) return true;
  console.log('# message shown: ' + await page.locator('#msg').textContent().catch(() => ''));
  return false;
}

async function login(page, p, name) {
  if (!(await page.locator('#login').isVisible())) await page.goto(p.base + '/');
  await page.locator('#login input[name=name]').fill(name);
  await page.locator('#login input[name=password]').fill(PASSWORD);
  await page.locator('#login button[type=submit]').click();
}

/* ---- the scenario ---------------------------------------------------------------------- */

async function loginPage(page, p) {
  await page.goto(p.base + '/');
  check(await visible(page, '#login'), 'the page opens on the login form (HTTPS, test CA key trusted)');
  check(await page.locator('html').getAttribute('lang') === 'zh-CN', 'Chinese by default');
  check((await page.locator('#login h1').textContent()) === '登录', 'login title in Chinese');
  await shot(page, '01-login');
  await page.locator('#login input[name=name]').fill('nurse1');
  await page.locator('#login input[name=password]').fill('wrong password!');
  await page.locator('#login button[type=submit]').click();
  check(await visible(page, '#login .status:text("用户名或密码错误")'), 'a wrong password is said so');
  await login(page, p, 'nurse1');
  check(await visible(page, '#queue'), 'the nurse lands on Today');
  check(page.url().endsWith('#/today'), 'at #/today');
  check(await visible(page, '#absences tr[data-person="S7"]'), 'S7\'s absence without a cause is listed');
  const noon = page.locator('#part_absences tr[data-person="S1"][data-part="noon"]');
  check(await visible(page, '#part_absences tr[data-person="S1"][data-part="noon"]') &&
    (await noon.textContent()).includes('午检缺勤'), 'S1\'s noon absence is listed in its own section (午检缺勤)');
  await shot(page, '02-today');
}

async function feverArrives(today, gates, sim) {
  await gates.goto(today.url().replace(/#.*/, '#/gates'));
  check(await visible(gates, 'article[data-lane="b"][data-lamp="off"]'), 'Gates shows lane b, lamp off');
  check(await visible(gates, '#live.on'), 'the event stream is live');
  /* 错峰上学: 一年级's arrival slot is now (issue 19). */
  const slot = gates.locator('#slots tr[data-group="一年级"][data-state="due"]');
  check(await visible(gates, '#slots tr[data-group="一年级"][data-state="due"]'),
    'Gates lists the arrival slot of 一年级 as due now');
  const slotText = await slot.textContent();
  check(slotText.includes('进行中') && / \/ 5/.test(slotText),
    'the slot row says due now and of how many expected: ' + slotText);
  check(await sim.cmd('arrive ir-b temp=38.20 card=1002') === 'ok', 'sim: S2 arrives with 38.20');
  check(await visible(gates, 'article[data-lane="b"][data-lamp="red"][data-outcome="fever"]'),
    'Gates: lane b turns red for the fever, no reload');
  const card = gates.locator('article[data-lane="b"]');
  const text = await card.textContent();
  check(text.includes('体温异常') && text.includes('S2') && text.includes('38.20'),
    'lane b shows the outcome, who and the temperature: ' + text);
  check(text.includes('每分钟 1 人'), 'people per minute counted');
  const lanes = (await gates.evaluate(() => fetch('/api/v1/gates').then((r) => r.json()))).lanes;
  check(lanes.length === 3 && lanes.every((l) => 'person' in l && 'body_centi' in l),
    'staff get who and the temperature from /api/v1/gates');
  await shot(gates, '03-gates-fever');
  await front(today);
  check(await visible(today, '#flags tr[data-person="S2"]'), 'Today: S2 appears to recheck, no reload');
  await shot(today, '04-today-fever');
  check(await visible(gates, 'article[data-lane="b"][data-outcome="idle"]', 5000),
    'lane b back to idle after the hold');
}

async function recheckAndReferral(page, p) {
  const row = page.locator('#flags tr[data-person="S2"]');
  await row.locator('input[name=temp]').fill('38.6');
  await row.locator('select[name=instrument]').selectOption('axillary');
  await row.locator('button[type=submit]').click();
  check(await said(page, '复测确认发热'), 'the recheck confirms the fever');
  check(await visible(page, '#referrals tr[data-person="S2"]'), 'S2 now waits for a referral outcome');
  check(await gone(page, '#flags tr[data-person="S2"]'), 'and is no longer to recheck');
  const ref = page.locator('#referrals tr[data-person="S2"]');
  await ref.locator('select[name=outcome]').selectOption('sent_home');
  await ref.locator('button[type=submit]').click();
  check(await said(page, '转诊结果已记录'), 'referral outcome recorded');
  check(await gone(page, '#referrals tr[data-person="S2"]'), 'the referral left the queue');
  const rows = L.sql(p.db, "SELECT f.state, r.outcome FROM flags f JOIN referrals r ON r.flag_id = f.id " +
    "JOIN people x ON x.id = f.person_id WHERE x.external_id = 'S2'");
  check(rows === 'confirmed|sent_home', 'ledger: flag confirmed, referral sent_home (' + rows + ')');
}

async function absenceCause(page, p) {
  const row = page.locator('#absences tr[data-person="S7"]');
  await row.locator('select[name=cause]').selectOption('illness');
  check(await row.locator('.illness').isVisible(), 'an illness asks for symptoms');
  await row.locator('input[name=symptom][value=fever]').check();
  await row.locator('input[name=symptom][value=cough]').check();
  check((await row.locator('.symptoms').textContent()).includes('结膜炎'), 'the fixed symptom list');
  await row.locator('form.absence button[type=submit]').click();
  check(await said(page, '缺勤原因已登记'), 'absence cause recorded');
  check(await gone(page, '#absences tr[data-person="S7"]'), 'the absence left the queue');
  const rows = L.sql(p.db, "SELECT a.cause, a.symptoms FROM absences a JOIN people x ON x.id = a.person_id " +
    "WHERE x.external_id = 'S7' AND a.day = '" + p.today + "'");
  check(rows === 'illness|fever,cough', 'ledger: illness with fever and cough (' + rows + ')');
  /* S2's confirmed fever and S7's illness: two cases in 一年级1班 today. */
  check(await visible(page, '#alerts tr'), 'a cluster alert opened for the class');
  await shot(page, '05-today-alert');
  const alert = page.locator('#alerts tr').nth(1);
  check((await alert.textContent()).includes('一年级1班'), 'the alert names the class');
  await alert.locator('input[name=note]').fill('已通知家长');
  await alert.locator('button[type=submit]').click();
  check(await said(page, '已关闭'), 'alert closed from the page');
  check(L.sql(p.db, 'SELECT count(*) FROM alerts WHERE closed_ms IS NULL') === '0', 'ledger: no alert open');
}

/* The cause of a noon absence: symptoms, no onset, clinic or diagnosis. */
async function partAbsenceCause(page, p) {
  const row = page.locator('#part_absences tr[data-person="S1"]');
  await row.locator('select[name=cause]').selectOption('illness');
  check(await row.locator('.illness').isVisible() &&
    await row.locator('input[name=onset]').count() === 0, 'a noon illness asks for symptoms only');
  await row.locator('input[name=symptom][value=fever]').check();
  await row.locator('form.absence button[type=submit]').click();
  check(await said(page, '缺勤原因已登记'), 'noon absence cause recorded');
  check(await gone(page, '#part_absences tr[data-person="S1"]'), 'the noon absence left the queue');
  const rows = L.sql(p.db, "SELECT a.cause, a.symptoms FROM part_absences a JOIN people x ON " +
    "x.id = a.person_id WHERE x.external_id = 'S1' AND a.day = '" + p.today + "'");
  check(rows === 'illness|fever', 'ledger: the noon absence is illness with fever (' + rows + ')');
}

async function certificate(today, gates, sim, p) {
  await front(gates);
  check(await sim.cmd('arrive ir-a temp=36.40 card=1004') === 'ok', 'sim: S4 back after illness');
  check(await visible(gates, 'article[data-lane="a"][data-lamp="amber"][data-outcome="see_nurse"][data-person="S4"]'),
    'Gates: amber "see the nurse" for S4 (no certificate)');
  await shot(gates, '06-gates-see-nurse');
  await front(today);
  check(await visible(today, '#returns tr[data-person="S4"]'), 'Today: S4 returned without a certificate');
  const row = today.locator('#returns tr[data-person="S4"]');
  await row.locator('input[name=issuer]').fill('社区医院');
  check(await row.locator('input[name=issued]').inputValue() === p.today, 'issued today by default');
  await row.locator('button[type=submit]').click();
  check(await said(today, '复课证明已登记'), 'certificate recorded');
  check(await gone(today, '#returns tr[data-person="S4"]'), 'S4 left the returns list');
  await front(gates);
  await visible(gates, 'article[data-lane="a"][data-outcome="idle"]', 5000);
  check(await sim.cmd('arrive ir-a temp=36.50 card=1004') === 'ok', 'sim: S4 comes through again');
  check(await visible(gates, 'article[data-lane="a"][data-lamp="green"][data-outcome="admit"][data-person="S4"]'),
    'Gates: the lane admits S4 now (green)');
  await shot(gates, '07-gates-admit');
  check((await gates.locator('article[data-lane="a"] .lane-last').textContent()).includes('S4'),
    'the card keeps the last decision');
}

async function offline(gates, sim) {
  check(await sim.cmd('silent ir-b 4s') === 'ok', 'sim: unit b goes silent');
  check(await visible(gates, 'article[data-lane="b"][data-lamp="amber"][data-blink="1"] .lamp.blink', 10000),
    'Gates: lane b blinks amber while its device is offline');
  check(await visible(gates, 'article[data-lane="b"] .badge.offline'), 'device state: offline');
  await shot(gates, '08-gates-offline');
  check(await visible(gates, 'article[data-lane="b"][data-blink="0"] .badge.ok', 15000),
    'lane b steady again when the device answers');
}

/* A ZKTeco terminal (gatescreen-sim --adms) whose clock is an hour behind: its lane says so
 * until a punch on time. */
async function terminalClock(gates, sim) {
  check(await visible(gates, 'article[data-lane="t"] .badge.ok', 10000), 'Gates: terminal zk-t ok');
  check(await sim.cmd('punch zk-t X1 36.6 skew=-3600') === 'ok', 'sim: a punch an hour behind');
  check(await visible(gates, 'article[data-lane="t"] .lane-flags:has-text("-3600")', 10000),
    'Gates: lane t shows its terminal\'s clock off by -3600 s');
  await shot(gates, '09-gates-terminal-clock');
  check(await sim.cmd('punch zk-t X1 36.6') === 'ok', 'sim: a punch on time');
  check(await gone(gates, 'article[data-lane="t"] .lane-flags:has-text("3600")'),
    'Gates: the clock note goes when it is right again');
}

async function moreActions(page) {
  await front(page);
  await page.goto(page.url().replace(/#.*/, '#/today'));
  await page.locator('#manual summary').click();
  const form = page.locator('#manual form');
  await form.locator('input[name=person]').fill('S1');
  await form.locator('select[name=window]').selectOption('noon');
  await form.locator('input[name=temp]').fill('36.7');
  await form.locator('select[name=instrument]').selectOption('ear');
  await form.locator('button[type=submit]').click();
  /* This school has no noon window: the server's 400 is shown with its reason. */
  check(await visible(page, '#manual .status.error:has-text("输入有误")'),
    'a 400 is shown next to the action: ' + await form.locator('.status').textContent());
  await form.locator('select[name=window]').selectOption('morning');
  await form.locator('button[type=submit]').click();
  check(await said(page, '测温已记录'), 'manual check recorded from Today');
  await page.goto(page.url().replace(/#.*/, '#/person/S1'));
  check(await visible(page, '#h-checks td:text("耳温")'), 'S1\'s history has the manual check');
  check(await visible(page, '#h-part_absences td:text("午检缺勤")') &&
    (await page.locator('#h-part_absences').textContent()).includes('发热'),
  'S1\'s history has the noon absence with its cause\'s symptom');
  await page.locator('#actions summary:text("登记请假")').click();
  const leave = page.locator('#actions form.leave');
  await leave.locator('input[name=reason]').fill('家中有事');
  await leave.locator('button[type=submit]').click();
  check(await said(page, '请假已登记'), 'leave recorded from the Person page');
  check(await visible(page, '#h-leave td:text("家中有事")'), 'and shown in the history');
  /* A recheck without an open flag: the ledger refuses (409), said next to the button. */
  await page.locator('#actions summary:text("记录复测")').click();
  const re = page.locator('#actions form.recheck');
  await re.locator('input[name=temp]').fill('36.5');
  await re.locator('button[type=submit]').click();
  check(await visible(page, '#actions form.recheck .status.error:has-text("此操作不适用")'),
    'a 409 is shown next to the action: ' + await re.locator('.status').textContent());
  check(await visible(page, '#msg.error'), 'and on top of the page');
  await re.locator('input[name=temp]').fill('');
  await re.locator('button[type=submit]').click();
  check(await visible(page, '#actions form.recheck .status.error:has-text("30.00")'),
    'a missing temperature is said before anything is sent');
  await shot(page, '09-person-errors');
}

/* Issue 19: S1 put under observation on the page; the gate sends S1 to the nurse;
 * S1's page lists the reading; a visitor with a fever registered on the page is
 * refused and on Today's list. */
async function observation(today, gates, sim, p) {
  await front(today);
  await today.goto(today.url().replace(/#.*/, '#/observe'));
  check(await visible(today, '#observations'), 'Observation page shown');
  await today.locator('#observe-new summary').click();
  const form = today.locator('#observe-new form');
  await form.locator('input[name=person]').fill('S1');
  await form.locator('input[name=days]').fill('0');
  await form.locator('button[type=submit]').click();
  check(await visible(today, '#observe-new .status.error:has-text("1–60")'),
    'a bad number of days is said before anything is sent');
  await form.locator('select[name=reason]').selectOption('close_contact');
  await form.locator('input[name=days]').fill('7');
  await form.locator('input[name=note]').fill('家长同事确诊');
  await form.locator('button[type=submit]').click();
  check(await said(today, '健康观察'), 'S1 put under observation from the page');
  check(await visible(today, '#observations tr[data-person="S1"]'), 'S1 listed under observation');
  await front(gates);
  await visible(gates, 'article[data-lane="a"][data-outcome="idle"]', 5000);
  check(await sim.cmd('arrive ir-a temp=36.50 card=1001') === 'ok', 'sim: S1 arrives');
  check(await visible(gates, 'article[data-lane="a"][data-lamp="amber"][data-outcome="see_nurse"][data-person="S1"]'),
    'Gates: amber "see the nurse" for S1 under observation');
  await front(today);
  await today.goto(today.url().replace(/#.*/, '#/person/S1'));
  check(await visible(today, '#h-observation tbody tr'), 'S1\'s page lists the reading during the observation');
  check((await today.locator('#h-observation').textContent()).includes('36.50'), 'with its temperature');
  await shot(today, '19-person-observation');
  await today.goto(today.url().replace(/#.*/, '#/observe'));
  check((await today.locator('#observations tr[data-person="S1"]').textContent()).includes('密切接触者'),
    'the observation list says why');
  await shot(today, '20-observation');
  /* A parent fetching a sick child, registered by the nurse with a fever. */
  await today.goto(today.url().replace(/#.*/, '#/visitors'));
  const v = today.locator('#visitor-new form');
  await v.locator('input[name=name]').fill('刘女士');
  await v.locator('input[name=phone]').fill('13900001111');
  await v.locator('input[name=reason]').fill('接生病的孩子');
  await v.locator('input[name=host]').fill('一年级1班班主任');
  await v.locator('input[name=approved_by]').fill('李校长');
  await v.locator('input[name=temp]').fill('37.90');
  await v.locator('button[type=submit]').click();
  check(await said(today, '不得入校'), 'a visitor with a fever is refused');
  check((await today.locator('#visitors tbody').textContent()).includes('139****1111'), 'the phone shown masked');
  await today.goto(today.url().replace(/#.*/, '#/today'));
  check(await visible(today, '#visitor-fevers tbody tr.fever'), 'Today lists the refused visitor for the nurse');
  check(L.sql(p.db, "SELECT outcome, temp_centi FROM visitors") === 'refused|3790', 'ledger: refused, 37.90');
}

async function people(page) {
  await page.goto(page.url().replace(/#.*/, '#/person'));
  await page.locator('#search input[name=q]').fill('S9');
  await page.locator('#search button').click();
  check(await visible(page, '#results a.person'), 'search by id finds S9');
  const name = await page.locator('#results .person-name').first().textContent();
  check(name === SCRIPT_NAME, 'the name "<script>…" is shown as text: ' + name);
  const scripts = await page.evaluate(() => document.querySelectorAll('#view script, #view img').length);
  check(scripts === 0, 'no element was made from the name');
  await shot(page, '10-person-search-script-name');
  await page.locator('#search input[name=q]').fill('一年级1班');
  await page.locator('#search button').click();
  check(await visible(page, '#results a[href="#/person/S2"]'), 'search by class finds S2');
  await page.locator('#search input[name=q]').fill('1002');
  await page.locator('#search button').click();
  check(await visible(page, '#results a[href="#/person/S2"]'), 'search by card finds S2');
  await page.locator('#results a[href="#/person/S2"]').click();
  check(await visible(page, '#person h1'), 'S2\'s page opens');
  check((await page.locator('#person h1').textContent()).includes('李四'), 'with the name');
  check(await visible(page, '#h-readings tbody tr'), 'history: the gate reading');
  check(await visible(page, '#h-flags tbody tr'), 'history: the flag');
  check(await visible(page, '#h-referrals tbody tr'), 'history: the referral');
  await shot(page, '11-person-history');
}

async function dayReport(page, p) {
  await page.goto(page.url().replace(/#.*/, '#/day'));
  check(await visible(page, '#figures .figure'), 'Day report: figures shown');
  check(await visible(page, '#exports a.csv[data-kind="checks"]'), 'CSV links shown');
  await shot(page, '12-day-report');
  const csv = {};
  for (const kind of ['checks', 'absences', 'flags']) {
    const [dl] = await Promise.all([page.waitForEvent('download'),
      page.locator('#exports a.csv[data-kind="' + kind + '"]').click()]);
    const file = path.join(ARTIFACTS, kind + '.csv');
    await dl.saveAs(file);
    csv[kind] = fs.readFileSync(file);
  }
  for (const kind in csv) {
    const b = csv[kind];
    check(b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf, kind + '.csv starts with the UTF-8 BOM');
    const lines = b.slice(3).toString('utf8').split(/\r?\n/).filter(Boolean);
    check(lines.length >= 2 && lines[0].includes(','), kind + '.csv: a header and rows (' + lines.length + ' lines)');
  }
  const text = (k) => csv[k].slice(3).toString('utf8');
  check(text('checks').includes('李四') && text('checks').includes('S2'), 'checks.csv has S2 李四');
  check(text('absences').includes('周九') && text('absences').includes('illness'), 'absences.csv has S7\'s illness');
  check(text('flags').includes('S2'), 'flags.csv has S2\'s flag');
}

async function language(page) {
  const keys = await page.evaluate(() => [window.GS_I18N.keys('zh-CN'), window.GS_I18N.keys('en')]);
  const missing = keys[0].filter((k) => !keys[1].includes(k)).concat(keys[1].filter((k) => !keys[0].includes(k)));
  check(keys[0].length > 100 && missing.length === 0,
    'every label exists in both languages (' + keys[0].length + ' labels; missing ' + missing + ')');
  await page.locator('#lang').click();
  check(await visible(page, '#nav a[data-route="today"]:text("Today")'), 'English after the switch');
  check(await page.locator('html').getAttribute('lang') === 'en', 'html lang follows');
  await page.reload();
  check(await visible(page, '#figures h2:text("Figures")'), 'the choice is remembered after a reload');
  await shot(page, '13-day-report-en');
  await page.goto(page.url().replace(/#.*/, '#/today'));
  check(await visible(page, '#flags h2:text("Screens to recheck")'), 'Today in English');
  await shot(page, '14-today-en');
  await page.goto(page.url().replace(/#.*/, '#/gates'));
  check(await visible(page, 'article[data-lane="a"] .lane-outcome'), 'Gates in English');
  await shot(page, '15-gates-en');
  await page.locator('#lang').click();
  check(await visible(page, '#nav a[data-route="today"]:text("今日待办")'), 'and back to Chinese');
}

async function phone(ctx, p) {
  const page = watch(await ctx.newPage(), 'phone');
  await front(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(p.base + '/#/gates');
  check(await visible(page, 'article[data-lane="a"]'), 'Gates on a phone-sized screen');
  await shot(page, '16-phone-gates');
  await page.goto(p.base + '/#/today');
  check(await visible(page, '#queue'), 'Today on a phone-sized screen');
  await shot(page, '17-phone-today');
  await page.close();
}

async function otherRoles(page, p) {
  await front(page);
  await page.locator('#logout').click();
  check(await visible(page, '#login'), 'logged out');
  await login(page, p, 'teacher2');
  check(await visible(page, '#queue'), 'a teacher gets Today');
  check(await page.locator('#flags tr[data-person], #referrals tr[data-person], #absences tr[data-person]').count() === 0,
    'the teacher of 一年级2班 sees none of 一年级1班\'s rows');
  await page.goto(p.base + '/#/person/S2');
  check(await visible(page, '#msg.error:has-text("无权执行此操作")'), 'another class\'s pupil: 403 shown');
  await page.context().clearCookies();
  await page.goto(p.base + '/#/day');
  check(await visible(page, '#login') && await visible(page, '#msg.error:has-text("会话已过期")'),
    'a lost session (401) goes back to the login, saying so');
  await login(page, p, 'teacher2');
  check(await visible(page, '#figures') && page.url().endsWith('#/day'),
    'logging in again leads back to the page that was open');
  await page.locator('#logout').click();
  await login(page, p, 'gate1');
  check(await visible(page, '#lanes article[data-lane="a"]'), 'the gate role lands on Gates');
  const links = await page.locator('#nav a:visible').allTextContents();
  check(links.length === 2 && links[0] === '通道实况' && links[1] === '来访登记',
    'and sees only the Gates and Visitors links: ' + links);
  const lanes = (await page.evaluate(() => fetch('/api/v1/gates').then((r) => r.json()))).lanes;
  check(lanes.length === 3 && lanes.every((l) => !('person' in l) && !('body_centi' in l)),
    'no person or temperature for the gate role: ' + JSON.stringify(lanes[0]));
  await shot(page, '18-gate-role');
  await page.goto(p.base + '/#/today');
  check(await visible(page, '#lanes') && page.url().endsWith('#/gates'), 'Today is not for the gate role');
  await gateVisitor(page, p);
}

/* Gate staff register a visitor: a form left incomplete is said so; the register
 * shows the visitor, without temperatures for the gate role. */
async function gateVisitor(page, p) {
  await page.goto(p.base + '/#/visitors');
  const v = page.locator('#visitor-new form');
  check(await visible(page, '#visitor-new form'), 'the gate role gets the visitor form');
  await v.locator('input[name=name]').fill('陈师傅');
  await v.locator('input[name=phone]').fill('138 1234 5678');
  await v.locator('input[name=organisation]').fill('自来水公司');
  await v.locator('input[name=reason]').fill('维修水管');
  await v.locator('input[name=host]').fill('总务处');
  await v.locator('input[name=approved_by]').fill('李校长');
  await v.locator('button[type=submit]').click();
  check(await visible(page, '#visitor-new .status.error:has-text("二选一")'),
    'no temperature: said before anything is sent');
  await v.locator('input[name=phone]').fill('12ab');
  await v.locator('input[name=temp]').fill('36.60');
  await v.locator('button[type=submit]').click();
  check(await visible(page, '#visitor-new .status.error:has-text("not a phone number")'),
    'a bad phone: the server\'s 400 shown next to the form');
  await v.locator('input[name=phone]').fill('138 1234 5678');
  await v.locator('button[type=submit]').click();
  check(await said(page, '准予入校'), 'the visitor is admitted');
  // The view is drawn again after the answer: wait for the new row, not the old table.
  await page.locator('#visitors tbody tr').nth(1).waitFor({ timeout: 5000 }).catch(() => {});
  const rows = await page.locator('#visitors tbody tr').allTextContents();
  check(rows.length === 2 && rows.some((r) => r.includes('138 **** 5678') && r.includes('准入')),
    'the day\'s register with masked phones: ' + rows);
  check(!rows.join('').includes('37.90'), 'no temperatures for the gate role');
  check((await page.locator('#visitor-figures').textContent()).includes('2'), 'the day\'s figures');
  await shot(page, '21-gate-visitors');
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  console.log('# screenshots and CSV downloads: ' + ARTIFACTS);
  const t0 = Date.now();
  const p = await prepare();
  const progs = await startPrograms(p);
  const ctx = await launch(p);
  let rc = 1;
  try {
    const today = watch(await ctx.newPage(), 'today');
    const gates = watch(await ctx.newPage(), 'gates');
    await loginPage(today, p);
    await feverArrives(today, gates, progs.sim);
    await recheckAndReferral(today, p);
    await absenceCause(today, p);
    await partAbsenceCause(today, p);
    await certificate(today, gates, progs.sim, p);
    await offline(gates, progs.sim);
    await terminalClock(gates, progs.sim);
    await moreActions(today);
    await observation(today, gates, progs.sim, p);
    await people(today);
    await dayReport(today, p);
    await language(today);
    await phone(ctx, p);
    await otherRoles(today, p);
    check(problems.length === 0, 'no script error, CSP violation or dialog: ' + JSON.stringify(problems));
    /* The Gates page of `gates` still holds an event stream open. */
    const stop = await progs.daemon.stop('SIGTERM', 15000);
    check(stop.code === 0 && stop.seconds < 5,
      'daemon stops cleanly with an event stream open (' + stop.code + ', ' + stop.seconds + ' s)');
  } catch (e) {
    check(false, 'the scenario ran to its end: ' + (e.stack || e));
    await progs.daemon.stop('SIGTERM', 15000);
  } finally {
    await ctx.close();
    await progs.sim.stop('SIGTERM', 5000);
    console.log('# daemon log: ' + p.conf + '.log');
    console.log('# screenshots and CSV downloads: ' + ARTIFACTS);
    console.log('# took ' + ((Date.now() - t0) / 1000).toFixed(1) + ' s');
    rc = L.finish();
  }
  process.exit(rc);
}

main().catch((e) => { console.error(e); process.exit(1); });
