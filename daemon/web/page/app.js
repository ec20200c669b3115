/* The nurse and gate page (docs/web-api.md): login, Today, People, Gates (live,
 * server-sent events) and the Day report, as client-side views behind #/ routes.
 *
 * Safety rules kept throughout: every text that comes from the API is put into
 * the page with textContent or text nodes (the h() helper), never as HTML, so a
 * roster name like "<script>" stays text; no inline scripts or styles (the CSP
 * allows only this file); every POST carries the session's CSRF token. */
'use strict';

(function () {
  const I = window.GS_I18N;
  const t = I.t;
  const term = I.term;

  const SYMPTOMS = ['fever', 'cough', 'sore_throat', 'diarrhoea', 'vomiting', 'rash',
    'conjunctivitis', 'other']; /* ledger_absence.c: the only ones the ledger takes */
  const INSTRUMENTS = ['infrared', 'ear', 'axillary', 'oral'];
  const WINDOWS = ['morning', 'noon'];
  const REFERRAL_OUTCOMES = ['sent_home', 'hospital', 'returned_to_class'];
  const CAUSES = ['illness', 'personal', 'other'];
  const CLINIC = ['yes', 'no', 'unknown'];
  const EXPORTS = ['checks', 'absences', 'flags'];
  const STAFF_VIEWS = ['today', 'person', 'gates', 'day', 'observe', 'visitors', 'registers',
    'trends'];
  const GATE_VIEWS = ['gates', 'visitors'];
  const OBSERVE_REASONS = ['risk_area', 'close_contact', 'after_illness', 'other'];

  const state = {
    user: null,          /* {name, role, class} */
    csrf: '',
    gen: 0,              /* bumped by every render: late answers of old views are dropped */
    stream: null,        /* the Gates (or Today) view's EventSource */
    retry: 0,            /* its reconnect timer */
    poll: 0,             /* Today's periodic refresh */
    today: '',           /* the school's date as the server last said */
    todayDate: '',       /* the date chosen on Today / Day report ('' = today) */
    dayDate: '',
    observeDate: '',
    dayClass: '',
    regDate: '',         /* the Registers view's date, span and class */
    regSpan: 'day',
    regClass: '',
    trendDate: '',
    personQuery: '',
    personDays: 30,
  };

  /* ---- DOM helpers ---------------------------------------------------------------- */

  function $(sel) { return document.querySelector(sel); }

  /* An element; strings and numbers among the children become text nodes. */
  function h(tag, props) {
    const e = document.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (let i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }

  function append(e, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { append(e, k); }); return; }
    e.append(kid instanceof Node ? kid : String(kid));
  }

  function fmtTemp(centi) {
    return typeof centi === 'number' ? (centi / 100).toFixed(2) + ' °C' : '';
  }

  function fmtTime(ms) {
    return ms ? new Date(ms).toLocaleTimeString(I.locale(), { hour12: false }) : '';
  }

  function fmtDateTime(ms) {
    return ms ? new Date(ms).toLocaleString(I.locale(), { hour12: false }) : '';
  }

  /* YYYY-MM-DD of the browser's day: only a default for forms; the server's
   * answer (state.today) wins once known. */
  function localDay() {
    const d = new Date();
    const p = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }

  function today() { return state.today || localDay(); }

  function query(params) {
    const q = new URLSearchParams();
    for (const k in params) if (params[k]) q.set(k, params[k]);
    const s = q.toString();
    return s ? '?' + s : '';
  }

  function personPath(id, action) {
    return '/api/v1/people/' + encodeURIComponent(id) + (action ? '/' + action : '');
  }

  /* ---- messages ------------------------------------------------------------------- */

  function flash(text, kind) {
    const m = $('#msg');
    m.textContent = text;
    m.className = kind || '';
    m.hidden = !text;
  }

  function errorText(e) {
    if (!(e instanceof ApiError)) return t('err.other', { status: '?', msg: String(e) });
    if (e.status === 0) return t('err.network');
    const known = [400, 401, 403, 404, 409, 413, 429];
    return known.indexOf(e.status) >= 0 ? t('err.' + e.status, { msg: e.message })
      : t('err.other', { status: e.status, msg: e.message });
  }

  /* ---- the API -------------------------------------------------------------------- */

  class ApiError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, path, body) {
    const opt = { method: method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET') {
      opt.headers['Content-Type'] = 'application/json';
      if (state.csrf) opt.headers['X-CSRF-Token'] = state.csrf;
      opt.body = JSON.stringify(body || {});
    }
    let r;
    try {
      r = await fetch(path, opt);
    } catch (e) {
      throw new ApiError(0, String(e));
    }
    let data = null;
    if ((r.headers.get('Content-Type') || '').indexOf('json') >= 0)
      data = await r.json().catch(function () { return null; });
    if (r.ok) return data;
    const msg = data && typeof data.error === 'string' ? data.error : r.statusText;
    if (r.status === 401 && path !== '/api/v1/login' && state.user) sessionLost();
    throw new ApiError(r.status, msg, data);
  }

  /* ---- session and routing ---------------------------------------------------------- */

  function setSession(d) {
    state.user = d.user;
    state.csrf = d.csrf || '';
  }

  function sessionLost() {
    if (parseHash().name !== 'login') state.after = location.hash; /* back there after the login */
    state.user = null;
    state.csrf = '';
    flash(t('login.expired'), 'error');
    go('login', true);
  }

  function isGate() { return state.user && state.user.role === 'gate'; }

  function home() { return isGate() ? 'gates' : 'today'; }

  /* Visitors: gate staff register them; the nurse and administrators see them too
   * (a teacher does not: the API says 403). */
  function allowed(name) {
    if (!state.user) return name === 'login';
    if (isGate()) return GATE_VIEWS.indexOf(name) >= 0;
    if (name === 'visitors' || name === 'trends') return state.user.role !== 'teacher';
    return STAFF_VIEWS.indexOf(name) >= 0;
  }

  function seesVisitors() {
    return !!state.user && (state.user.role === 'nurse' || state.user.role === 'admin');
  }

  function go(name, keepMsg) {
    const target = '#/' + name;
    if (location.hash === target) route(keepMsg);
    else { state.keepMsg = keepMsg; location.hash = target; }
  }

  function parseHash() { return parseHashOf(location.hash); }

  function parseHashOf(hash) {
    const parts = hash.replace(/^#\/?/, '').split('/');
    let arg = '';
    try { arg = parts.slice(1).map(decodeURIComponent).join('/'); } catch (e) { arg = ''; }
    return { name: parts[0] || '', arg: arg };
  }

  function stopStream() {
    if (state.stream) state.stream.close();
    state.stream = null;
    clearTimeout(state.retry);
    clearInterval(state.poll);
  }

  const views = {
    login: viewLogin, today: viewToday, person: viewPerson, gates: viewGates, day: viewDay,
    observe: viewObserve, visitors: viewVisitors, registers: viewRegisters, trends: viewTrends,
  };

  async function route(keepMsg) {
    stopStream();
    const r = parseHash();
    if (!allowed(r.name)) {
      /* A link opened before logging in (#/person/S1) is where the login leads. */
      if (!state.user && r.name && r.name !== 'login') state.after = location.hash;
      go(state.user ? home() : 'login', keepMsg || !!state.user);
      return;
    }
    if (!keepMsg && !state.keepMsg) flash('');
    state.keepMsg = false;
    renderChrome(r.name);
    const view = $('#view');
    view.replaceChildren();
    const gen = ++state.gen;
    try {
      await views[r.name](view, r.arg, function () { return gen === state.gen; });
    } catch (e) {
      if (gen === state.gen && !(e instanceof ApiError && e.status === 401)) {
        flash(errorText(e), 'error');
      }
    }
  }

  /* Re-renders the current view (after an action, or a language switch). */
  function refresh() { return route(true); }

  function applyStatic() {
    document.documentElement.lang = I.lang();
    document.title = t('app.title');
    document.querySelectorAll('[data-i18n]').forEach(function (e) {
      e.textContent = t(e.dataset.i18n);
    });
  }

  function renderChrome(name) {
    applyStatic();
    const top = $('#top');
    top.hidden = !state.user;
    if (!state.user) return;
    const u = state.user;
    const role = term('role', u.role);
    $('#user').textContent = u.class ? t('nav.user_class', { name: u.name, role: role, class: u.class })
      : t('nav.user', { name: u.name, role: role });
    document.querySelectorAll('#nav a').forEach(function (a) {
      a.hidden = !allowed(a.dataset.route);
      a.classList.toggle('active', a.dataset.route === name);
    });
  }

  /* ---- building blocks ---------------------------------------------------------------- */

  function personCell(p, card) {
    if (!p) return h('span', { class: 'person-name' }, t('common.unknown_card', { card: card || '?' }));
    return h('a', { href: '#/person/' + encodeURIComponent(p.id), class: 'person' },
      h('div', { class: 'person-name' }, p.name),
      h('div', { class: 'person-sub' }, [p.id, p.class, term('kind', p.kind)].filter(Boolean).join(' · ')));
  }

  /* A table with headers (label keys) and a row of cells per item. */
  function table(cols, items, cells, rowProps) {
    const head = h('tr', null, cols.map(function (c) { return h('th', null, t(c)); }));
    const body = items.map(function (it) {
      return h('tr', rowProps ? rowProps(it) : null, cells(it).map(function (c) {
        return c instanceof Node && c.tagName === 'TD' ? c : h('td', null, c);
      }));
    });
    return h('div', { class: 'scroll' }, h('table', null, h('thead', null, head), h('tbody', null, body)));
  }

  function section(id, titleKey, items, build) {
    const n = items ? items.length : 0;
    /* The key tells a live refresh whether the section changed at all. */
    return h('section', { class: 'card', id: id, dataset: { key: JSON.stringify(items || []) } },
      h('h2', null, t(titleKey), h('span', { class: 'count' + (n ? ' hot' : '') }, n)),
      n ? build(items) : h('p', { class: 'none' }, t('common.none')));
  }

  function field(labelKey, input, optional) {
    return h('label', null, h('span', null, t(labelKey) + (optional ? ' ' + t('common.optional') : '')), input);
  }

  function select(name, group, values, required, chosen) {
    return h('select', { name: name, required: required },
      h('option', { value: '' }, t('f.choose')),
      values.map(function (v) { return h('option', { value: v, selected: v === chosen }, term(group, v)); }));
  }

  function tempInput() {
    return h('input', { type: 'number', name: 'temp', step: '0.01', min: '30', max: '45',
      inputmode: 'decimal', required: true, placeholder: '37.50' });
  }

  function dateInput(name, value, required) {
    return h('input', { type: 'date', name: name, value: value || '', required: required });
  }

  function textInput(name, required, maxlength) {
    return h('input', { type: 'text', name: name, required: required, maxlength: maxlength || 200 });
  }

  /* 38.2 → 3820; null when not a plausible body temperature. */
  function parseTemp(s) {
    const v = parseFloat(String(s).replace(',', '.'));
    return isFinite(v) && v >= 30 && v <= 45 ? Math.round(v * 100) : null;
  }

  function val(form, name) {
    const e = form.elements[name];
    return e ? e.value.trim() : '';
  }

  /* A form whose submit runs `run(form)`; its errors appear next to the button
   * (and on top of the page), and it cannot be sent twice at once. */
  function actionForm(cls, kids, submitKey, run) {
    const status = h('span', { class: 'status', role: 'alert' });
    const button = h('button', { type: 'submit' }, t(submitKey));
    const form = h('form', { class: 'act ' + (cls || ''), novalidate: true }, kids, button, status);
    /* Typed into: a live refresh leaves this form alone. */
    form.addEventListener('input', function () { form.classList.add('dirty'); });
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      status.textContent = '';
      status.className = 'status';
      button.disabled = true;
      try {
        await run(form);
      } catch (e) {
        const text = e instanceof ApiError ? errorText(e) : String(e.message || e);
        status.textContent = text;
        status.className = 'status error';
        flash(text, 'error');
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  class FormError extends Error {}

  function need(form, name, labelKey) {
    const v = val(form, name);
    if (!v) throw new FormError(t('msg.need', { field: t(labelKey) }));
    return v;
  }

  function needTemp(form) {
    const c = parseTemp(val(form, 'temp'));
    if (c === null) throw new FormError(t('msg.bad_temp'));
    return c;
  }

  /* Sends an action, says what happened, and shows the view again. */
  async function act(path, body, okText) {
    const r = await api('POST', path, body);
    flash(typeof okText === 'function' ? okText(r || {}) : okText, 'ok');
    await refresh();
  }

  function label(p) { return p ? p.name || p.id : ''; }

  /* ---- the actions (docs/web-api.md "Actions") ----------------------------------------- */

  function recheckForm(p) {
    return actionForm('recheck', [field('f.temp', tempInput()),
      field('f.instrument', select('instrument', 'instrument', INSTRUMENTS, true, 'axillary'))],
    'act.recheck', function (f) {
      const body = { temp_centi: needTemp(f), instrument: need(f, 'instrument', 'f.instrument') };
      return act(personPath(p.id, 'recheck'), body, function (r) {
        return r.confirmed ? t('msg.recheck_confirmed', { name: label(p), id: r.referral_id })
          : t('msg.recheck_cleared', { name: label(p) });
      });
    });
  }

  function referralForm(p) {
    return actionForm('referral', [
      field('f.outcome', select('outcome', 'refout', REFERRAL_OUTCOMES, true)),
      field('f.note', textInput('note'), true)],
    'act.referral', function (f) {
      const body = { outcome: need(f, 'outcome', 'f.outcome') };
      if (val(f, 'note')) body.note = val(f, 'note');
      return act(personPath(p.id, 'referral'), body, t('msg.referral', { name: label(p) }));
    });
  }

  function symptomBoxes() {
    return h('fieldset', { class: 'symptoms-set' }, h('legend', null, t('f.symptoms')),
      h('div', { class: 'symptoms' }, SYMPTOMS.map(function (s) {
        return h('label', { class: 'inline' },
          h('input', { type: 'checkbox', name: 'symptom', value: s }), term('symptom', s));
      })));
  }

  function absenceBody(f, day) {
    const body = { day: day, cause: need(f, 'cause', 'f.cause') };
    const sym = Array.prototype.filter.call(f.querySelectorAll('input[name=symptom]'),
      function (c) { return c.checked; }).map(function (c) { return c.value; });
    if (sym.length) body.symptoms = sym;
    [['onset', 'onset_day'], ['clinic', 'clinic'], ['diagnosis', 'diagnosis'], ['note', 'note']]
      .forEach(function (kv) { if (val(f, kv[0])) body[kv[1]] = val(f, kv[0]); });
    return body;
  }

  /* The cause of an absence; symptoms, onset, clinic and diagnosis are asked only
   * for an illness. `day` null: the form asks for the day too. `part` ('noon',
   * 'evening'): the cause of that part-day absence, which has symptoms only. */
  function absenceForm(p, day, part) {
    const cause = select('cause', 'cause', CAUSES, true);
    const illness = h('div', { class: 'illness', hidden: true }, symptomBoxes(),
      part ? null : field('f.onset', dateInput('onset', ''), true),
      part ? null : field('f.clinic', select('clinic', 'clinic', CLINIC, false), true),
      part ? null : field('f.diagnosis', textInput('diagnosis'), true));
    cause.addEventListener('change', function () { illness.hidden = cause.value !== 'illness'; });
    const kids = [day ? null : field('f.day', dateInput('day', today(), true)),
      field('f.cause', cause), illness, field('f.note', textInput('note'), true)];
    return actionForm('absence stack', kids, 'act.absence', function (f) {
      const body = absenceBody(f, day || need(f, 'day', 'f.day'));
      if (part) body.part = part;
      return act(personPath(p.id, 'absence'), body, t('msg.absence', { name: label(p) }));
    });
  }

  function leaveForm(p, day) {
    return actionForm('leave', [field('f.from', dateInput('from', day || today(), true)),
      field('f.to', dateInput('to', day || today(), true)),
      field('f.reason', textInput('reason'), true)],
    'act.leave', function (f) {
      const body = { from: need(f, 'from', 'f.from'), to: need(f, 'to', 'f.to') };
      if (val(f, 'reason')) body.reason = val(f, 'reason');
      return act(personPath(p.id, 'leave'), body, t('msg.leave', { name: label(p) }));
    });
  }

  function certificateForm(p) {
    return actionForm('certificate', [field('f.issuer', textInput('issuer', true)),
      field('f.issued', dateInput('issued', today(), true))],
    'act.certificate', function (f) {
      const body = { issuer: need(f, 'issuer', 'f.issuer'), issued_day: need(f, 'issued', 'f.issued') };
      return act(personPath(p.id, 'certificate'), body, t('msg.certificate', { name: label(p) }));
    });
  }

  /* A manual check; without `p` the form asks for the person's ID. */
  function checkForm(p) {
    const kids = [p ? null : field('f.person', textInput('person', true, 64)),
      field('f.window', select('window', 'window', WINDOWS, true)),
      field('f.temp', tempInput()),
      field('f.instrument', select('instrument', 'instrument', INSTRUMENTS, true)),
      field('f.day', dateInput('day', ''), true)];
    return actionForm('check', kids, 'act.check', function (f) {
      const who = p ? p.id : need(f, 'person', 'f.person');
      const body = { window: need(f, 'window', 'f.window'), temp_centi: needTemp(f),
        instrument: need(f, 'instrument', 'f.instrument') };
      if (val(f, 'day')) body.day = val(f, 'day');
      return act(personPath(who, 'check'), body, t('msg.check', { name: p ? label(p) : who }));
    });
  }

  function closeAlertForm(a) {
    return actionForm('close-alert', [field('f.note', textInput('note'), true)], 'act.close_alert',
      function (f) {
        const body = val(f, 'note') ? { note: val(f, 'note') } : {};
        return act('/api/v1/alerts/' + encodeURIComponent(a.id) + '/close', body,
          t('msg.alert', { id: a.id }));
      });
  }

  /* An action folded away behind its name, so a row stays short on a phone. */
  function folded(titleKey, form, open) {
    return h('details', { open: open }, h('summary', null, t(titleKey)), form);
  }

  /* ---- login ---------------------------------------------------------------------------- */

  function viewLogin(view) {
    const status = h('p', { class: 'status error', role: 'alert' });
    const form = h('form', { class: 'card', id: 'login' },
      h('h1', null, t('login.title')),
      field('login.name', h('input', { name: 'name', autocomplete: 'username', required: true })),
      field('login.password', h('input', { name: 'password', type: 'password',
        autocomplete: 'current-password', required: true })),
      h('button', { type: 'submit' }, t('login.submit')), status);
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      status.textContent = '';
      try {
        setSession(await api('POST', '/api/v1/login',
          { name: val(form, 'name'), password: form.elements.password.value }));
        const after = state.after;
        state.after = '';
        if (after && allowed(parseHashOf(after).name)) location.hash = after;
        else go(home());
      } catch (e) {
        status.textContent = e.status === 401 ? t('login.bad')
          : e.status === 429 ? t('login.locked', { s: (e.body && e.body.retry_after_s) || '?' })
            : errorText(e);
      }
    });
    view.append(h('div', { class: 'login' }, form));
    form.elements.name.focus();
  }

  /* ---- Today ---------------------------------------------------------------------------- */

  function dateBar(value, onShow) {
    const input = dateInput('date', value);
    const form = h('form', { class: 'toolbar' }, field('common.date', input),
      h('button', { type: 'submit', class: 'secondary' }, t('common.show')));
    form.addEventListener('submit', function (ev) { ev.preventDefault(); onShow(input.value); });
    return form;
  }

  function flagsSection(items) {
    return section('flags', 'today.flags', items, function (list) {
      return table(['col.person', 'col.time', 'col.lane', 'col.screen', 'col.action'], list,
        function (f) {
          return [personCell(f.person, f.card), fmtTime(f.opened_ms), f.lane || '',
            h('td', { class: 'temp' }, fmtTemp(f.screen_centi)),
            f.person ? recheckForm(f.person) : ''];
        }, function (f) { return { class: 'fever', dataset: { person: f.person ? f.person.id : '' } }; });
    });
  }

  function referralsSection(items) {
    return section('referrals', 'today.referrals', items, function (list) {
      return table(['col.person', 'col.day', 'col.screen', 'col.recheck', 'col.action'], list,
        function (r) {
          return [personCell(r.person), r.day, fmtTemp(r.screen_centi),
            [fmtTemp(r.recheck_centi), ' ', term('instrument', r.recheck_instrument)],
            referralForm(r.person)];
        }, function (r) { return { dataset: { person: r.person.id } }; });
    });
  }

  function absencesSection(items) {
    return section('absences', 'today.absences', items, function (list) {
      return table(['col.person', 'col.day', 'col.action'], list, function (a) {
        return [personCell(a.person), a.day,
          [folded('act.absence', absenceForm(a.person, a.day), true),
            folded('act.leave', leaveForm(a.person, a.day))]];
      }, function (a) { return { dataset: { person: a.person.id } }; });
    });
  }

  /* Noon and evening absences (午检缺勤, 晚检缺勤) of the day still without a cause. */
  function partAbsencesSection(items) {
    return section('part_absences', 'today.part_absences', items, function (list) {
      return table(['col.person', 'col.part', 'col.recorded', 'col.action'], list, function (a) {
        return [personCell(a.person), term('part', a.part), fmtTime(a.recorded_ms),
          folded('act.absence', absenceForm(a.person, a.day, a.part), true)];
      }, function (a) { return { dataset: { person: a.person.id, part: a.part } }; });
    });
  }

  function returnsSection(items) {
    return section('returns', 'today.returns', items, function (list) {
      return table(['col.person', 'col.absence_day', 'col.cause', 'col.action'], list,
        function (r) {
          return [personCell(r.person), r.absence_day, term('cause', r.cause),
            certificateForm(r.person)];
        }, function (r) { return { dataset: { person: r.person.id } }; });
    });
  }

  function alertsSection(items) {
    return section('alerts', 'today.alerts', items, function (list) {
      return table(['col.class', 'col.rule', 'col.day', 'col.cases', 'col.people', 'col.action'],
        list, function (a) {
          return [a.class, term('rule', a.rule), a.day, h('td', { class: 'num' }, a.cases),
            (a.people || []).map(function (id, i) {
              return [i ? ', ' : '', h('a', { href: '#/person/' + encodeURIComponent(id) }, id)];
            }), closeAlertForm(a)];
        }, function (a) { return { dataset: { alert: a.id } }; });
    });
  }

  function todaySections(d) {
    return [flagsSection(d.flags), referralsSection(d.referrals), absencesSection(d.absences),
      partAbsencesSection(d.part_absences), returnsSection(d.returns), alertsSection(d.alerts)];
  }

  /* Someone is filling in a form of this section: replacing it would lose that. */
  function busy(sec) {
    const a = document.activeElement;
    return !!sec.querySelector('form.dirty') ||
      (!!a && sec.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName));
  }

  /* Puts the queue's sections in place; on a refresh only those that changed and
   * that nobody is typing into. */
  function fillQueue(box, d) {
    todaySections(d).forEach(function (sec) {
      const old = box.querySelector('#' + sec.id);
      if (!old) box.append(sec);
      else if (old.dataset.key !== sec.dataset.key && !busy(old)) old.replaceWith(sec);
    });
  }

  /* Today follows the gates: a new light at a lane (a fever, a return to see the
   * nurse) reloads the queue at once; other changes are picked up every minute. */
  function liveToday(box, alive) {
    let timer = 0;
    const again = function () {
      clearTimeout(timer);
      timer = setTimeout(async function () {
        if (!alive()) return;
        try {
          const d = await api('GET', '/api/v1/today');
          if (alive()) fillQueue(box, d);
        } catch (e) { /* shown on the next full render; a 401 went to the login */ }
      }, 300);
    };
    let last = null;
    const es = new EventSource('/api/v1/gates/stream');
    state.stream = es;
    es.addEventListener('lanes', function (ev) {
      let d;
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      const sig = (d.lanes || []).map(function (l) { return l.name + ':' + l.changed_ms; }).join('|');
      if (last !== null && sig !== last) again();
      last = sig;
    });
    state.poll = setInterval(again, 60000);
  }

  async function viewToday(view, arg, alive) {
    const d = await api('GET', '/api/v1/today' + query({ date: state.todayDate }));
    if (!alive()) return;
    if (!state.todayDate) state.today = d.date;
    const box = h('div', { id: 'queue' });
    view.append(h('h1', null, t('today.title'), ' ', h('span', { class: 'hint' }, d.date)),
      dateBar(d.date, function (v) { state.todayDate = v === state.today ? '' : v; refresh(); }),
      box, h('section', { class: 'card', id: 'manual' }, folded('today.manual', checkForm(null))));
    fillQueue(box, d);
    if (seesVisitors()) {
      const v = await api('GET', '/api/v1/visitors' + query({ date: state.todayDate, refused: 'yes' }));
      if (alive()) view.append(visitorsSection('visitor-fevers', 'today.visitor_fevers', v.visitors));
    }
    if (!state.todayDate) liveToday(box, alive);
  }

  /* ---- People --------------------------------------------------------------------------- */

  function searchForm() {
    const input = h('input', { type: 'search', name: 'q', value: state.personQuery,
      placeholder: t('f.q'), required: true });
    const form = h('form', { class: 'toolbar', id: 'search' }, field('f.q', input),
      h('button', { type: 'submit' }, t('act.search')));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      state.personQuery = input.value.trim();
      if (location.hash === '#/person') refresh(); else location.hash = '#/person';
    });
    return form;
  }

  async function viewPerson(view, id, alive) {
    if (id) return viewPersonDetail(view, id, alive);
    view.append(h('h1', null, t('person.title')), searchForm());
    if (!state.personQuery) return;
    const d = await api('GET', '/api/v1/people' + query({ q: state.personQuery }));
    if (!alive()) return;
    const list = d.people || [];
    view.append(h('section', { class: 'card', id: 'results' }, h('h2', null, t('person.results')),
      list.length ? table(['col.person', 'col.kind', 'col.cards', 'col.active'], list, function (p) {
        return [personCell(p), term('kind', p.kind), (p.cards || []).join(', '),
          p.active === false ? t('common.no') : t('common.yes')];
      }) : h('p', { class: 'none' }, t('person.no_match'))));
  }

  function termOf(group) { return function (v) { return term(group, v); }; }

  /* The history tables of the Person page: [field, label, how to show it]. */
  const HISTORY = {
    readings: [['at_ms', 'col.time', fmtDateTime], ['lane', 'col.lane'],
      ['body_centi', 'col.temp', fmtTemp], ['quality', 'col.quality', termOf('quality')],
      ['outcome', 'col.outcome', termOf('outcome')]],
    checks: [['day', 'col.day'], ['window', 'col.window', termOf('window')],
      ['temp_centi', 'col.temp', fmtTemp], ['source', 'col.source', termOf('source')],
      ['instrument', 'col.instrument', termOf('instrument')], ['by', 'col.by'],
      ['at_ms', 'col.time', fmtDateTime]],
    flags: [['opened_ms', 'col.opened', fmtDateTime], ['lane', 'col.lane'],
      ['screen_centi', 'col.screen', fmtTemp], ['threshold_centi', 'col.threshold', fmtTemp],
      ['status', 'col.status', termOf('status')], ['recheck_centi', 'col.recheck', fmtTemp],
      ['recheck_instrument', 'col.instrument', termOf('instrument')],
      ['recheck_by', 'col.recheck_by'], ['referral_outcome', 'col.referral', termOf('refout')]],
    referrals: [['day', 'col.day'], ['opened_ms', 'col.opened', fmtDateTime],
      ['outcome', 'col.referral', termOf('refout')], ['outcome_by', 'col.by'],
      ['outcome_ms', 'col.recorded', fmtDateTime], ['note', 'col.note']],
    absences: [['day', 'col.day'], ['cause', 'col.cause', termOf('cause')],
      ['symptoms', 'col.symptoms', symptomsText], ['onset_day', 'col.onset'],
      ['clinic', 'col.clinic', termOf('clinic')], ['diagnosis', 'col.diagnosis'],
      ['late_ms', 'col.late', fmtTime], ['returned_day', 'col.returned'],
      ['followups', 'col.followups'], ['note', 'col.note'], ['recorded_by', 'col.by']],
    part_absences: [['day', 'col.day'], ['part', 'col.part', termOf('part')],
      ['cause', 'col.cause', termOf('cause')], ['symptoms', 'col.symptoms', symptomsText],
      ['note', 'col.note'], ['recorded_by', 'col.by'], ['recorded_ms', 'col.recorded', fmtDateTime]],
    certificates: [['issued_day', 'col.issued'], ['issuer', 'col.issuer'],
      ['absence_day', 'col.absence_day'], ['checked_by', 'col.checked_by'],
      ['recorded_ms', 'col.recorded', fmtDateTime]],
    leave: [['from', 'col.from'], ['to', 'col.to'], ['reason', 'col.reason'], ['by', 'col.by'],
      ['at_ms', 'col.recorded', fmtDateTime]],
  };

  function symptomsText(v) {
    const list = Array.isArray(v) ? v : String(v || '').split(',').filter(Boolean);
    return list.map(function (s) { return term('symptom', String(s).trim()); }).join('、');
  }

  function historyTable(kind, titleKey, rows) {
    const cols = HISTORY[kind];
    return section('h-' + kind, titleKey, rows || [], function (list) {
      return table(cols.map(function (c) { return c[1]; }), list, function (r) {
        return cols.map(function (c) {
          const v = r[c[0]];
          if (v === null || v === undefined || v === '') return '';
          return c[2] ? c[2](v) : String(v);
        });
      });
    });
  }

  function personHeader(p) {
    return h('section', { class: 'card', id: 'person' },
      h('h1', null, p.name, ' ', h('span', { class: 'hint' }, p.id)),
      h('p', null, [p.class, term('kind', p.kind), term('status', p.status),
        (p.cards || []).length ? t('col.cards') + ' ' + p.cards.join(', ') : '',
        p.active === false ? t('col.active') + ': ' + t('common.no') : '']
        .filter(Boolean).join(' · ')),
      p.needs_certificate ? h('p', { class: 'badge offline' }, t('person.needs_certificate')) : null,
      p.open_case ? h('p', { class: 'badge degraded' }, t('person.open_case')) : null);
  }

  function personActions(p) {
    return h('section', { class: 'card', id: 'actions' }, h('h2', null, t('person.actions')),
      folded('act.check', checkForm(p)), folded('act.recheck', recheckForm(p)),
      folded('act.referral', referralForm(p)), folded('act.absence', absenceForm(p, null)),
      folded('act.leave', leaveForm(p, null)), folded('act.certificate', certificateForm(p)),
      folded('act.observe', observeForm(p)), folded('act.observe_end', observeEndForm(p)));
  }

  function daysBar() {
    const input = h('input', { type: 'number', name: 'days', min: '1', max: '120',
      value: state.personDays });
    const form = h('form', { class: 'toolbar' }, field('f.days', input),
      h('button', { type: 'submit', class: 'secondary' }, t('common.show')));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      const n = parseInt(input.value, 10);
      state.personDays = n >= 1 && n <= 120 ? n : 30;
      refresh();
    });
    return form;
  }

  async function viewPersonDetail(view, id, alive) {
    const d = await api('GET', personPath(id) + query({ days: String(state.personDays) }));
    const o = await api('GET', personPath(id, 'observation'));
    if (!alive()) return;
    const p = d.person;
    append(view, [h('p', null, h('a', { href: '#/person' }, t('person.back'))),
      personHeader(p), personActions(p), observedSection(o), daysBar(),
      Object.keys(HISTORY).map(function (k) { return historyTable(k, 'person.' + k, d[k]); })]);
  }

  /* ---- Observation (健康观察) ------------------------------------------------------------ */

  /* Start one; without `p` the form asks for the person's ID. */
  function observeForm(p) {
    const kids = [p ? null : field('f.person', textInput('person', true, 64)),
      field('f.obs_reason', select('reason', 'obs', OBSERVE_REASONS, true)),
      field('f.obs_days', h('input', { type: 'number', name: 'days', min: '1', max: '60',
        required: true, value: '7' })),
      field('f.from', dateInput('from', today(), true)),
      field('f.note', textInput('note'), true)];
    return actionForm('observe', kids, 'act.observe', function (f) {
      const who = p ? p.id : need(f, 'person', 'f.person');
      const days = parseInt(val(f, 'days'), 10);
      if (!(days >= 1 && days <= 60)) throw new FormError(t('msg.bad_days'));
      const body = { reason: need(f, 'reason', 'f.obs_reason'), days: days,
        from: need(f, 'from', 'f.from') };
      if (val(f, 'note')) body.note = val(f, 'note');
      return act(personPath(who, 'observation'), body, function (r) {
        return t('msg.observe', { name: p ? label(p) : who, from: r.from, to: r.to });
      });
    });
  }

  function observeEndForm(p) {
    return actionForm('observe-end', [], 'act.observe_end', function () {
      return act(personPath(p.id, 'observation/end'), {}, t('msg.observe_end', { name: label(p) }));
    });
  }

  function obsDays(o) {
    return o.from + ' – ' + (o.ended_day ? o.ended_day + ' ' + t('obs.ended') : o.to);
  }

  /* The person's observations and every reading and check of their days. */
  function observedSection(d) {
    const obs = d.observations || [];
    return section('h-observation', 'person.observation', d.checks || [], function (list) {
      return [h('p', null, obs.map(function (o) {
        return term('obs', o.reason) + ' ' + obsDays(o) + (o.note ? '（' + o.note + '）' : '');
      }).join('；')),
      table(['col.time', 'col.source', 'col.temp', 'col.outcome', 'col.lane'], list, function (c) {
        return [fmtDateTime(c.at_ms),
          c.source === 'gate' ? term('source', 'gate') : term('instrument', c.source),
          fmtTemp(c.temp_centi), c.outcome ? term('outcome', c.outcome) : term('window', c.window),
          c.lane || ''];
      }, function (c) { return { class: c.temp_centi >= c.threshold_centi ? 'fever' : null }; })];
    });
  }

  async function viewObserve(view, arg, alive) {
    const d = await api('GET', '/api/v1/observations' + query({ date: state.observeDate }));
    if (!alive()) return;
    view.append(h('h1', null, t('obs.title'), ' ', h('span', { class: 'hint' }, d.date)),
      dateBar(d.date, function (v) { state.observeDate = v; refresh(); }),
      section('observations', 'obs.list', d.people, function (list) {
        return table(['col.person', 'col.reason', 'col.days', 'col.readings', 'col.referred',
          'col.fevers', 'col.last_temp'], list, function (o) {
          return [personCell(o.person), term('obs', o.reason) + (o.note ? '（' + o.note + '）' : ''),
            obsDays(o), o.readings, o.referred, o.fevers, fmtTemp(o.last_centi)];
        }, function (o) { return { dataset: { person: o.person.id } }; });
      }),
      h('section', { class: 'card', id: 'observe-new' }, folded('obs.new', observeForm(null))));
  }

  /* ---- Visitors (来访登记) ---------------------------------------------------------------- */

  const VISITOR_FIELDS = [['name', 'f.v_name'], ['phone', 'f.v_phone'], ['reason', 'f.v_reason'],
    ['host', 'f.v_host'], ['approved_by', 'f.v_approved']];

  function visitorForm(lanes) {
    const kids = [field('f.v_name', textInput('name', true, 64)),
      field('f.v_phone', h('input', { type: 'tel', name: 'phone', required: true, maxlength: 24 })),
      field('f.v_org', textInput('organisation'), true),
      field('f.v_reason', textInput('reason', true)),
      field('f.v_host', textInput('host', true, 64)),
      field('f.v_approved', textInput('approved_by', true, 64)),
      field('f.temp', h('input', { type: 'number', name: 'temp', step: '0.01', min: '30', max: '45',
        inputmode: 'decimal', placeholder: '36.50' }), true),
      field('f.v_lane', h('select', { name: 'lane' }, h('option', { value: '' }, t('f.v_lane_none')),
        lanes.map(function (l) { return h('option', { value: l }, l); })), true)];
    return actionForm('visitor stack', kids, 'act.visitor', function (f) {
      const body = {};
      VISITOR_FIELDS.forEach(function (kv) { body[kv[0]] = need(f, kv[0], kv[1]); });
      if (val(f, 'organisation')) body.organisation = val(f, 'organisation');
      const lane = val(f, 'lane');
      if (val(f, 'temp') && lane) throw new FormError(t('msg.v_temp_or_lane'));
      if (lane) body.lane = lane;
      else if (val(f, 'temp')) body.temp_centi = needTemp(f);
      else throw new FormError(t('msg.v_temp_or_lane'));
      return act('/api/v1/visitors', body, function (r) {
        return t(r.outcome === 'refused' ? 'msg.visitor_refused' : 'msg.visitor',
          { name: r.name, temp: fmtTemp(r.temp_centi) });
      });
    });
  }

  function visitorsSection(id, titleKey, list) {
    return section(id, titleKey, list, function (items) {
      return table(['col.time', 'col.name', 'col.phone', 'col.org', 'col.reason', 'col.host',
        'col.approved', 'col.temp', 'col.outcome'], items, function (v) {
        return [fmtTime(v.at_ms), v.name, v.phone, v.organisation, v.reason, v.host, v.approved_by,
          fmtTemp(v.temp_centi), term('visitor', v.outcome)];
      }, function (v) { return { class: v.outcome === 'refused' ? 'fever' : null, dataset: { id: v.id } }; });
    });
  }

  async function viewVisitors(view, arg, alive) {
    const d = await api('GET', '/api/v1/visitors');
    const g = await api('GET', '/api/v1/gates');
    if (!alive()) return;
    const f = d.figures || {};
    view.append(h('h1', null, t('visitors.title'), ' ', h('span', { class: 'hint' }, d.date)),
      h('section', { class: 'card', id: 'visitor-new' }, h('h2', null, t('visitors.new')),
        visitorForm((g.lanes || []).map(function (l) { return l.name; }))),
      h('p', { id: 'visitor-figures' }, t('visitors.figures', f)),
      visitorsSection('visitors', 'visitors.today', d.visitors));
  }

  /* ---- Gates ------------------------------------------------------------------------------ */

  /* One lane's card, made once and updated in place on every event (so a
   * blinking lamp keeps its rhythm). */
  function laneCard(name) {
    const c = {
      lamp: h('div', { class: 'lamp', role: 'img' }),
      title: h('div', { class: 'lane-name' }),
      outcome: h('div', { class: 'lane-outcome' }),
      person: h('div', { class: 'lane-person' }),
      last: h('div', { class: 'lane-meta lane-last' }),
      device: h('span', { class: 'badge' }),
      flags: h('span', { class: 'lane-flags' }),
      rate: h('div', { class: 'lane-meta lane-rate' }),
      changed: h('div', { class: 'lane-meta lane-changed' }),
      queue: h('div', { class: 'queue-warning', hidden: true }, t('gates.queue')),
    };
    c.root = h('article', { class: 'card lane', dataset: { lane: name } }, c.lamp,
      h('div', { class: 'lane-body' }, c.title, c.outcome, c.person,
        h('div', { class: 'lane-meta' }, t('gates.device'), ' ', c.device, ' ', c.flags),
        c.last, c.rate, c.changed, c.queue));
    return c;
  }

  const DECISIONS = ['admit', 'fever', 'invalid', 'unknown_card', 'no_identity', 'see_nurse',
    'no_measurement'];

  /* The lights go back to idle after their hold; the card keeps the lane's last
   * decision seen since the page opened, for whoever looks a moment later. */
  function lastDecision(c, l) {
    if (DECISIONS.indexOf(l.outcome) >= 0) c.lastSeen = l;
    const d = c.lastSeen;
    c.last.textContent = d ? t('gates.last') + ': ' + [term('outcome', d.outcome), d.person || '',
      typeof d.body_centi === 'number' ? fmtTemp(d.body_centi) : '', fmtTime(d.changed_ms)]
      .filter(Boolean).join(' ') : '';
  }

  function updateLane(c, l) {
    const lamp = ['off', 'green', 'amber', 'red'].indexOf(l.lamp) >= 0 ? l.lamp : 'off';
    c.lamp.className = 'lamp ' + lamp + (l.blink ? ' blink' : '');
    const lampText = t('gates.lamp_label', { lamp: term('lamp', lamp) }) +
      (l.blink ? ' (' + t('gates.blink') + ')' : '');
    c.lamp.setAttribute('aria-label', lampText);
    c.lamp.title = lampText;
    c.title.textContent = l.gate ? l.name + ' · ' + l.gate : l.name;
    c.outcome.textContent = term('outcome', l.outcome);
    c.person.textContent = l.person ? l.person + (typeof l.body_centi === 'number'
      ? '  ' + fmtTemp(l.body_centi) : '') : '';
    c.device.textContent = term('device', l.device_state);
    c.device.className = 'badge ' + l.device_state;
    c.flags.textContent = [l.buzzer ? t('gates.buzzer') : '', l.relay ? t('gates.relay') : '',
      typeof l.clock_skew_s === 'number' ? t('gates.clock_skew', { s: l.clock_skew_s }) : '']
      .filter(Boolean).join(' · ');
    lastDecision(c, l);
    c.rate.textContent = t('gates.per_minute', { n: l.per_minute || 0 });
    c.changed.textContent = l.changed_ms ? t('gates.changed', { t: fmtTime(l.changed_ms) }) : '';
    c.queue.hidden = !l.queue_warning;
    c.root.classList.toggle('queue', !!l.queue_warning);
    Object.assign(c.root.dataset, { lamp: lamp, blink: l.blink ? '1' : '0',
      outcome: l.outcome || '', person: l.person || '' });
  }

  function renderLanes(grid, cards, lanes) {
    const seen = new Set();
    lanes.forEach(function (l) {
      let c = cards.get(l.name);
      if (!c) { c = laneCard(l.name); cards.set(l.name, c); }
      updateLane(c, l);
      grid.append(c.root); /* keeps the server's order */
      seen.add(l.name);
    });
    cards.forEach(function (c, name) {
      if (!seen.has(name)) { c.root.remove(); cards.delete(name); }
    });
    if (!lanes.length) grid.replaceChildren(h('p', { class: 'none' }, t('gates.none')));
  }

  function setLive(e, how) {
    e.className = 'live ' + how;
    e.textContent = t(how === 'on' ? 'gates.live' : how === 'off' ? 'gates.lost' : 'gates.connecting');
  }

  /* A stream the server ended for good (a 401 or another error answer; a network
   * drop the browser retries by itself): is the session still there? */
  async function streamClosed(grid, live, alive) {
    try {
      await api('GET', '/api/v1/session');
    } catch (e) {
      return; /* a 401 has gone back to the login already */
    }
    if (!alive()) return;
    state.retry = setTimeout(function () { if (alive()) openStream(grid, live, alive); }, 3000);
  }

  function openStream(grid, live, alive) {
    const cards = new Map();
    const es = new EventSource('/api/v1/gates/stream');
    state.stream = es;
    es.addEventListener('lanes', function (ev) {
      let d;
      try { d = JSON.parse(ev.data); } catch (e) { return; }
      renderLanes(grid, cards, d.lanes || []);
      setLive(live, 'on');
    });
    es.addEventListener('error', function () {
      setLive(live, 'off');
      if (es.readyState === EventSource.CLOSED) streamClosed(grid, live, alive);
    });
  }

  /* Staggered arrival (错峰上学): each group's slot, whether it is due now, and how
   * many of it came (GET /api/v1/gates; the stream has the lanes only). */
  function renderSlots(box, slots) {
    if (!slots || !slots.length) { box.replaceChildren(); return; }
    const rows = slots.map(function (s) {
      return h('tr', { dataset: { group: s.group, state: s.state } },
        h('td', null, s.group), h('td', null, s.start + '–' + s.end),
        h('td', null, t('slots.' + s.state)), h('td', null, s.arrived + ' / ' + s.expected),
        h('td', null, String(s.late)));
    });
    box.replaceChildren(h('h2', null, t('slots.title')), h('table', { class: 'slots' },
      h('thead', null, h('tr', null, h('th', null, t('slots.group')),
        h('th', null, t('slots.slot')), h('th', null, t('slots.state')),
        h('th', null, t('slots.arrived')), h('th', null, t('slots.late')))),
      h('tbody', null, rows)));
  }

  function pollSlots(box, alive) {
    const load = async function () {
      try {
        const d = await api('GET', '/api/v1/gates');
        if (alive()) renderSlots(box, d.slots);
      } catch (e) { /* a 401 has gone back to the login; others: the next poll */ }
    };
    load();
    state.poll = setInterval(load, 30000);
  }

  function viewGates(view, arg, alive) {
    const live = h('span', { class: 'live', id: 'live' });
    setLive(live, 'connecting');
    const grid = h('div', { class: 'lanes', id: 'lanes' });
    const slots = h('section', { class: 'card', id: 'slots' });
    view.append(h('div', { class: 'toolbar' }, h('h1', null, t('gates.title')), live), grid, slots);
    openStream(grid, live, alive);
    pollSlots(slots, alive);
  }

  /* ---- Day report -------------------------------------------------------------------------- */

  function figureText(name, v) {
    return /coverage_permille$/.test(name) && typeof v === 'number' ? (v / 10).toFixed(1) + '%' : String(v);
  }

  /* The figures in groups by the first part of their name (population,
   * checks, ...), in the order the server sent them. */
  function figuresCard(fig) {
    const groups = new Map();
    Object.keys(fig || {}).forEach(function (n) {
      const g = n === 'expected' || n.indexOf('expected.') === 0 ? 'population' : n.split('.')[0];
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(n);
    });
    const blocks = [];
    groups.forEach(function (names, g) {
      blocks.push(h('div', { class: 'figure-group' }, h('h3', null, term('figgroup', g)),
        names.map(function (n) {
          return h('div', { class: 'figure', dataset: { figure: n } },
            h('span', null, term('fig', n)), ' ', h('strong', null, figureText(n, fig[n])));
        })));
    });
    return h('section', { class: 'card', id: 'figures' }, h('h2', null, t('day.figures')),
      h('div', { class: 'figures' }, blocks));
  }

  function uploadCard(rows) {
    return section('upload', 'day.upload', rows || [], function (list) {
      return table(['col.kind_upload', 'col.revision', 'col.state', 'col.attempts', 'col.last_error',
        'col.sent'], list, function (u) {
        return [term('upload', u.kind), u.revision, term('upload', u.state), u.attempts,
          u.last_error || '', fmtDateTime(u.sent_ms)];
      });
    });
  }

  function exportLinks(list, date, cls) {
    list.replaceChildren.apply(list, EXPORTS.map(function (k) {
      const href = '/api/v1/export/' + k + '.csv' + query({ date: date, class: cls });
      return h('li', null, h('a', { href: href, download: k + '-' + date + (cls ? '-' + cls : '') + '.csv',
        class: 'csv', dataset: { kind: k } }, t('day.export.' + k)), ' ',
      h('span', { class: 'hint' }, [date, cls || t('day.all_classes')].join(' · ')));
    }));
  }

  function exportsCard(date) {
    const teacherClass = state.user.role === 'teacher' ? state.user.class : '';
    const cls = h('input', { type: 'text', name: 'class', value: teacherClass || state.dayClass,
      readonly: !!teacherClass, placeholder: t('day.all_classes') });
    const list = h('ul');
    cls.addEventListener('input', function () {
      state.dayClass = cls.value.trim();
      exportLinks(list, date, state.dayClass);
    });
    exportLinks(list, date, cls.value.trim());
    return h('section', { class: 'card exports', id: 'exports' }, h('h2', null, t('day.exports')),
      field('common.class', cls), list);
  }

  async function viewDay(view, arg, alive) {
    const d = await api('GET', '/api/v1/day' + query({ date: state.dayDate }));
    if (!alive()) return;
    view.append(h('h1', null, t('day.title'), ' ', h('span', { class: 'hint' }, d.date)),
      dateBar(d.date, function (v) { state.dayDate = v; refresh(); }),
      figuresCard(d.figures), uploadCard(d.upload), exportsCard(d.date));
  }

  /* ---- Registers: the paper 晨午检登记表 and 因病缺勤登记表 -------------------------------- */

  /* The printed form is the school's paper form: its headings stay Chinese whatever
   * the page's language (a register is signed and filed as such). */
  const REG_ATTENDANCE = { present: '出勤', late: '迟到', absent: '缺勤', leave: '请假', unchecked: '未检' };
  const REG_CAUSE = { illness: '因病', personal: '事假', other: '其他', unknown: '原因未明', late: '迟到' };
  const REG_SYMPTOM = { fever: '发热', cough: '咳嗽', sore_throat: '咽痛', diarrhoea: '腹泻',
    vomiting: '呕吐', rash: '皮疹', conjunctivitis: '结膜炎（红眼）', other: '其他' };

  function regTemp(centi, threshold) {
    if (centi === null) return '';
    const c = (centi / 100).toFixed(2); /* the column's heading has the unit */
    return centi >= threshold ? c + ' ↑' : c;
  }

  /* The noon column: the temperature, or 午检缺勤 for a pupil the noon sweep found
   * gone (left at noon, did not come back), with the cause once recorded. */
  function regNoon(s) {
    if (s.noon_centi !== null || !s.noon_absence) return regTemp(s.noon_centi, s.threshold_centi);
    return s.noon_absence === 'unknown' ? '午检缺勤'
      : '午检缺勤（' + (REG_CAUSE[s.noon_absence] || s.noon_absence) + '）';
  }

  function regTable(caption, cols, rows) {
    return h('table', { class: 'register-table' }, h('caption', null, caption),
      h('thead', null, h('tr', null, cols.map(function (c) { return h('th', null, c); }))),
      h('tbody', null, rows.length ? rows.map(function (r) {
        return h('tr', null, r.map(function (c) { return h('td', null, c); }));
      }) : h('tr', null, h('td', { colspan: cols.length }, '无'))));
  }

  function regSymptoms(list) {
    return (list || []).map(function (s) { return REG_SYMPTOM[s] || s; }).join('、');
  }

  function registerPage(school, p) {
    const checks = p.students.map(function (s, i) {
      return [i + 1, s.id, s.name, regTemp(s.morning_centi, s.threshold_centi),
        regNoon(s), REG_ATTENDANCE[s.attendance] || s.attendance,
        s.cause ? REG_CAUSE[s.cause] || s.cause : '', regSymptoms(s.symptoms)];
    });
    const ill = p.students.filter(function (s) { return s.cause === 'illness'; }).map(function (s, i) {
      return [i + 1, s.id, s.name, regSymptoms(s.symptoms), s.onset_day || '',
        s.clinic_visit === null ? '' : s.clinic_visit ? '是' : '否', s.diagnosis || '',
        s.returned_day || ''];
    });
    const present = p.students.filter(function (s) { return s.attendance === 'present' || s.attendance === 'late'; }).length;
    return h('section', { class: 'register-page', dataset: { class: p.class, date: p.date } },
      h('h2', null, school + ' 晨午检及因病缺勤登记表'),
      h('p', { class: 'register-meta' }, '班级：' + p.class, ' ', '日期：' + p.date, ' ',
        '应到：' + p.students.length + ' 人', ' ', '实到：' + present + ' 人'),
      regTable('晨午检登记表', ['序号', '学号', '姓名', '晨检体温(℃)', '午检体温(℃)', '出勤', '缺勤原因', '症状'], checks),
      regTable('因病缺勤登记表', ['序号', '学号', '姓名', '症状', '发病日期', '是否就诊', '诊断', '复课日期'], ill),
      h('p', { class: 'register-sign' }, h('span', null, '班主任签名：________________'),
        h('span', null, '日期：______年____月____日')));
  }

  function registerControls(d) {
    const teacherClass = state.user.role === 'teacher' ? state.user.class : '';
    const date = dateInput('date', d.date, true);
    const span = select('span', 'reg_span', ['day', 'week'], true, state.regSpan);
    const cls = h('input', { type: 'text', name: 'class', value: teacherClass || state.regClass,
      readonly: !!teacherClass, placeholder: t('day.all_classes') });
    const form = h('form', { class: 'datebar noprint', id: 'register-form' }, field('common.date', date),
      field('reg.span', span), field('common.class', cls),
      h('button', { type: 'submit' }, t('common.show')));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      state.regDate = date.value;
      state.regSpan = span.value;
      state.regClass = teacherClass ? '' : cls.value.trim();
      refresh();
    });
    const print = h('button', { type: 'button', id: 'register-print' }, t('reg.print'));
    print.addEventListener('click', function () { window.print(); });
    const csv = h('a', { href: '/api/v1/export/registers.csv' + query({ date: d.date, span: d.span, class: d.class || '' }),
      download: 'register-' + d.date + '.csv', class: 'csv', id: 'register-csv' }, t('reg.csv'));
    return h('div', { class: 'noprint' }, form, h('p', { class: 'actions' }, print, ' ', csv,
      ' ', h('span', { class: 'hint' }, t('reg.hint', { pages: d.pages.length }))));
  }

  async function viewRegisters(view, arg, alive) {
    const d = await api('GET', '/api/v1/registers' + query({ date: state.regDate, span: state.regSpan,
      class: state.regClass }));
    if (!alive()) return;
    view.append(h('h1', { class: 'noprint' }, t('reg.title')), registerControls(d),
      h('div', { class: 'registers' }, d.pages.length ? d.pages.map(function (p) { return registerPage(d.school, p); })
        : h('p', { class: 'empty' }, t('reg.none'))));
  }

  /* ---- Trends: the last 30 days as SVG charts (charts.js) ------------------------------- */

  function permilleText(v) { return (v / 10).toFixed(1) + '%'; }

  async function viewTrends(view, arg, alive) {
    const d = await api('GET', '/api/v1/trends' + query({ date: state.trendDate }));
    if (!alive()) return;
    const C = window.GS_CHARTS;
    const symptoms = Object.keys(d.symptoms).filter(function (k) {
      return d.symptoms[k].some(function (v) { return v; });
    });
    const card = function (titleKey, chart) {
      return h('section', { class: 'card trend' }, h('h2', null, t(titleKey)), chart);
    };
    view.append(h('h1', null, t('trends.title'), ' ', h('span', { class: 'hint' }, d.from + ' – ' + d.to)),
      dateBar(d.to, function (v) { state.trendDate = v; refresh(); }),
      card('trends.rate', C.line({ id: 'chart-rate', dates: d.dates, max: 1000, format: permilleText,
        series: [{ name: 'check_rate_permille', label: t('trends.rate'), values: d.series.check_rate_permille }] })),
      card('trends.fever', C.line({ id: 'chart-fever', dates: d.dates, series: [
        { name: 'fever_screens', label: t('trends.screens'), values: d.series.fever_screens },
        { name: 'fever_confirmed', label: t('trends.confirmed'), values: d.series.fever_confirmed }] })),
      /* Only for a school that has noon or evening absences (午检、晚检缺勤) in the
       * span: a flat zero line would read as nobody missing where nobody swept. */
      d.series.noon_absences.concat(d.series.evening_absences).some(function (v) { return v > 0; })
        ? card('trends.parts', C.line({ id: 'chart-parts', dates: d.dates, series: [
          { name: 'noon_absences', label: t('trends.noon'), values: d.series.noon_absences },
          { name: 'evening_absences', label: t('trends.evening'), values: d.series.evening_absences }] }))
        : null,
      card('trends.by_class', C.line({ id: 'chart-class', dates: d.dates,
        series: d.classes.map(function (c) { return { name: 'class:' + c.class, label: c.class, values: c.illness_absences }; }) })),
      card('trends.by_symptom', C.line({ id: 'chart-symptom', dates: d.dates,
        series: symptoms.map(function (k) { return { name: 'symptom:' + k, label: term('symptom', k), values: d.symptoms[k] }; }) })),
      h('p', null, h('a', { href: '/api/v1/export/trends.csv' + query({ date: d.to }), class: 'csv',
        id: 'trends-csv', download: 'trends-' + d.to + '.csv' }, t('trends.csv'))));
  }

  /* ---- start --------------------------------------------------------------------------------- */

  async function start() {
    $('#lang').addEventListener('click', function () { I.setLang(I.other()); refresh(); });
    $('#logout').addEventListener('click', async function () {
      try { await api('POST', '/api/v1/logout', {}); } catch (e) { /* gone already */ }
      state.user = null;
      state.csrf = '';
      go('login');
    });
    window.addEventListener('hashchange', function () { route(); });
    applyStatic();
    try {
      setSession(await api('GET', '/api/v1/session'));
    } catch (e) {
      if (e.status !== 401) flash(errorText(e), 'error');
    }
    route(true);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
