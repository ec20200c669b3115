/* Prints a day's paper registers (晨午检登记表 and 因病缺勤登记表, a class a page)
 * from the school's real page to PDF with headless Chromium, as the nurse does with
 * the Registers view's Print button, and checks the PDF. `make demo` runs it
 * (tests/tools/demo_day.py); tests/browser/run.py's tools() finds node, Chromium and
 * playwright-core.
 *
 *   node print_registers.js URL CA_FILE USER DATE OUT.pdf     (password: $GS_PASSWORD)
 *
 * The server's certificate is verified against CA_FILE first; Chromium then trusts
 * exactly that key. The checks: as many PDF pages as the registers API has pages for
 * the day (one per class), A4 portrait (pdfinfo), both Chinese headings and the class
 * teacher's signature line (pdftotext). Prints one line "pages N classes N" and
 * exits 0; else says what failed on stderr and exits 1. */
'use strict';

const fs = require('fs');
const path = require('path');
const L = require('./lib');

function fail(what) {
  process.stderr.write('print_registers: ' + what + '\n');
  process.exit(1);
}

/* What is wrong with the printed PDF, or '' when nothing. */
function pdfProblems(file, classes) {
  const info = L.pdfPages(file);
  if (info.pages < 0) return 'pdfinfo cannot read ' + file + ': ' + info.err.trim();
  const problems = [];
  if (info.pages !== classes)
    problems.push(info.pages + ' pages, not one per class (' + classes + ')');
  if (Math.abs(info.w - 595) >= 2 || Math.abs(info.h - 842) >= 2)
    problems.push('page size ' + info.w + ' x ' + info.h + ' pt, not A4 portrait');
  const text = L.pdfText(file);
  for (const s of ['晨午检登记表', '因病缺勤登记表', '班主任签名'])
    if (text.indexOf(s) < 0) problems.push('no ' + s + ' in its text');
  return problems.join('; ');
}

async function main() {
  const [url, ca, user, date, out] = process.argv.slice(2);
  const password = process.env.GS_PASSWORD;
  if (!out || !password || !/^\d{4}-\d{2}-\d{2}$/.test(date))
    fail('usage: GS_PASSWORD=... node print_registers.js URL CA_FILE USER YYYY-MM-DD OUT.pdf');
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    fail('playwright-core is not installed in ' + __dirname + ' (npm ci): ' + e.message);
  }
  const base = url.replace(/\/+$/, '');
  const spki = await L.verifiedSpki(base, ca).catch((e) => fail(e.message));
  const dir = fs.mkdtempSync(path.join(path.dirname(path.resolve(out)), '.chromium-'));
  let ctx = null, classes = -1, error = null;
  try {
    ctx = await L.launch(chromium, { dir: dir, certs: { spki: spki } });
    const page = await ctx.newPage();
    await L.login(page, base, user, password);
    const api = await page.evaluate(async (d) => {
      const r = await fetch('/api/v1/registers?date=' + d);
      return { status: r.status, body: r.ok ? await r.json() : await r.text() };
    }, date);
    if (api.status !== 200) throw new Error('GET /api/v1/registers: ' + api.status + ' ' + api.body);
    classes = api.body.pages.length;
    if (classes === 0) throw new Error('the registers of ' + date + ' have no class (no active students)');
    await L.printRegisters(page, base, { span: 'day', date: date, pages: classes }, out);
  } catch (e) {
    error = e;
  } finally {
    if (ctx) await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (error) fail('printing the registers of ' + date + ' from ' + base + ' failed: ' + (error.message || error));
  const problems = pdfProblems(out, classes);
  if (problems) fail(out + ': ' + problems);
  console.log('pages ' + classes + ' classes ' + classes);
}

main();
