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
    missing: "未报", closed: "停课", missing_schools: "未报和迟报学校", school: "学校",
    contact: "联系人", status: "状态", how_late: "迟了多久", none_missing: "没有未报或迟报的学校。",
    from: "从", to: "到", state: "处理", type: "类型", class: "班级/人员", opened: "发生时间",
    ack: "确认", no_notices: "没有紧急通知。", referral_opened: "隔离转诊", cluster_alert: "聚集性预警",
    unacked: "未确认", acked: "已确认", note: "处理说明", do_ack: "确认",
    deadline_at: (d, w, at, passed) => `${at}（${w}）截止` + (passed ? "，已过" : "，未到"),
    not_school_day: "（非上课日）", wrong: "用户名或密码错误", minutes: (m) => `${m} 分钟`,
    hours: (h, m) => `${h} 小时 ${m} 分`, role_city: "市级", role_county: "区县", role_auditor: "审计",
    role_admin: "管理员", need_note: "请填写处理说明", users: "用户", role: "角色",
    add_user: "添加用户", active: "启用", disabled: "停用", disable: "停用", enable: "启用",
  },
  en: {
    title: "Education bureau · school health reports", login: "Log in", logout: "Log out",
    name: "User name", password: "Password", today: "Today at the deadline", notices: "Notices",
    day: "Day", deadline: "Deadline", deadline_auto: "the latest", morning: "morning",
    dayend: "day", county: "County", all_counties: "all counties", show: "Show",
    by_county: "Reports by county", reported: "reported / expected", on_time: "on time",
    late: "late", missing: "missing", closed: "closed", missing_schools: "Schools missing or late",
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
  },
};

let lang = localStorage.getItem("gsb_lang") === "en" ? "en" : "zh-CN";
let me = null;      // {user: {name, role, county}, csrf}
let view = "today";

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
  $("today-head").textContent = t("deadline_at", d.day, d.weekday, d.deadline_local,
    d.deadline_passed) + (d.school_day ? "" : t("not_school_day"));
  fillCounties(d);
  fillSchools(d);
}

function fillCounties(d) {
  const body = $("today-counties").tBodies[0];
  body.textContent = "";
  const sel = $("today-county");
  const known = new Set([...sel.options].map((o) => o.value));
  for (const c of d.counties) {
    const tr = body.insertRow();
    cell(tr, c.county);
    cell(tr, `${c.on_time + c.late}/${c.expected}`, "num");
    cell(tr, c.on_time, "num");
    cell(tr, c.late, "num");
    cell(tr, c.missing, "num");
    cell(tr, c.closed, "num");
    if (!known.has(c.county)) {
      const o = document.createElement("option");
      o.value = o.textContent = c.county;
      sel.appendChild(o);
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

// ---- notices ------------------------------------------------------------------------------

async function loadNotices() {
  const q = new URLSearchParams();
  if ($("notices-from").value) q.set("from", $("notices-from").value);
  if ($("notices-to").value) q.set("to", $("notices-to").value);
  const r = await api("GET", "/api/v1/notices?" + q.toString());
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
  if (!me) return;
  $("today-county-label").hidden = me.user.role === "county";
  $("users-tab").hidden = me.user.role !== "admin";
  if (view === "users" && me.user.role !== "admin") view = "today";
  for (const b of document.querySelectorAll(".tab")) b.classList.toggle("on", b.dataset.view === view);
  for (const v of ["today", "notices", "users"]) $(v).hidden = view !== v;
  ({ today: loadToday, notices: loadNotices, users: loadUsers })[view]();
}

async function login(e) {
  e.preventDefault();
  const r = await api("POST", "/api/v1/login",
    { name: $("login-name").value, password: $("login-password").value });
  $("login-password").value = "";
  if (r.status === 200) { me = r.json; $("login-error").textContent = ""; show(); }
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
  $("user-form").addEventListener("submit", addUser);
  for (const b of document.querySelectorAll(".tab"))
    b.addEventListener("click", () => { view = b.dataset.view; show(); });
  const r = await api("GET", "/api/v1/session");
  me = r.status === 200 ? r.json : null;
  show();
}

document.addEventListener("DOMContentLoaded", start);
