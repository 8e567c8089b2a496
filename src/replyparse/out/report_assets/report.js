/* replyparse review report: builds the table and a letter's highlighted text from the JSON
   embedded in the page. Plain DOM, no framework: the page must open anywhere without a network. */
(function () {
  'use strict';
  var $ = function (s, el) { return (el || document).querySelector(s); };
  var data = function (id) { return JSON.parse(document.getElementById(id).textContent); };
  var META = data('rp-meta'), ROWS = data('rp-rows');
  var DETAILS = null, unpacking = null; // the letters' texts: unpacked when a letter is first opened
  function loadDetails() {
    if (DETAILS) return Promise.resolve(DETAILS);
    if (!unpacking) {
      if (!window.DecompressionStream) {
        return Promise.reject(new Error('this browser cannot unpack the letters (it needs DecompressionStream: ' +
          'Chrome/Edge 80+, Firefox 113+, Safari 16.4+)'));
      }
      var bin = atob(document.getElementById('rp-details').textContent.trim()), bytes = new Uint8Array(bin.length);
      for (var k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
      unpacking = new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text()
        .then(function (t) { DETAILS = JSON.parse(t); return DETAILS; });
    }
    return unpacking;
  }
  function detail(i) { return DETAILS && DETAILS[i]; }
  var NONE = '\u2205'; // filter value for "not stated"
  var CHART_NONE = { 'no year': true, 'not stated': true };

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function yuan(v) { return v == null ? '' : Number(v).toLocaleString('en-US', { maximumFractionDigits: 2 }); }
  function wan(v) { return v == null ? '' : (v / 1e4).toLocaleString('en-US', { maximumFractionDigits: 2 }) + ' 万'; }
  function num(v) { return v == null ? '' : (v / 1e4).toLocaleString('en-US', { maximumFractionDigits: 2 }); }
  function base(src) { return String(src || '').split('/').pop(); }

  /* ------------------------------------------------------------ header */
  function stats() {
    var m = META, s = [];
    s.push('<span><b>' + m.letters + '</b> letters of ' + m.records + ' records</span>');
    Object.keys(m.statuses).forEach(function (k) { if (k !== 'ok') s.push('<span>' + m.statuses[k] + ' ' + esc(k) + '</span>'); });
    s.push('<span><b>' + m.with_warnings + '</b> letters with warnings</span>');
    s.push('<span>requested <b>' + wan(m.requested) + '</b>元</span>');
    s.push('<span>allocated <b>' + wan(m.allocated) + '</b>元</span>');
    if (m.gold) {
      s.push('<span>gold: <b>' + m.gold.with_mismatch + '</b> of ' + m.gold.letters + ' letters disagree · header F1 ' +
        m.gold.header_micro_f1 + ' · amount+role F1 ' + m.gold.amount_value_role_f1 + ' · actions F1 ' + m.gold.actions_micro_f1 + '</span>');
    }
    s.push('<span class="small">' + esc(m.sources.join(' ')) + ' · ' + esc(m.generated) + '</span>');
    $('#stats').innerHTML = s.join('');
  }

  /* ------------------------------------------------------------ charts */
  function drawCharts() {
    var box = $('#charts'), done = [];
    if (!window.Plotly) { box.textContent = 'Plotly did not load.'; return Promise.resolve(); }
    data('rp-charts').forEach(function (c) {
      var div = document.createElement('div');
      div.className = 'chart'; div.id = 'chart-' + c.id;
      box.appendChild(div);
      done.push(Plotly.newPlot(div, c.figure.data, c.figure.layout, { displaylogo: false, displayModeBar: false, responsive: true }).then(function () {
        if (!c.click) return;
        div.on('plotly_click', function (ev) {
          var v = ev.points[0].customdata;
          if (c.click === 'open') { openLetter(Number(v), true); return; }
          setFilter(c.click, CHART_NONE[v] ? NONE : String(v));
        });
      }));
    });
    return Promise.all(done);
  }

  /* ------------------------------------------------------------ table */
  var FILTERS = [ // key, label, values of a row
    ['iss', 'issuer', function (r) { return [r.iss]; }],
    ['yr', 'year', function (r) { return [r.yr]; }],
    ['body', 'body', function (r) { return [r.body]; }],
    ['kind', 'kind', function (r) { return [r.kind]; }],
    ['cls', 'class', function (r) { return [r.cls]; }],
    ['cat', 'action', function (r) { return r.cats; }],
    ['wk', 'warnings', function (r) { return r.wk.length ? r.wk.concat(['(any warning)']) : ['(no warning)']; }],
    ['st', 'status', function (r) { return [r.st]; }]
  ];
  if (META.gold) FILTERS.push(['miss', 'gold', function (r) {
    return [r.miss == null ? '(no gold)' : r.miss ? '(disagrees)' : '(agrees)'];
  }]);
  var COLS = [ // key, header, cell html, numeric
    ['i', '#', function (r) { return r.i + 1; }, 1],
    ['src', 'letter', function (r) {
      return '<div class="src" title="' + esc(r.src) + '">' + esc(base(r.src)) + '</div><div class="sub" title="' + esc(r.title || '') + '">' +
        esc(r.title || r.doc || '') + '</div>';
    }],
    ['iss', 'issuer', function (r) { return esc(r.iss); }],
    ['yr', 'year', function (r) { return r.yr == null ? '' : r.yr; }, 1],
    ['bk', 'proposal', function (r) { return esc(r.bk); }],
    ['cls', 'class', function (r) { return esc(r.cls); }],
    ['req', 'requested<br>万元', function (r) { return num(r.req); }, 1],
    ['alloc', 'allocated<br>万元', function (r) { return num(r.alloc); }, 1],
    ['nc', 'acts', function (r) { return r.nc; }, 1],
    ['nw', 'warn', function (r) {
      return r.w.length ? '<span class="badge warn" title="' + esc(r.w.join('\n')) + '">' + r.w.length + '</span>' : '';
    }, 1]
  ];
  if (META.gold) COLS.push(['miss', 'gold', function (r) {
    return r.miss == null ? '' : r.miss ? '<span class="badge bad">' + r.miss + '</span>' : '<span class="badge good">✓</span>';
  }, 1]);
  ROWS.forEach(function (r) { r.nw = r.w.length; r.bk = r.body || r.kind ? (r.body || '') + (r.kind || '') : null; });

  var state = { sort: 'i', dir: 1, page: 0, per: 100, f: {}, q: '', list: ROWS, sel: null };

  function buildFilters() {
    var html = '<label>search<input id="q" type="search" placeholder="file, issuer, title, doc no."></label>';
    FILTERS.forEach(function (f) {
      var n = {};
      ROWS.forEach(function (r) { f[2](r).forEach(function (v) { v = v == null ? NONE : String(v); n[v] = (n[v] || 0) + 1; }); });
      var keys = Object.keys(n).sort(function (a, b) {
        if (f[0] === 'iss') return n[b] - n[a] || a.localeCompare(b);
        return a.localeCompare(b, 'zh');
      });
      html += '<label>' + f[1] + '<select data-f="' + f[0] + '"><option value="">all</option>' + keys.map(function (k) {
        return '<option value="' + esc(k) + '">' + esc(k === NONE ? '(not stated)' : k) + ' (' + n[k] + ')</option>';
      }).join('') + '</select></label>';
    });
    html += '<button id="clear" type="button">clear filters</button>';
    var box = $('#filters');
    box.innerHTML = html;
    box.addEventListener('change', function (e) {
      var k = e.target.getAttribute('data-f');
      if (k) { state.f[k] = e.target.value; apply(); }
    });
    $('#q').addEventListener('input', function (e) { state.q = e.target.value.trim().toLowerCase(); apply(); });
    $('#clear').addEventListener('click', function () {
      state.f = {}; state.q = ''; $('#q').value = '';
      box.querySelectorAll('select').forEach(function (s) { s.value = ''; });
      apply();
    });
  }

  function setFilter(key, value) {
    var sel = $('select[data-f="' + key + '"]');
    if (!sel || !Array.prototype.some.call(sel.options, function (o) { return o.value === value; })) return;
    sel.value = value; state.f[key] = value; apply();
    $('#review').scrollIntoView({ behavior: 'smooth' });
  }

  function apply() {
    var active = FILTERS.filter(function (f) { return state.f[f[0]]; }), q = state.q;
    state.list = ROWS.filter(function (r) {
      for (var k = 0; k < active.length; k++) {
        var want = state.f[active[k][0]];
        if (!active[k][2](r).some(function (v) { return (v == null ? NONE : String(v)) === want; })) return false;
      }
      return !q || [r.src, r.iss, r.title, r.doc].some(function (v) { return v && String(v).toLowerCase().indexOf(q) >= 0; });
    });
    var key = state.sort, dir = state.dir;
    state.list.sort(function (a, b) {
      var x = a[key], y = b[key];
      if (x == null && y == null) return a.i - b.i;
      if (x == null) return 1; // not stated: always last
      if (y == null) return -1;
      if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir || a.i - b.i;
      return String(x).localeCompare(String(y), 'zh') * dir || a.i - b.i;
    });
    state.page = 0;
    drawTable();
  }

  function drawTable() {
    $('#letters thead').innerHTML = '<tr>' + COLS.map(function (c) {
      var cls = (c[3] ? 'num ' : '') + (state.sort === c[0] ? 'sorted' + (state.dir < 0 ? ' desc' : '') : '');
      return '<th data-k="' + c[0] + '" class="' + cls + '">' + c[1] + '</th>';
    }).join('') + '</tr>';
    var from = state.page * state.per, rows = state.list.slice(from, from + state.per);
    $('#letters tbody').innerHTML = rows.map(function (r) {
      return '<tr data-i="' + r.i + '" class="' + (r.st !== 'ok' ? 'notok ' : '') + (r.i === state.sel ? 'sel' : '') + '">' +
        COLS.map(function (c) { return '<td' + (c[3] ? ' class="num"' : '') + '>' + c[2](r) + '</td>'; }).join('') + '</tr>';
    }).join('');
    var n = state.list.length, pages = Math.max(1, Math.ceil(n / state.per));
    $('#count').textContent = n === ROWS.length ? '(' + n + ')' : '(' + n + ' of ' + ROWS.length + ')';
    $('#pager').innerHTML = '<button type="button" data-p="-1"' + (state.page ? '' : ' disabled') + '>◀</button>' +
      '<span>' + (n ? from + 1 : 0) + '–' + Math.min(n, from + state.per) + ' of ' + n + ' · page ' + (state.page + 1) + ' / ' + pages + '</span>' +
      '<button type="button" data-p="1"' + (state.page + 1 < pages ? '' : ' disabled') + '>▶</button>';
  }

  function tableEvents() {
    $('#letters thead').addEventListener('click', function (e) {
      var th = e.target.closest('th'); if (!th) return;
      var k = th.getAttribute('data-k');
      if (state.sort === k) state.dir = -state.dir; else { state.sort = k; state.dir = k === 'i' || k === 'src' || k === 'iss' ? 1 : -1; }
      apply();
    });
    $('#letters tbody').addEventListener('click', function (e) {
      var tr = e.target.closest('tr'); if (tr) openLetter(Number(tr.getAttribute('data-i')));
    });
    $('#pager').addEventListener('click', function (e) {
      var b = e.target.closest('button'); if (!b) return;
      state.page += Number(b.getAttribute('data-p')); drawTable();
    });
    document.addEventListener('keydown', function (e) {
      if (/INPUT|SELECT|TEXTAREA/.test(e.target.tagName) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'j') step(1); else if (e.key === 'k') step(-1);
    });
  }

  function step(d) {
    var list = state.list, k = -1;
    for (var n = 0; n < list.length; n++) if (list[n].i === state.sel) { k = n; break; }
    var next = list[Math.max(0, Math.min(list.length - 1, k + d))];
    if (!next) return;
    var page = Math.floor(list.indexOf(next) / state.per);
    if (page !== state.page) { state.page = page; drawTable(); }
    openLetter(next.i);
  }

  /* ------------------------------------------------------------ a letter */
  function marksOf(d, warnings) {
    var marks = [], unsure = {};
    warnings.forEach(function (w) { var m = /^role unsure: .* at (\d+)$/.exec(w); if (m) unsure[m[1]] = true; });
    d.fields.forEach(function (f) {
      if (f[3] == null || f[4] <= f[3]) return;
      marks.push({ id: 'f:' + f[0], s: f[3], e: f[4], kind: 'f', miss: f[5],
        tip: f[0] + ' = ' + (f[1] == null ? '(null)' : f[1]) + '\nrule ' + f[2] });
    });
    d.amounts.forEach(function (a, k) {
      if (a[6] <= a[5]) return;
      var tip = 'amount · ' + a[3] + ' · ' + a[0] + ' = ' + yuan(a[1]) + (a[2] != null ? '–' + yuan(a[2]) : '') + ' 元' +
        (a[7] ? '\npurpose ' + a[7] : '') + (a[8] ? '\nfunder ' + a[8] : '') + (a[9] != null ? '\npart of amount ' + (a[9] + 1) : '') +
        '\nrule ' + a[4] + (unsure[a[5]] ? '\nrole unsure' : '');
      marks.push({ id: 'a:' + k, s: a[5], e: a[6], kind: 'a', role: a[3], miss: a[10], unsure: !!unsure[a[5]], tip: tip });
    });
    d.actions.forEach(function (c, k) {
      if (c[3] <= c[2]) return;
      marks.push({ id: 'c:' + k, s: c[2], e: c[3], kind: 'c', cat: c[0], miss: c[4],
        tip: 'action · ' + c[0] + ' ' + (META.action_zh[c[0]] || '') + '\nrule ' + c[1] });
    });
    return marks;
  }

  /* The text cut at every mark boundary; each piece knows every mark over it, so overlapping
     values (an amount inside an action clause inside a field) all stay visible and hoverable. */
  function highlighted(text, marks) {
    var cuts = { 0: 1 }; cuts[text.length] = 1;
    marks.forEach(function (m) { cuts[m.s] = 1; cuts[m.e] = 1; });
    var pts = Object.keys(cuts).map(Number).sort(function (a, b) { return a - b; }), out = [];
    for (var k = 0; k + 1 < pts.length; k++) {
      var s = pts[k], e = pts[k + 1], piece = esc(text.slice(s, e));
      var over = marks.filter(function (m) { return m.s <= s && m.e >= e; });
      if (!over.length) { out.push(piece); continue; }
      var cls = ['hl'], shadows = [], tips = [], ids = [];
      over.forEach(function (m) {
        ids.push(m.id); tips.push(m.tip + (m.miss ? '\n✗ disagrees with gold' : ''));
        if (m.kind === 'f') cls.push('hf');
        if (m.kind === 'a') cls.push('ha', 'r-' + m.role);
        if (m.kind === 'c') shadows.push('0 ' + (2 + 3 * shadows.length) + 'px 0 ' + (META.action_colors[m.cat] || '#444'));
        if (m.unsure) cls.push('unsure');
        if (m.miss) cls.push('miss');
      });
      out.push('<span class="' + cls.join(' ') + '" data-m="' + ids.join(' ') + '" title="' + esc(tips.join('\n\n')) + '"' +
        (shadows.length ? ' style="box-shadow:' + shadows.join(',') + '"' : '') + '>' + piece + '</span>');
    }
    return out.join('');
  }

  function legend() {
    var h = META.roles.map(function (r) { return '<span><i class="sw r-' + r + '"></i>' + r + '</span>'; });
    h.push('<span><i class="sw hf"></i>field</span>');
    Object.keys(META.action_colors).forEach(function (c) {
      h.push('<span><i class="ul" style="border-color:' + META.action_colors[c] + '"></i>' + c + ' ' + META.action_zh[c] + '</span>');
    });
    h.push('<span><i class="sw unsure"></i>role unsure</span>');
    if (META.gold) h.push('<span><i class="sw miss"></i>disagrees with gold</span>');
    return '<div class="legend">' + h.join('') + '</div>';
  }

  function openLetter(i, scroll) {
    if (!ROWS[i]) return;
    loadDetails().then(function () { showLetter(i, scroll); }, function (err) {
      $('#letter').innerHTML = '<div class="box gold">' + esc(err.message) + '</div>';
    });
  }

  function showLetter(i, scroll) {
    var r = ROWS[i], d = detail(i);
    state.sel = i;
    document.querySelectorAll('#letters tbody tr.sel').forEach(function (tr) { tr.classList.remove('sel'); });
    var tr = $('#letters tbody tr[data-i="' + i + '"]'); if (tr) tr.classList.add('sel');
    var h = [];
    h.push('<div class="lhead"><div class="src">#' + (i + 1) + ' · ' + esc(r.src) + (d.format ? ' · ' + esc(d.format) : '') +
      (d.pages ? ' · ' + d.pages + ' page' + (d.pages > 1 ? 's' : '') : '') + ' · status ' + esc(r.st) + '</div>' +
      '<div class="nav"><button type="button" data-step="-1">◀ prev</button> <button type="button" data-step="1">next ▶</button></div></div>');
    h.push('<h3>' + esc(r.title || base(r.src)) + '</h3>');
    if (r.st === 'ok') {
      h.push('<div class="sub">' + [r.iss, r.doc, r.date, r.kind && r.no ? (r.body || '') + r.kind + ' ' + r.no : null,
        r.cls ? 'class ' + r.cls : null, 'requested ' + (r.req == null ? '—' : yuan(r.req) + ' 元'),
        'allocated ' + (r.alloc == null ? '—' : yuan(r.alloc) + ' 元')].filter(Boolean).map(esc).join(' · ') + '</div>');
    }
    // the warnings first: this is where a reviewer starts
    if (d.ocr) {
      h.push('<div class="box warnings ocr"><b>read by OCR</b> — confidence by page: ' + d.ocr.map(function (c, k) {
        return 'page ' + (k + 1) + ' ' + (c == null ? 'text layer' : Number(c).toFixed(3));
      }).join(' · ') + '</div>');
    }
    if (r.w.length) {
      h.push('<div class="box warnings"><b>' + r.w.length + ' warning' + (r.w.length > 1 ? 's' : '') + '</b><ul>' + r.w.map(function (w) {
        var m = /^role unsure: .* at (\d+)$/.exec(w);
        return '<li>' + (m ? '<a href="#" data-at="' + m[1] + '">' + esc(w) + '</a>' : esc(w)) + '</li>';
      }).join('') + '</ul></div>');
    } else {
      h.push('<div class="box ok">no warnings</div>');
    }
    if (d.gold) {
      h.push(d.gold.length ? '<div class="box gold"><b>' + d.gold.length + ' disagreement' + (d.gold.length > 1 ? 's' : '') +
        ' with gold</b><ul>' + d.gold.map(function (g) {
          return '<li><b>' + esc(g.field) + '</b>: got ' + esc(g.got == null ? '—' : JSON.stringify(g.got)) +
            ', gold ' + esc(g.gold == null ? '—' : JSON.stringify(g.gold)) + '</li>';
        }).join('') + '</ul></div>' : '<div class="box ok">agrees with gold</div>');
    }
    var marks = marksOf(d, r.w);
    h.push(legend());
    h.push('<div class="text" id="ltext">' + (d.text ? highlighted(d.text, marks) : '<span class="muted">(no text' +
      (d.reason ? ': ' + esc(d.reason) : '') + ')</span>') + '</div>');
    h.push('<details open><summary>fields</summary><div class="fields">' + d.fields.map(function (f) {
      var v = f[1] == null ? '<span class="v missing" data-go="f:' + f[0] + '">(none)</span>' :
        '<span class="v" data-go="f:' + f[0] + '">' + esc(f[1]) + '</span>';
      return '<span class="k" data-go="f:' + f[0] + '">' + f[0] + (f[5] ? ' <span class="badge bad">✗</span>' : '') + '</span><span>' +
        v + (f[2] ? '<span class="rule">' + esc(f[2]) + '</span>' : '') + '</span>';
    }).join('') +
      '<span class="k">requested</span><span>' + (r.req == null ? '—' : yuan(r.req) + ' 元') + '</span>' +
      '<span class="k">allocated</span><span>' + (r.alloc == null ? '—' : yuan(r.alloc) + ' 元') + '</span></div></details>');
    if (d.amounts.length) {
      h.push('<details open><summary>' + d.amounts.length + ' amounts</summary><table class="small"><tr><th>#</th><th>as written</th>' +
        '<th class="num">yuan</th><th>role</th><th>purpose / funder</th><th>rule</th></tr>' + d.amounts.map(function (a, k) {
          return '<tr data-go="a:' + k + '"><td>' + (k + 1) + '</td><td><span class="hl ha r-' + esc(a[3]) + (a[10] ? ' miss' : '') + '">' + esc(a[0]) +
            '</span></td><td class="num">' + yuan(a[1]) + (a[2] != null ? '–' + yuan(a[2]) : '') + '</td><td>' + esc(a[3]) +
            '</td><td>' + esc([a[7], a[8]].filter(Boolean).join(' / ')) + '</td><td class="rule">' + esc(a[4]) + '</td></tr>';
        }).join('') + '</table></details>');
    }
    if (d.actions.length) {
      h.push('<details open><summary>' + d.actions.length + ' actions</summary><table class="small"><tr><th>category</th><th>clause</th><th>rule</th></tr>' +
        d.actions.map(function (c, k) {
          return '<tr data-go="c:' + k + '"><td><i class="ul" style="border-color:' + (META.action_colors[c[0]] || '#444') + '"></i>' +
            esc(c[0]) + (c[4] ? ' <span class="badge bad">✗</span>' : '') + '</td><td>' + esc(d.text.slice(c[2], c[3])) +
            '</td><td class="rule">' + esc(c[1]) + '</td></tr>';
        }).join('') + '</table></details>');
    }
    h.push('<div id="hover"></div>');
    var box = $('#letter');
    box.innerHTML = h.join('');
    box.scrollTop = 0;
    if (history.replaceState) history.replaceState(null, '', '#L' + (i + 1));
    if (scroll) $('#review').scrollIntoView({ behavior: 'smooth' });
  }

  function goTo(id) {
    var el = document.querySelector('#ltext [data-m~="' + id + '"]');
    if (!el) return;
    el.scrollIntoView({ block: 'center', behavior: 'smooth' });
    el.classList.remove('flash'); void el.offsetWidth; el.classList.add('flash');
  }

  function letterEvents() {
    var box = $('#letter');
    box.addEventListener('click', function (e) {
      var t = e.target.closest('[data-step],[data-go],[data-at]');
      if (!t) return;
      if (t.hasAttribute('data-step')) { step(Number(t.getAttribute('data-step'))); return; }
      if (t.hasAttribute('data-at')) {
        e.preventDefault();
        var at = Number(t.getAttribute('data-at')), d = detail(state.sel);
        for (var k = 0; k < d.amounts.length; k++) if (d.amounts[k][5] === at) { goTo('a:' + k); return; }
        return;
      }
      goTo(t.getAttribute('data-go'));
    });
    // the field and rule of what the pointer is over, also where tooltips do not show
    box.addEventListener('mouseover', function (e) {
      var hv = $('#hover'); if (!hv) return;
      var t = e.target.closest('#ltext .hl');
      hv.textContent = t ? t.getAttribute('title') : '';
    });
  }

  /* ------------------------------------------------------------ start */
  stats();
  buildFilters();
  tableEvents();
  letterEvents();
  apply();
  var m = /^#L(\d+)$/.exec(location.hash);
  if (m) openLetter(Number(m[1]) - 1);
  drawCharts().then(function () {
    window.rpReadyMs = Math.round(performance.now()); // since navigation start: what bench/report.py reports
    document.body.setAttribute('data-ready', '1');
    setTimeout(function () { loadDetails().catch(function () {}); }, 50); // unpacked while the reader looks at the charts
  }, function (err) {
    document.body.setAttribute('data-ready', 'error');
    throw err;
  });
})();
