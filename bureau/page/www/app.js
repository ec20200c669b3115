// The bureau's page (docs/bureau.md, "The bureau's page"): login, "today at the
// deadline", notices. zh-CN by default, English on request (kept in localStorage).
// Text only through textContent: nothing from the server becomes markup.
"use strict";

const T = {
  "zh-CN": {
    title: "教育局 · 晨午检上报", login: "登录", logout: "退出", name: "用户名", password: "密码",
    today: "今日截止", notices: "紧急通知", day: "日期", deadline: "截止", deadline_auto: "最近一次",
    morning: "晨检", dayend: "全天", county: "区县", all_counties: "全部区县", show: "查看",
    by_county: "各区县上报情况", reported: "已报/应报", on_time: "按时", late: "迟报",
    missing: "未报", closed: "停课", reported_closed: "自报停课", missing_schools: "未报和迟报学校", school: "学校",
    contact: "联系人", status: "状态", how_late: "迟了多久", none_missing: "没有未报或迟报的学校。",
    from: "从", to: "到", state: "处理", type: "类型", class: "班级/人员", opened: "发生时间",
    ack: "确认", no_notices: "没有紧急通知。", referral_opened: "隔离转诊", cluster_alert: "聚集性预警",
    unacked: "未确认", acked: "已确认", note: "处理说明", do_ack: "确认",
    deadline_at: (d, w, at, passed) => `${at}（${w}）截止` + (passed ? "，已过" : "，未到"),
    not_school_day: "（非上课日）", wrong: "用户名或密码错误", minutes: (m) => `${m} 分钟`,
    hours: (h, m) => `${h} 小时 ${m} 分`, role_city: "市级", role_county: "区县", role_auditor: "审计",
    role_admin: "管理员", need_note: "请填写处理说明", users: "用户", role: "角色",
    add_user: "添加用户", active: "启用", disabled: "停用", disable: "停用", enable: "启用",
    figures: "数据", trends: "趋势", csv: "下载 CSV", unit: "单位", check_rate: "晨检率",
    stu_rate: "学生晨检率", stf_rate: "教职工晨检率", stf_ill: "教职工病假",
    fever_screens: "发热筛查", referrals: "转诊", ill_absences: "病假", per1000: "病假/千名学生",
    personal: "事假", s_fever: "发热", s_cough: "咳嗽", s_sore_throat: "咽痛", s_diarrhoea: "腹泻",
    s_vomiting: "呕吐", s_rash: "皮疹", s_conjunctivitis: "红眼", s_other: "其他",
    availability: "设备可用率", drill_hint: "点一行看下一级。点表头排序。", city_all: "全市",
    last_day: "截至", days: "天数", school_code: "学校代码（可选）", symptoms: "缺课症状",
    trend_of: (u, f, to) => `${u}：${f} 至 ${to}`, no_report: "未报",
  },
  en: {
    title: "Education bureau · school health reports", login: "Log in", logout: "Log out",
    name: "User name", password: "Password", today: "Today at the deadline", notices: "Notices",
    day: "Day", deadline: "Deadline", deadline_auto: "the latest", morning: "morning",
    dayend: "day", county: "County", all_counties: "all counties", show: "Show",
    by_county: "Reports by county", reported: "reported / expected", on_time: "on time",
    late: "late", missing: "missing", closed: "closed", reported_closed: "reported closed",
    missing_schools: "Schools missing or late",
    school: "School", contact: "Contact", status: "Status", how_late: "How late",
    none_missing: "No school is missing or late.", from: "From", to: "To", state: "State",
    type: "Type", class: "Class / person", opened: "Opened", ack: "Acknowledged",
    no_notices: "No notices.", referral_opened: "isolation referral", cluster_alert: "cluster alert",
    unacked: "not acknowledged", acked: "acknowledged", note: "note", do_ack: "Acknowledge",
    deadline_at: (d, w, at, passed) => `deadline ${at} (${w})` + (passed ? ", passed" : ", to come"),
    not_school_day: " (not a school day)", wrong: "wrong name or password",
    minutes: (m) => `${m} min`, hours: (h, m) => `${h} h ${m} min`, role_city: "city",
    role_county: "county", role_auditor: "auditor", role_admin: "administrator",
    need_note: "write a note first", users: "Users", role: "Role", add_user: "Add user",
    active: "active", disabled: "disabled", disable: "Disable", enable: "Enable",
    figures: "Figures", trends: "Trends", csv: "Download CSV", unit: "Unit",
    check_rate: "Check rate", fever_screens: "Fever screens", referrals: "Referrals",
    stu_rate: "Students checked", stf_rate: "Staff checked", stf_ill: "Staff ill",
    ill_absences: "Illness absences", per1000: "Illness per 1,000 students",
    personal: "Personal", s_fever: "fever", s_cough: "cough", s_sore_throat: "sore throat",
    s_diarrhoea: "diarrhoea", s_vomiting: "vomiting", s_rash: "rash",
    s_conjunctivitis: "conjunctivitis", s_other: "other", availability: "Device availability",
    drill_hint: "Click a row for the level below. Click a heading to sort.", city_all: "the city",
    last_day: "Up to", days: "Days", school_code: "School code (optional)",
    symptoms: "Absences by symptom", trend_of: (u, f, to) => `${u}: ${f} to ${to}`,
    no_report: "no report",
  },
};

let lang = localStorage.getItem("gsb_lang") === "en" ? "en" : "zh-CN";
let me = null;      // {user: {name, role, county}, csrf}
let view = "today";
let lastDay = "";   // today's day in the bureau's zone, from the first answer of /today
let events = null;  // the live notices' EventSource

const $ = (id) => document.getElementById(id);
const t = (k, ...a) => { const v = T[lang][k]; return typeof v === "function" ? v(...a) : (v ?? k); };

function applyLang() {
  document.documentElement.lang = lang;
  document.title = t("title");
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("lang").textContent = lang === "en" ? "中文" : "English";
  showWho();
}

function showWho() {
  $("who").textContent = me ? `${me.user.name} · ${t("role_" + me.user.role)}` +
    (me.user.county ? ` · ${me.user.county}` : "") : "";
}

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  if (method === "POST" && me) opt.headers["X-CSRF-Token"] = me.csrf;
  const r = await fetch(path, opt);
  let j = null;
  try { j = await r.json(); } catch (e) { j = { error: r.statusText }; }
  if (r.status === 401 && path !== "/api/v1/login") { me = null; show(); }
  return { status: r.status, json: j };
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function howLate(s) {
  if (s == null) return "";
  const m = Math.round(s / 60);
  return m < 60 ? t("minutes", m) : t("hours", Math.floor(m / 60), m % 60);
}

// ---- today at the deadline -----------------------------------------------------------

async function loadToday() {
  const q = new URLSearchParams();
  if ($("today-day").value) q.set("day", $("today-day").value);
  if ($("today-deadline").value) q.set("deadline", $("today-deadline").value);
  if ($("today-county").value) q.set("county", $("today-county").value);
  const r = await api("GET", "/api/v1/today?" + q.toString());
  $("today-error").textContent = r.status === 200 ? "" : r.json.error;
  if (r.status !== 200) return;
  const d = r.json;
  if (!$("today-day").value && !lastDay) lastDay = d.day;
  $("today-counties-csv").href = "/api/v1/today/counties.csv?" + q.toString();
  $("today-schools-csv").href = "/api/v1/today/schools.csv?" + q.toString();
  $("today-head").textContent = t("deadline_at", d.day, d.weekday, d.deadline_local,
    d.deadline_passed) + (d.school_day ? "" : t("not_school_day"));
  fillCounties(d);
  fillSchools(d);
}

function fillCounties(d) {
  const body = $("today-counties").tBodies[0];
  body.textContent = "";
  const sel = $("today-county");
  for (const c of d.counties) {
    const tr = body.insertRow();
    cell(tr, c.county);
    cell(tr, `${c.on_time + c.late}/${c.expected}`, "num");
    cell(tr, c.on_time, "num");
    cell(tr, c.late, "num");
    cell(tr, c.missing, "num");
    cell(tr, c.closed, "num");
    cell(tr, c.reported_closed, "num");
    for (const s of [sel, $("trends-county")]) {
      if ([...s.options].some((o) => o.value === c.county)) continue;
      const o = document.createElement("option");
      o.value = o.textContent = c.county;
      s.appendChild(o);
    }
  }
}

function fillSchools(d) {
  const body = $("today-schools").tBodies[0];
  body.textContent = "";
  let n = 0;
  for (const c of d.counties) for (const s of c.schools) {
    const tr = body.insertRow();
    tr.className = s.status;
    cell(tr, c.county);
    cell(tr, `${s.name} (${s.code})`);
    cell(tr, [s.contact_name, s.contact_phone].filter(Boolean).join(" "));
    cell(tr, t(s.status), "status");
    cell(tr, howLate(s.late_seconds), "num");
    n++;
  }
  $("today-none").hidden = n > 0;
}

// ---- figures of a day: city → county → school ----------------------------------------

const SYMPTOMS = ["fever", "cough", "sore_throat", "diarrhoea", "vomiting", "rash",
  "conjunctivitis", "other"];
let fig = { level: null, county: "", rows: [], key: null, desc: true };

const pct = (x) => (x == null ? "" : (Math.round(x * 1000) / 10).toFixed(1) + "%");

// The value of each column of a row (for the cell and for sorting).
function figValues(r) {
  const a = r.absences;
  const v = {
    unit: r.school ? `${r.school.name} (${r.school.code})` : r.county || t("city_all"),
    reported: r.schools.completeness, check_rate: r.checks && r.checks.morning.rate,
    fever: r.fevers && r.fevers.screens, referrals: r.referrals && r.referrals.opened,
    ill: a && a.by_cause.illness, per1000: r.illness_per_1000, personal: a && a.by_cause.personal,
    avail: r.devices && r.devices.availability,
    // Students and staff apart (教职工), from the schools that sent version 2 summaries.
    stu_rate: r.groups && r.groups.students.morning_rate,
    stf_rate: r.groups && r.groups.staff.morning_rate,
    stf_ill: r.groups && r.groups.staff.absences_illness,
  };
  for (const s of SYMPTOMS) v["s_" + s] = a && a.by_symptom[s];
  return v;
}

function figText(k, v, r) {
  if (k === "reported") return `${r.schools.reported}/${r.schools.expected}`;
  if (k === "check_rate" || k === "avail" || k === "stu_rate" || k === "stf_rate") return pct(v);
  if (k === "per1000") return v == null ? "" : v.toFixed(1);
  return v;
}

function figQuery() {
  const q = new URLSearchParams();
  if ($("figures-day").value) q.set("day", $("figures-day").value);
  q.set("level", fig.level);
  if (fig.county) q.set("county", fig.county);
  return q;
}

async function loadFigures() {
  if (!$("figures-day").value) $("figures-day").value = lastDay;
  if (!fig.level) fig.level = me.user.role === "county" ? "county" : "city";
  if (me.user.role === "county" && fig.level === "school") fig.county = me.user.county;
  const q = figQuery();
  const r = await api("GET", "/api/v1/figures?" + q.toString());
  $("figures-error").textContent = r.status === 200 ? "" : r.json.error;
  $("figures-csv").href = "/api/v1/figures.csv?" + q.toString();
  fig.rows = r.status === 200 ? r.json.rows : [];
  fig.key = null;
  figPath();
  figFill();
}

function figPath() {
  const p = $("figures-path");
  p.textContent = "";
  const step = (text, level, county) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.addEventListener("click", () => { fig.level = level; fig.county = county; loadFigures(); });
    p.append(b, " › ");
  };
  if (me.user.role !== "county") step(t("city_all"), "city", "");
  if (fig.level !== "city") step(fig.county || me.user.county || t("county"), "county", "");
  p.lastChild && p.lastChild.remove();
}

function figFill() {
  const body = $("figures-table").tBodies[0];
  body.textContent = "";
  const keys = [...$("figures-table").tHead.rows[0].cells].map((c) => c.dataset.k);
  const rows = fig.rows.map((r) => ({ r, v: figValues(r) }));
  if (fig.key) {
    const k = fig.key, s = fig.desc ? -1 : 1;
    rows.sort((x, y) => {
      const a = x.v[k], b = y.v[k];
      if (a == null || b == null) return a == null ? (b == null ? 0 : 1) : -1;
      return (typeof a === "string" ? a.localeCompare(b, "zh-CN") : a - b) * s;
    });
  }
  for (const { r, v } of rows) {
    const tr = body.insertRow();
    if (!r.absences) tr.className = "noreport";
    for (const k of keys) cell(tr, k === "unit" || r.absences || k === "reported" ? figText(k, v[k], r) : "",
      k === "unit" ? "" : "num");
    if (fig.level !== "school") {
      tr.classList.add("drill");
      tr.addEventListener("click", () => {
        fig.county = fig.level === "county" ? r.county : "";
        fig.level = fig.level === "city" ? "county" : "school";
        loadFigures();
      });
    }
  }
  for (const th of $("figures-table").tHead.rows[0].cells)
    th.className = th.dataset.k === fig.key ? (fig.desc ? "desc" : "asc") : "";
}

function figSort(e) {
  const k = e.target.closest("th") && e.target.closest("th").dataset.k;
  if (!k) return;
  fig.desc = fig.key === k ? !fig.desc : k !== "unit";
  fig.key = k;
  figFill();
}

// ---- trends: SVG charts drawn here ----------------------------------------------------

const SVGNS = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f5fa8", "#b3261e", "#2e7d32", "#8a5a00", "#6a1b9a", "#00838f", "#ad1457", "#55606e"];

function svg(tag, attrs, parent) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

// The charts: each a title and its series (a label and the value of a row).
function trendCharts() {
  return [
    { id: "check_rate", title: t("check_rate"), rate: true,
      series: [{ label: t("check_rate"), get: (r) => r.checks && r.checks.morning.rate }] },
    { id: "fever_screens", title: t("fever_screens"),
      series: [{ label: t("fever_screens"), get: (r) => r.fevers && r.fevers.screens }] },
    { id: "per1000", title: t("per1000"),
      series: [{ label: t("per1000"), get: (r) => r.illness_per_1000 }] },
    { id: "symptoms", title: t("symptoms"),
      series: SYMPTOMS.map((s) => ({ label: t("s_" + s), get: (r) => r.absences && r.absences.by_symptom[s] })) },
  ];
}

function showTip(e, text) {
  const tip = $("trends-tip");
  tip.textContent = text;
  tip.hidden = false;
  const box = $("trends").getBoundingClientRect();
  tip.style.left = Math.min(e.clientX - box.left + 12, box.width - 200) + "px";
  tip.style.top = (e.clientY - box.top + 12) + "px";
}

function drawChart(parent, c, rows) {
  const W = 640, H = 200, L = 44, R = 10, T = 10, B = 24;
  const fig = document.createElement("figure");
  const cap = document.createElement("figcaption");
  cap.textContent = c.title;
  fig.appendChild(cap);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", "data-chart": c.id, role: "img" }, fig);
  let max = c.rate ? 1 : 0;
  for (const se of c.series) for (const r of rows) max = Math.max(max, se.get(r) || 0);
  if (max === 0) max = 1;
  const x = (i) => L + (rows.length > 1 ? i * (W - L - R) / (rows.length - 1) : 0);
  const y = (v) => T + (H - T - B) * (1 - v / max);
  svg("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), class: "axis" }, s);
  svg("line", { x1: L, y1: T, x2: L, y2: y(0), class: "axis" }, s);
  const lab = (text, at, yy, anchor) => { svg("text", { x: at, y: yy, "text-anchor": anchor, class: "lab" }, s).textContent = text; };
  lab(c.rate ? "100%" : String(max), L - 4, T + 8, "end");
  lab("0", L - 4, y(0), "end");
  if (rows.length) {
    lab(rows[0].day, L, H - 6, "start");
    lab(rows[rows.length - 1].day, W - R, H - 6, "end");
  }
  c.series.forEach((se, k) => {
    const colour = COLOURS[k % COLOURS.length];
    let pts = [];
    const flush = () => { if (pts.length > 1) svg("polyline", { points: pts.join(" "), stroke: colour, class: "line" }, s); pts = []; };
    rows.forEach((r, i) => {
      const v = se.get(r);
      if (v == null) { flush(); return; }
      pts.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      const p = svg("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3.5, fill: colour, class: "pt",
        "data-day": r.day, "data-series": se.label, "data-value": v }, s);
      const shown = c.rate ? pct(v) : String(v);
      p.addEventListener("mouseenter", (e) => showTip(e, `${r.day} · ${se.label}: ${shown}` +
        ` · ${t("reported")} ${r.schools.reported}/${r.schools.expected}`));
      p.addEventListener("mouseleave", () => { $("trends-tip").hidden = true; });
    });
    flush();
  });
  if (c.series.length > 1) {
    const leg = document.createElement("p");
    leg.className = "legend";
    c.series.forEach((se, k) => {
      const sw = document.createElement("span");
      sw.className = "swatch c" + k;
      leg.append(sw, se.label + " ");
    });
    fig.appendChild(leg);
  }
  parent.appendChild(fig);
}

async function loadTrends() {
  if (!$("trends-to").value) $("trends-to").value = lastDay;
  const q = new URLSearchParams();
  q.set("to", $("trends-to").value);
  q.set("days", $("trends-days").value);
  const school = $("trends-school").value.trim(), county = $("trends-county").value;
  if (school) { q.set("level", "school"); q.set("school", school); }
  else if (me.user.role === "county") q.set("level", "county");
  else if (county) { q.set("level", "county"); q.set("county", county); }
  else q.set("level", "city");
  const r = await api("GET", "/api/v1/trends?" + q.toString());
  $("trends-error").textContent = r.status === 200 ? "" : r.json.error;
  $("trends-csv").href = "/api/v1/trends.csv?" + q.toString();
  const box = $("trends-charts");
  box.textContent = "";
  $("trends-head").textContent = "";
  if (r.status !== 200) return;
  const d = r.json;
  const unit = d.school ? (d.rows[0] && d.rows[0].school ? `${d.rows[0].school.name} (${d.school})` : d.school)
    : d.county || t("city_all");
  $("trends-head").textContent = t("trend_of", unit, d.from, d.to);
  for (const c of trendCharts()) drawChart(box, c, d.rows);
}

// ---- live notices (server-sent events) ------------------------------------------------

function listen() {
  if (events || !me) return;
  events = new EventSource("/api/v1/events");
  // (re)opened: what arrived while it was closed is read once
  events.addEventListener("open", () => { if (view === "notices" && !$("app-view").hidden) loadNotices(); });
  events.addEventListener("notices", () => {
    if (view === "notices" && !$("app-view").hidden) loadNotices();
    else $("notices-new").hidden = false;
  });
}

function unlisten() {
  if (events) events.close();
  events = null;
}

// ---- notices ------------------------------------------------------------------------------

async function loadNotices() {
  const q = new URLSearchParams();
  if ($("notices-from").value) q.set("from", $("notices-from").value);
  if ($("notices-to").value) q.set("to", $("notices-to").value);
  const r = await api("GET", "/api/v1/notices?" + q.toString());
  $("notices-csv").href = "/api/v1/notices.csv?" + q.toString();
  $("notices-new").hidden = true;
  $("notices-error").textContent = r.status === 200 ? "" : r.json.error;
  if (r.status !== 200) return;
  const body = $("notices-table").tBodies[0];
  body.textContent = "";
  for (const n of r.json.notices) noticeRow(body, n);
  $("notices-none").hidden = r.json.notices.length > 0;
}

function noticeRow(body, n) {
  const tr = body.insertRow();
  tr.className = n.acknowledged_at ? "acked" : "unack";
  cell(tr, t(n.acknowledged_at ? "acked" : "unacked"));
  cell(tr, t(n.type));
  cell(tr, `${n.school.name} (${n.school.code}) · ${n.school.county}`);
  cell(tr, [n.class, n.pseudonym].filter(Boolean).join(" · "));
  cell(tr, n.opened_at);
  const td = cell(tr, n.acknowledged_at ? `${n.acknowledged_by} ${n.acknowledged_at}: ${n.ack_note}` : "");
  if (!n.acknowledged_at && me && (me.user.role === "city" || me.user.role === "county"))
    td.appendChild(ackForm(n));
}

function ackForm(n) {
  const f = document.createElement("form");
  f.className = "ack-form";
  const note = document.createElement("input");
  note.placeholder = t("note");
  note.maxLength = 1000;
  const b = document.createElement("button");
  b.type = "submit";
  b.textContent = t("do_ack");
  f.append(note, b);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!note.value.trim()) { $("notices-error").textContent = t("need_note"); return; }
    const r = await api("POST", "/api/v1/notices/ack",
      { school: n.school.code, notice_id: n.notice_id, note: note.value });
    $("notices-error").textContent = r.status === 200 ? "" : r.json.error;
    loadNotices();
  });
  return f;
}

// ---- users (administrators) --------------------------------------------------------------

async function loadUsers() {
  const r = await api("GET", "/api/v1/users");
  $("users-error").textContent = r.status === 200 ? "" : r.json.error;
  if (r.status !== 200) return;
  const body = $("users-table").tBodies[0];
  body.textContent = "";
  for (const u of r.json.users) {
    const tr = body.insertRow();
    cell(tr, u.name);
    cell(tr, t("role_" + u.role));
    cell(tr, u.county);
    cell(tr, t(u.active ? "active" : "disabled"));
    const td = cell(tr, "");
    if (u.name === me.user.name) continue;
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = t(u.active ? "disable" : "enable");
    b.addEventListener("click", async () => {
      const a = await api("POST", "/api/v1/users/" + (u.active ? "disable" : "enable"), { name: u.name });
      $("users-error").textContent = a.status === 200 ? "" : a.json.error;
      loadUsers();
    });
    td.appendChild(b);
  }
}

async function addUser(e) {
  e.preventDefault();
  const body = { name: $("user-name").value, role: $("user-role").value,
    password: $("user-password").value };
  if ($("user-county").value) body.county = $("user-county").value;
  const r = await api("POST", "/api/v1/users", body);
  $("users-error").textContent = r.status === 201 ? "" : r.json.error;
  if (r.status === 201) { $("user-form").reset(); loadUsers(); }
}

// ---- login and the frame --------------------------------------------------------------------

function show() {
  $("login-view").hidden = !!me;
  $("app-view").hidden = !me;
  $("logout").hidden = !me;
  showWho();
  if (!me) { unlisten(); fig.level = null; return; }
  listen();
  $("today-county-label").hidden = me.user.role === "county";
  $("trends-county-label").hidden = me.user.role === "county";
  $("users-tab").hidden = me.user.role !== "admin";
  if (view === "users" && me.user.role !== "admin") view = "today";
  for (const b of document.querySelectorAll(".tab")) b.classList.toggle("on", b.dataset.view === view);
  for (const v of VIEWS) $(v).hidden = view !== v;
  ({ today: loadToday, figures: loadFigures, trends: loadTrends, notices: loadNotices,
    users: loadUsers })[view]();
}

const VIEWS = ["today", "figures", "trends", "notices", "users"];

// Today's day in the bureau's zone (the figures' and trends' default day).
async function primeDay() {
  if (!me || lastDay) return;
  const r = await api("GET", "/api/v1/today");
  if (r.status === 200) lastDay = r.json.day;
}

async function login(e) {
  e.preventDefault();
  const r = await api("POST", "/api/v1/login",
    { name: $("login-name").value, password: $("login-password").value });
  $("login-password").value = "";
  if (r.status === 200) { me = r.json; $("login-error").textContent = ""; await primeDay(); show(); }
  else $("login-error").textContent = r.status === 401 ? t("wrong") : r.json.error;
}

async function start() {
  applyLang();
  $("lang").addEventListener("click", () => {
    lang = lang === "en" ? "zh-CN" : "en";
    localStorage.setItem("gsb_lang", lang);
    applyLang();
    if (me) show();
  });
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", async () => { await api("POST", "/api/v1/logout"); me = null; show(); });
  $("today-form").addEventListener("submit", (e) => { e.preventDefault(); loadToday(); });
  $("notices-form").addEventListener("submit", (e) => { e.preventDefault(); loadNotices(); });
  $("figures-form").addEventListener("submit", (e) => { e.preventDefault(); loadFigures(); });
  $("figures-table").tHead.addEventListener("click", figSort);
  $("trends-form").addEventListener("submit", (e) => { e.preventDefault(); loadTrends(); });
  $("user-form").addEventListener("submit", addUser);
  for (const b of document.querySelectorAll(".tab"))
    b.addEventListener("click", () => { view = b.dataset.view; show(); });
  const r = await api("GET", "/api/v1/session");
  me = r.status === 200 ? r.json : null;
  await primeDay();
  show();
}

document.addEventListener("DOMContentLoaded", start);
