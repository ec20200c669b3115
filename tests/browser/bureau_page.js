/* The bureau's page in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), against the real gatescreen-bureaud that bureau_page.py started
 * on a private PostgreSQL. Checks: zh-CN by default; a wrong password; the county
 * officer's today shows their county only, its numbers equal to the API's; the
 * notices with the acknowledgement from the page; English; a phone viewport without
 * sideways scrolling of the page itself; the city officer sees both counties; the
 * administrator adds and disables a user on Users (a tab the others do not have); no
 * script error, CSP violation or dialog. Screenshots go to $GS_ARTIFACTS. */
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { chromium } = require('playwright-core');
const L = require('./lib');
const { check } = L;

const URL = process.env.GS_BPAGE_URL;
const DAY = process.env.GS_BPAGE_DAY;
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

async function english(page) {
  await page.click('#lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  check((await page.textContent('h1')).startsWith('Education bureau'), 'English on request');
  await shot(page, 'notices-en');
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
