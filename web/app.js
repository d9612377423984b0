/* web/app.js — the tix analyst console: one page, routes in the URL's hash
 * (#/, #/search?q=, #/library?q=, #/object/ID, #/drills), data from this node's /api/v1 and
 * /ui/session only. Every piece of data is put in the page as text
 * (textContent, createTextNode): never as markup; a link is made only for an
 * http(s) URL, checked after parsing. */
'use strict';

(function () {
  var state = { who: null, csrf: null, after: null, key: null };
  var main = document.getElementById('main');
  var errorBox = document.getElementById('error');
  var LONG = 2000; /* characters of a value shown before "show all" */
  var MANY = 100; /* items of a list shown before "and N more" */

  /* ---- making elements (text only) ---------------------------------------- */

  function el(tag, attrs) {
    var e = document.createElement(tag);
    var k;
    for (k in attrs || {}) {
      if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }

  function add(parent, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(parent, c); }); return; }
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  /* A link only for http: and https: URLs; anything else is text. */
  function safeLink(url) {
    var u;
    try { u = new URL(String(url), location.href); } catch (e) { return el('span', { cls: 'value', text: String(url) }); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return el('span', { cls: 'value', text: String(url) });
    return el('a', { href: u.href, rel: 'noopener noreferrer nofollow', cls: 'value', text: String(url) });
  }

  function objectLink(id, label) {
    return el('a', { href: '#/object/' + encodeURIComponent(id), cls: 'value', text: label || id });
  }

  /* A long text shown cut, with a button that shows it all (still as text). */
  function longText(s) {
    s = String(s);
    var span = el('span', { cls: 'value', text: s.length > LONG ? s.slice(0, LONG) + '…' : s });
    if (s.length <= LONG) return span;
    var b = el('button', { type: 'button', cls: 'more', text: 'show all ' + s.length + ' characters' });
    b.addEventListener('click', function () { span.textContent = s; b.remove(); });
    return el('span', null, span, ' ', b);
  }

  function tlpBadge(tlp) {
    var t = String(tlp || 'unset');
    return el('span', { cls: 'tlp tlp-' + t.replace(/[^a-z]/g, '-'), text: 'TLP:' + t.toUpperCase() });
  }

  function table(headers, rows) {
    var thead = el('thead', null, el('tr', null, headers.map(function (h) { return el('th', { scope: 'col', text: h }); })));
    var tbody = el('tbody', null, rows.map(function (r) {
      return el('tr', null, r.map(function (c) { return el('td', null, c); }));
    }));
    return el('table', null, thead, tbody);
  }

  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.hidden = !msg;
  }

  /* ---- talking to the node -------------------------------------------------- */

  var TAXII = 'application/taxii+json;version=2.1';

  /* One request to the node; body: an object (sent as JSON), or with
   * opts.type the raw bytes (a File) of that media type. */
  function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { Accept: opts.accept || 'application/json' };
    var init = { method: method, credentials: 'same-origin', headers: headers };
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    if (state.key) headers.Authorization = 'Bearer ' + state.key;
    if (body !== undefined) {
      headers['Content-Type'] = opts.type || 'application/json';
      init.body = opts.type && opts.raw ? body : JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        if (r.status === 401 && path !== '/ui/session') { signedOut(); }
        if (!r.ok) {
          var why = data && (data.description || data.title) ? (data.description || data.title) : ('HTTP ' + r.status);
          var err = new Error(why);
          err.status = r.status;
          err.data = data;
          throw err;
        }
        return data;
      });
    }, function () { throw new Error('the node cannot be reached'); });
  }

  function q(params) {
    return Object.keys(params).filter(function (k) { return params[k]; }).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]);
    }).join('&');
  }

  /* ---- signing in and out --------------------------------------------------- */

  function setWho(who) {
    state.who = who;
    state.csrf = who ? who.csrf : null;
    state.me = null;
    state.root = null;
    document.getElementById('nav').hidden = !who;
    document.getElementById('nav-admin').hidden = !who || who.role !== 'admin';
    document.getElementById('signout').hidden = !who;
    document.getElementById('who').textContent = who ? who.user + ' (' + who.org + ', ' + who.role + ')' : '';
  }

  function go(hash) {
    if (location.hash === hash) route(); else location.hash = hash;
  }

  function signedOut() {
    state.key = null;
    setWho(null);
    state.after = null;
    go('#/signin');
  }

  function signinPage() {
    var user = el('input', { id: 'username', name: 'username', autocomplete: 'username', required: '' });
    var pw = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: '' });
    var msg = el('p', { cls: 'form-error', role: 'status' });
    var form = el('form', { cls: 'signin', 'aria-labelledby': 'signin-title' },
      el('h1', { id: 'signin-title', text: 'Sign in' }),
      el('label', { for: 'username', text: 'User name' }), user,
      el('label', { for: 'password', text: 'Password' }), pw,
      el('button', { type: 'submit', text: 'Sign in' }), msg);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      msg.textContent = 'Signing in…';
      api('POST', '/ui/session', { username: user.value, password: pw.value }).then(function (who) {
        pw.value = '';
        setWho(who);
        go(state.after || '#/');
      }, function (e) { msg.textContent = 'Not signed in: ' + e.message; });
    });
    /* Or an API key: kept in this page's memory only (gone on reload),
     * sent as a Bearer header, never stored by the browser. */
    var key = el('input', { id: 'apikey', name: 'apikey', type: 'password', autocomplete: 'off', required: '' });
    var kmsg = el('p', { cls: 'form-error', role: 'status' });
    var kform = el('form', { cls: 'signin', 'aria-labelledby': 'key-title' },
      el('h2', { id: 'key-title', text: 'Or with an API key' }),
      el('label', { for: 'apikey', text: 'API key (tix_…)' }), key,
      el('button', { type: 'submit', text: 'Use the key' }), kmsg);
    kform.addEventListener('submit', function (ev) {
      ev.preventDefault();
      state.key = key.value.trim();
      key.value = '';
      api('GET', '/ui/session').then(function (who) {
        setWho(who);
        go(state.after || '#/');
      }, function (e) { state.key = null; kmsg.textContent = 'Not signed in: ' + e.message; });
    });
    main.appendChild(form);
    main.appendChild(kform);
    user.focus();
  }

  document.getElementById('signout').addEventListener('click', function () {
    if (state.key) { signedOut(); return; } /* a key: forgotten by the page */
    api('DELETE', '/ui/session').then(signedOut, function (e) { showError('Sign-out failed: ' + e.message); });
  });

  /* ---- dashboard -------------------------------------------------------------- */

  function countTable(title, map) {
    var keys = Object.keys(map || {}).sort(function (a, b) { return map[b] - map[a]; });
    return el('section', { cls: 'card' }, el('h2', { text: title }),
      keys.length ? table([title.replace(/^By /, ''), 'Objects'], keys.map(function (k) {
        return [title === 'By TLP' ? tlpBadge(k) : el('span', { cls: 'value', text: k }), String(map[k])];
      })) : el('p', { text: 'Nothing yet.' }));
  }

  /* Additions per day as bars, drawn here (SVG elements, no library). */
  function dayChart(days) {
    var NS = 'http://www.w3.org/2000/svg';
    var w = 14 * 22, h = 80, max = Math.max.apply(null, days.concat([1]));
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + (h + 14));
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'Objects added per day, the last 14 days: ' + days.join(', '));
    days.forEach(function (n, i) {
      var bh = Math.round(n / max * h);
      var r = document.createElementNS(NS, 'rect');
      r.setAttribute('x', String(i * 22 + 2));
      r.setAttribute('y', String(h - bh));
      r.setAttribute('width', '18');
      r.setAttribute('height', String(Math.max(bh, 1)));
      var t = document.createElementNS(NS, 'title');
      t.textContent = n + ' added ' + (13 - i) + ' days ago';
      r.appendChild(t);
      svg.appendChild(r);
    });
    var lbl = document.createElementNS(NS, 'text');
    lbl.setAttribute('x', '0'); lbl.setAttribute('y', String(h + 12));
    lbl.textContent = '14 days ago … today (max ' + max + ')';
    svg.appendChild(lbl);
    return svg;
  }

  function dashboardPage() {
    main.appendChild(el('h1', { text: 'Dashboard' }));
    var body = el('div', { cls: 'loading', text: 'Counting…' });
    main.appendChild(body);
    return api('GET', '/api/v1/summary').then(function (s) {
      clear(body);
      body.className = 'grid';
      add(body, [
        el('section', { cls: 'card' }, el('h2', { text: 'Objects' }),
          el('p', { cls: 'big', id: 'total', text: String(s.total) }),
          el('p', { id: 'last24', text: s.last_24h + ' arrived in the last 24 h' }),
          dayChart(s.added_per_day || [])),
        countTable('By type', s.by_type), countTable('By TLP', s.by_tlp),
        countTable('By organisation', s.by_org),
        el('section', { cls: 'card wide' }, el('h2', { text: 'Arrived in the last 24 h' }),
          s.recent.length ? table(['Object', 'Type', 'Organisation', 'TLP', 'Added'], s.recent.map(function (o) {
            return [objectLink(o.id, o.name || o.id), o.type, o.org || '', tlpBadge(o.tlp), o.date_added];
          })) : el('p', { text: 'Nothing arrived.' }))]);
    });
  }

  /* ---- search ------------------------------------------------------------------- */

  function searchPage(params) {
    var qi = el('input', { id: 'q', name: 'q', type: 'search', value: params.get('q') || '' });
    var ti = el('input', { id: 'type', name: 'type', value: params.get('type') || '', placeholder: 'indicator' });
    var li = el('input', { id: 'label', name: 'label', value: params.get('label') || '' });
    var oi = el('input', { id: 'org', name: 'org', value: params.get('org') || '' });
    var tlp = el('select', { id: 'tlp', name: 'tlp' }, ['', 'clear', 'green', 'amber', 'amber+strict', 'red'].map(function (v) {
      var o = el('option', { value: v, text: v ? 'TLP:' + v.toUpperCase() : 'any' });
      if (v === (params.get('tlp') || '')) o.selected = true;
      return o;
    }));
    var field = function (id, text, input) { return el('div', { cls: 'field' }, el('label', { for: id, text: text }), input); };
    var form = el('form', { cls: 'search', role: 'search' },
      field('q', 'Value or words', qi), field('type', 'Type', ti), field('label', 'Label', li),
      field('org', 'Organisation', oi), field('tlp', 'TLP', tlp),
      el('button', { type: 'submit', text: 'Search' }));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      location.hash = '#/search?' + q({ q: qi.value.trim(), type: ti.value.trim(), label: li.value.trim(), org: oi.value.trim(), tlp: tlp.value });
    });
    var out = el('div', { id: 'results', 'aria-live': 'polite' });
    main.appendChild(el('h1', { text: 'Search' }));
    main.appendChild(form);
    main.appendChild(out);
    qi.focus();
    var query = { q: params.get('q') || '', type: params.get('type') || '', label: params.get('label') || '', org: params.get('org') || '', tlp: params.get('tlp') || '' };
    if (!query.q && !query.label) return Promise.resolve();
    out.textContent = 'Searching…';
    /* Shaped as a value (no space; a dot, colon, @ or slash; or a hash): who reported it. */
    var valueLike = /^\S+$/.test(query.q) && (/[.:@\/]/.test(query.q) || /^[0-9a-fA-F]{32,128}$/.test(query.q));
    var corr = valueLike ? api('GET', '/api/v1/correlate?' + q({ value: query.q })).catch(function () { return null; }) : Promise.resolve(null);
    return Promise.all([api('GET', '/api/v1/search?' + q(query)), corr]).then(function (a) {
      var res = a[0], c = a[1];
      clear(out);
      if (c && c.organisations && c.organisations.length) {
        out.appendChild(el('section', { cls: 'card' }, el('h2', { text: 'Reported by' }),
          el('ul', null, c.organisations.map(function (g) {
            return el('li', null, el('span', { cls: 'value', text: g.org || '(no organisation)' }), ' — ' + g.objects.length + ' object(s)');
          }))));
      }
      out.appendChild(el('p', { text: res.results.length + (res.more ? '+' : '') + ' result(s)' }));
      if (res.results.length) {
        out.appendChild(table(['Object', 'Type', 'Organisation', 'TLP', 'Match', 'Modified'], res.results.map(function (r) {
          return [objectLink(r.id, r.name || r.id), r.type, r.org || '', tlpBadge(r.tlp), r.match, r.modified || ''];
        })));
      }
    }, function (e) { clear(out); out.appendChild(el('p', { cls: 'form-error', text: 'Search failed: ' + e.message })); });
  }

  /* ---- the resource library (docs/library.md) ------------------------------------ */

  function libraryPage(params) {
    var keys = ['q', 'audience', 'lang', 'country', 'topic'];
    var labels = { q: 'Words', audience: 'Audience', lang: 'Language', country: 'Country', topic: 'Topic' };
    var inputs = {};
    keys.forEach(function (k) {
      inputs[k] = el('input', { id: 'lib-' + k, name: k, type: k === 'q' ? 'search' : 'text', value: params.get(k) || '' });
    });
    var form = el('form', { cls: 'search', role: 'search' },
      keys.map(function (k) { return el('div', { cls: 'field' }, el('label', { for: 'lib-' + k, text: labels[k] }), inputs[k]); }),
      el('button', { type: 'submit', text: 'Search' }));
    var query = {};
    keys.forEach(function (k) { query[k] = params.get(k) || ''; });
    function goWith(over) {
      var p = {};
      keys.forEach(function (k) { p[k] = over && over[k] !== undefined ? over[k] : inputs[k].value.trim(); });
      location.hash = '#/library?' + q(p);
    }
    form.addEventListener('submit', function (ev) { ev.preventDefault(); goWith(); });
    var out = el('div', { id: 'library-results', 'aria-live': 'polite' });
    main.appendChild(el('h1', { text: 'Resource library' }));
    main.appendChild(form);
    main.appendChild(out);
    inputs.q.focus();
    out.textContent = 'Searching…';
    var ask = { facets: '1' };
    keys.forEach(function (k) { if (query[k]) ask[k] = query[k]; });
    var facetParam = { audience: 'audience', language: 'lang', country: 'country', topic: 'topic' };
    return api('GET', '/api/v1/library/search?' + q(ask)).then(function (res) {
      clear(out);
      out.appendChild(el('p', { id: 'library-total', text: res.total + ' resource(s)' }));
      var facets = el('div', { cls: 'facets' });
      Object.keys(res.facets || {}).forEach(function (name) {
        var f = res.facets[name];
        var items = Object.keys(f).map(function (v) {
          var label = v + ' (' + f[v] + ')';
          if (!facetParam[name]) return el('li', { text: label });
          var over = {};
          over[facetParam[name]] = v;
          return el('li', null, el('a', { href: '#', text: label, onclick: function (ev) { ev.preventDefault(); goWith(over); } }));
        });
        if (items.length) facets.appendChild(el('section', { cls: 'card facet', 'data-facet': name }, el('h2', { text: name }), el('ul', null, items)));
      });
      out.appendChild(facets);
      if (res.results.length) {
        out.appendChild(table(['Title', 'Languages', 'Countries', 'Audience', 'Topics', 'Licence', 'Link'], res.results.map(function (r) {
          return [el('span', { cls: 'library-title', lang: (r.in_language || [])[0] || '', text: r.title || r.id }),
            (r.in_language || []).join(', '), (r.country || []).join(', '), (r.audience || []).join(', '),
            (r.topics || []).join(', '), r.license || '', r.url ? safeLink(r.url) : ''];
        })));
      }
    }, function (e) { clear(out); out.appendChild(el('p', { cls: 'form-error', text: 'Search failed: ' + e.message })); });
  }

  /* ---- drawing (SVG made here, every text as text) ------------------------------------ */

  var SVGNS = 'http://www.w3.org/2000/svg';

  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function cut(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + '…' : s; }

  /* The object in the middle, what it is related to around it: a line per
   * relationship, its type on the line, each end a link to its page. */
  function relationGraph(center, rels) {
    var shown = rels.slice(0, 24), w = 640, h = 360, cx = w / 2, cy = h / 2, R = 140;
    var svg = svgEl('svg', { viewBox: '0 0 ' + w + ' ' + h, role: 'group', id: 'rel-graph',
      'aria-label': 'Relationships of ' + cut(center, 80) + ': ' + shown.length + ' shown' });
    svg.setAttribute('class', 'graph');
    var nodes = shown.map(function (r, i) {
      var a = -Math.PI / 2 + 2 * Math.PI * i / Math.max(shown.length, 1);
      return { r: r, x: cx + R * Math.cos(a) * 1.6, y: cy + R * Math.sin(a) };
    });
    nodes.forEach(function (n) {
      svg.appendChild(svgEl('line', { x1: cx, y1: cy, x2: n.x, y2: n.y, 'class': 'edge' }));
      svg.appendChild(svgEl('text', { x: (cx + n.x) / 2, y: (cy + n.y) / 2 - 3, 'text-anchor': 'middle', 'class': 'edge-label' },
        (n.r.direction === 'out' ? '' : '← ') + cut(n.r.relationship_type || 'related', 24) + (n.r.direction === 'out' ? ' →' : '')));
    });
    svg.appendChild(svgEl('circle', { cx: cx, cy: cy, r: 9, 'class': 'node center' }));
    svg.appendChild(svgEl('text', { x: cx, y: cy + 24, 'text-anchor': 'middle', 'class': 'node-label' }, cut(center, 40)));
    nodes.forEach(function (n) {
      var label = n.r.other_readable ? (n.r.other_name || n.r.other) : n.r.other;
      var link = svgEl('a', { href: '#/object/' + encodeURIComponent(n.r.other) });
      link.appendChild(svgEl('title', {}, (n.r.other_type || 'object') + ': ' + label));
      link.appendChild(svgEl('circle', { cx: n.x, cy: n.y, r: 7, 'class': 'node' }));
      link.appendChild(svgEl('text', { x: n.x, y: n.y + 20, 'text-anchor': 'middle', 'class': 'node-label' }, cut(label, 28)));
      svg.appendChild(link);
    });
    return svg;
  }

  /* Sightings on a time axis: a bar from first to last seen per sighting. */
  function sightingTimeline(list) {
    var items = list.filter(function (x) { return x.first_seen && x.last_seen; }).slice(0, 30);
    var t0 = Math.min.apply(null, items.map(function (x) { return Date.parse(x.first_seen); }));
    var t1 = Math.max.apply(null, items.map(function (x) { return Date.parse(x.last_seen); }));
    if (!(t1 > t0)) { t0 -= 3600e3; t1 += 3600e3; }
    var w = 640, left = 150, row = 18, h = items.length * row + 30;
    var x = function (t) { return left + (w - left - 10) * (t - t0) / (t1 - t0); };
    var svg = svgEl('svg', { viewBox: '0 0 ' + w + ' ' + h, role: 'img', id: 'sighting-timeline',
      'aria-label': items.length + ' sighting(s) from ' + new Date(t0).toISOString() + ' to ' + new Date(t1).toISOString() });
    svg.setAttribute('class', 'timeline');
    items.forEach(function (s, i) {
      var y = 6 + i * row, a = x(Date.parse(s.first_seen)), b = x(Date.parse(s.last_seen));
      svg.appendChild(svgEl('text', { x: 0, y: y + 11, 'class': 'node-label' }, cut((s.org || '?') + ' ×' + s.count, 22)));
      var bar = svgEl('rect', { x: a, y: y, width: Math.max(b - a, 3), height: 12, 'class': 'bar' });
      bar.appendChild(svgEl('title', {}, (s.org || '') + ': ' + s.count + ' from ' + s.first_seen + ' to ' + s.last_seen));
      svg.appendChild(bar);
    });
    svg.appendChild(svgEl('line', { x1: left, y1: h - 20, x2: w - 10, y2: h - 20, 'class': 'edge' }));
    svg.appendChild(svgEl('text', { x: left, y: h - 6, 'class': 'node-label' }, new Date(t0).toISOString().slice(0, 16).replace('T', ' ')));
    svg.appendChild(svgEl('text', { x: w - 10, y: h - 6, 'text-anchor': 'end', 'class': 'node-label' }, new Date(t1).toISOString().slice(0, 16).replace('T', ' ')));
    return svg;
  }

  /* ---- object view ---------------------------------------------------------------- */

  var SHOWN_APART = { id: 1, type: 1, name: 1, spec_version: 1, object_marking_refs: 1, external_references: 1, labels: 1 };

  function valueNode(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return longText(v);
    if (Array.isArray(v) && v.every(function (x) { return typeof x === 'string'; })) return listNode(v);
    if (typeof v === 'object') return el('pre', { cls: 'json' }, longText(JSON.stringify(v, null, 2)));
    return String(v);
  }

  function listNode(items) {
    var shown = items.slice(0, MANY);
    return el('span', null, shown.map(function (s, i) { return [i ? ', ' : '', el('span', { cls: 'value', text: s.length > 200 ? s.slice(0, 200) + '…' : s })]; }),
      items.length > MANY ? ' and ' + (items.length - MANY) + ' more' : '');
  }

  function objectPage(id) {
    var head = el('div', { cls: 'loading', text: 'Loading…' });
    main.appendChild(head);
    return api('GET', '/api/v1/objects/' + encodeURIComponent(id)).then(function (a) {
      var o = a.object || {};
      clear(head);
      head.className = '';
      add(head, [
        el('h1', null, el('span', { cls: 'value', text: o.name || o.id })),
        el('p', { cls: 'meta' }, tlpBadge(a.tlp), ' ', el('span', { text: o.type }), ' · ', el('span', { cls: 'value', text: a.org || 'no organisation' }), a.country ? ' (' + a.country + ')' : '', ' · added ' + a.date_added),
        el('p', { cls: 'meta' }, el('code', { cls: 'value', text: o.id }),
          state.who && state.who.role === 'admin' ? [' · ', el('a', { href: '#/admin/audit?' + q({ object: o.id }), id: 'who-has-seen', text: 'who has seen it' })] : null)]);
      var rows = Object.keys(o).filter(function (k) { return !SHOWN_APART[k]; }).map(function (k) { return [el('span', { text: k }), valueNode(o[k])]; });
      if (o.labels) rows.unshift(['labels', listNode(o.labels.map(String))]);
      var fields = table(['Field', 'Value'], rows);
      fields.className = 'fields';
      main.appendChild(el('section', { cls: 'card wide' }, el('h2', { text: 'Fields' }), fields));
      var marks = (o.object_marking_refs || []).map(String);
      main.appendChild(el('section', { cls: 'card' }, el('h2', { text: 'Markings' }),
        el('p', null, 'Effective: ', tlpBadge(a.tlp)),
        marks.length ? el('ul', null, marks.slice(0, MANY).map(function (m) { return el('li', null, el('code', { cls: 'value', text: m })); })) : el('p', { text: 'No marking: the node\'s default applies.' })));
      if (Array.isArray(o.external_references) && o.external_references.length) {
        main.appendChild(el('section', { cls: 'card' }, el('h2', { text: 'References' }),
          el('ul', null, o.external_references.slice(0, MANY).map(function (r) {
            return el('li', null, el('span', { cls: 'value', text: String(r.source_name || '') }), r.url ? [' ', safeLink(r.url)] : '', r.external_id ? ' ' + String(r.external_id) : '');
          }))));
      }
      var corr = el('section', { cls: 'card', id: 'correlations' }, el('h2', { text: 'Also reported by' }), el('p', { text: 'Looking…' }));
      var sight = el('section', { cls: 'card', id: 'sightings' }, el('h2', { text: 'Sightings' }), el('p', { text: 'Looking…' }));
      var rels = el('section', { cls: 'card wide', id: 'relationships' }, el('h2', { text: 'Relationships' }), el('p', { text: 'Looking…' }));
      var vers = el('section', { cls: 'card', id: 'versions' }, el('h2', { text: 'Versions' }), el('p', { text: 'Looking…' }));
      main.appendChild(corr);
      main.appendChild(sight);
      main.appendChild(rels);
      main.appendChild(vers);
      main.appendChild(el('section', { cls: 'card wide' }, el('h2', { text: 'Raw JSON' }), el('pre', { cls: 'json', id: 'raw' }, longText(JSON.stringify(o, null, 2)))));
      var p1 = api('GET', '/api/v1/correlate?' + q({ id: o.id })).then(function (c) {
        corr.removeChild(corr.lastChild);
        var groups = [];
        (c.values || []).forEach(function (v) {
          (v.organisations || []).forEach(function (g) {
            groups.push(el('li', null, el('span', { cls: 'value', text: g.org || '(no organisation)' }), ' on ', el('code', { cls: 'value', text: String(v.value) }), ': ',
              g.objects.slice(0, MANY).map(function (x, i) { return [i ? ', ' : '', objectLink(x.id, x.name || x.id)]; })));
          });
        });
        corr.appendChild(groups.length ? el('ul', null, groups) : el('p', { text: 'No other object shares a value with this one.' }));
      }, function (e) { corr.lastChild.textContent = 'Not available: ' + e.message; });
      var p2 = api('GET', '/api/v1/objects/' + encodeURIComponent(o.id) + '/sightings').then(function (s) {
        sight.removeChild(sight.lastChild);
        var ag = s.aggregate || {};
        sight.appendChild(el('p', { text: (ag.count || 0) + ' sighting(s)' + (ag.first_seen ? ', ' + ag.first_seen + ' to ' + ag.last_seen : '') }));
        if (s.sightings && s.sightings.length) {
          sight.appendChild(sightingTimeline(s.sightings));
          sight.appendChild(table(['Organisation', 'Count', 'First seen', 'Last seen'], s.sightings.slice(0, MANY).map(function (x) {
            return [el('span', { cls: 'value', text: x.org || '' }), String(x.count), x.first_seen, x.last_seen];
          })));
        }
      }, function (e) { sight.lastChild.textContent = 'Not available: ' + e.message; });
      var p3 = api('GET', '/api/v1/objects/' + encodeURIComponent(o.id) + '/relationships').then(function (r) {
        rels.removeChild(rels.lastChild);
        var list = r.relationships || [];
        if (!list.length) { rels.appendChild(el('p', { text: 'No relationship you may read.' })); return; }
        rels.appendChild(relationGraph(o.name || o.id, list));
        var t = table(['Relationship', 'Other end', 'Type', 'TLP'], list.map(function (x) {
          var other = x.other_readable ? objectLink(x.other, x.other_name || x.other) : el('code', { cls: 'value', text: x.other });
          return [el('span', null, x.direction === 'out' ? 'this ' : '', objectLink(x.id, x.relationship_type || 'related'), x.direction === 'out' ? '' : ' this'),
            other, x.other_type || '', tlpBadge(x.tlp)];
        }));
        t.id = 'rel-list';
        rels.appendChild(t);
        if (r.more) rels.appendChild(el('p', { text: 'More not listed.' }));
      }, function (e) { rels.lastChild.textContent = 'Not available: ' + e.message; });
      var p4 = api('GET', '/api/v1/objects/' + encodeURIComponent(o.id) + '/versions').then(function (v) {
        vers.removeChild(vers.lastChild);
        var t = table(['Modified', 'Added', 'Organisation', 'TLP'], (v.versions || []).slice().reverse().map(function (x) {
          return [x.modified, x.date_added, el('span', { cls: 'value', text: x.org || '' }), tlpBadge(x.tlp)];
        }));
        t.id = 'version-list';
        vers.appendChild(el('p', { text: v.versions.length + ' version(s) you may read, newest first' }));
        vers.appendChild(t);
      }, function (e) { vers.lastChild.textContent = 'Not available: ' + e.message; });
      return Promise.all([p1, p2, p3, p4]);
    }, function (e) {
      clear(head);
      head.className = '';
      add(head, [el('h1', { text: e.status === 404 ? 'No such object' : 'Cannot show this object' }),
        el('p', { text: e.status === 404 ? 'It does not exist, or you may not read it.' : e.message })]);
    });
  }

  /* ---- writing: the caller, its collections ---------------------------------------- */

  var TLP_IDS = {
    clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
    green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
    amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
    'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
    red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1'
  };
  var POLICY_EXT = 'extension-definition--da5a1e8b-49f4-5041-b48e-c59de73ab482';

  /* Who the caller is (its sharing groups) and the TAXII API root's path. */
  function writeContext() {
    if (state.me && state.root) return Promise.resolve();
    return Promise.all([api('GET', '/api/v1/me'), api('GET', '/taxii2/', undefined, { accept: TAXII })]).then(function (a) {
      state.me = a[0];
      var roots = (a[1] && a[1].api_roots) || [];
      if (!roots.length) throw new Error('the node names no TAXII API root');
      state.root = new URL(roots[0], location.href).pathname.replace(/\/?$/, '/');
    });
  }

  /* The collections the caller may write, as a labelled select. */
  function collectionField(id) {
    var sel = el('select', { id: id, name: id, required: '' }, el('option', { value: '', text: 'Loading…' }));
    var p = api('GET', state.root + 'collections/', undefined, { accept: TAXII }).then(function (c) {
      clear(sel);
      var w = ((c && c.collections) || []).filter(function (x) { return x.can_write; });
      if (!w.length) sel.appendChild(el('option', { value: '', text: 'no collection you may write' }));
      w.forEach(function (x) { sel.appendChild(el('option', { value: x.id, text: x.title || x.id })); });
    });
    return { field: el('div', { cls: 'field' }, el('label', { for: id, text: 'Collection' }), sel), select: sel, ready: p };
  }

  function uuid4() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function field(id, text, input, hint) {
    return el('div', { cls: 'field' }, el('label', { for: id, text: text }), input, hint || null);
  }

  /* ---- new indicator ----------------------------------------------------------------- */

  function newIndicatorPage() {
    main.appendChild(el('h1', { text: 'New indicator' }));
    return writeContext().then(function () {
      var name = el('input', { id: 'ind-name', name: 'name', required: '', maxlength: '500' });
      var pat = el('textarea', { id: 'ind-pattern', name: 'pattern', required: '', rows: '3', spellcheck: 'false',
        'aria-describedby': 'pattern-status', placeholder: "[domain-name:value = 'evil.example']" });
      var status = el('p', { id: 'pattern-status', cls: 'pattern-status', role: 'status', 'aria-live': 'polite', text: 'Type a STIX pattern: the node checks it as you type.' });
      var desc = el('textarea', { id: 'ind-description', name: 'description', rows: '2' });
      var tlp = el('select', { id: 'ind-tlp', name: 'tlp' }, ['clear', 'green', 'amber', 'amber+strict', 'red'].map(function (v) {
        var o = el('option', { value: v, text: 'TLP:' + v.toUpperCase() });
        if (v === 'green') o.defaultSelected = o.selected = true;
        return o;
      }));
      var group = el('select', { id: 'ind-group', name: 'group' }, el('option', { value: '', text: 'none: the collection\'s readers' }),
        (state.me.groups || []).map(function (g) { return el('option', { value: g, text: g }); }));
      var groupField = field('ind-group', 'Sharing group (TLP:AMBER)', group);
      var coll = collectionField('ind-collection');
      var submit = el('button', { type: 'submit', id: 'ind-submit', text: 'Create indicator', disabled: '' });
      var result = el('div', { id: 'ind-result', 'aria-live': 'polite' });
      var form = el('form', { cls: 'write', id: 'new-indicator', novalidate: '' },
        field('ind-name', 'Name', name), field('ind-pattern', 'Pattern', pat, status),
        field('ind-description', 'Description (optional)', desc), field('ind-tlp', 'TLP', tlp), groupField,
        coll.field, submit);
      var checked = { text: null, valid: false }, timer = null, seq = 0;
      function showGroup() { groupField.hidden = tlp.value !== 'amber'; }
      tlp.addEventListener('change', showGroup);
      showGroup();
      function check() {
        var text = pat.value, mine = ++seq;
        if (!text.trim()) { checked = { text: text, valid: false }; status.className = 'pattern-status'; status.textContent = 'A pattern is needed.'; submit.disabled = true; return Promise.resolve(); }
        status.textContent = 'Checking…';
        return api('POST', '/api/v1/patterns/check', { pattern: text }).then(function (r) {
          if (mine !== seq) return;
          checked = { text: text, valid: r.valid };
          submit.disabled = !r.valid;
          pat.setAttribute('aria-invalid', r.valid ? 'false' : 'true');
          if (r.valid) {
            status.className = 'pattern-status ok';
            status.textContent = 'Valid pattern' + (r.warnings && r.warnings.length ? ' (warning: ' + r.warnings.join('; ') + ')' : '');
          } else {
            status.className = 'pattern-status form-error';
            status.textContent = (r.error.line ? 'Line ' + r.error.line + ', column ' + r.error.column + ': ' : '') + r.error.reason;
          }
        }, function (e) { if (mine === seq) { submit.disabled = true; status.className = 'pattern-status form-error'; status.textContent = 'Cannot check the pattern: ' + e.message; } });
      }
      pat.addEventListener('input', function () {
        submit.disabled = true;
        clearTimeout(timer);
        timer = setTimeout(check, 250);
      });
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        clear(result);
        (checked.text === pat.value ? Promise.resolve() : check()).then(function () {
          if (!checked.valid) { result.appendChild(el('p', { cls: 'form-error', text: 'Not created: the pattern is not valid.' })); return; }
          if (!name.value.trim()) { result.appendChild(el('p', { cls: 'form-error', text: 'Not created: a name is needed.' })); name.focus(); return; }
          if (!coll.select.value) { result.appendChild(el('p', { cls: 'form-error', text: 'Not created: choose a collection you may write.' })); return; }
          var now = new Date().toISOString();
          var o = { type: 'indicator', spec_version: '2.1', id: 'indicator--' + uuid4(), created: now, modified: now,
            name: name.value.trim(), pattern: pat.value, pattern_type: 'stix', valid_from: now,
            object_marking_refs: [TLP_IDS[tlp.value]] };
          if (desc.value.trim()) o.description = desc.value.trim();
          if (tlp.value === 'amber' && group.value) {
            o.tix_sharing_group = group.value;
            o.extensions = {};
            o.extensions[POLICY_EXT] = { extension_type: 'toplevel-property-extension' };
          }
          submit.disabled = true;
          result.textContent = 'Creating…';
          /* The node's one write path: TAXII's POST, its rules decide. */
          return api('POST', state.root + 'collections/' + encodeURIComponent(coll.select.value) + '/objects/', { objects: [o] },
            { type: TAXII, accept: TAXII }).then(function (st) {
            clear(result);
            if (st.success_count === 1) {
              result.appendChild(el('p', { cls: 'ok', id: 'ind-created' }, 'Created: ', objectLink(o.id, o.name)));
              form.reset();
              showGroup();
              checked = { text: null, valid: false };
            } else {
              var f = (st.failures || [])[0] || {};
              result.appendChild(el('p', { cls: 'form-error', text: 'Refused by the node: ' + (f.message || 'no reason given') }));
              submit.disabled = false;
            }
          });
        }).catch(function (e) { clear(result); submit.disabled = false; result.appendChild(el('p', { cls: 'form-error', text: 'Not created: ' + e.message })); });
      });
      main.appendChild(form);
      main.appendChild(result);
      name.focus();
      return coll.ready;
    });
  }

  /* ---- import ------------------------------------------------------------------------ */

  function importReport(out, rep) {
    clear(out);
    var st = rep.error ? 'Nothing written: ' + (rep.error.description || rep.error.title || 'refused') : '';
    out.appendChild(el('p', { id: 'import-summary', cls: st ? 'form-error' : '' }, st ||
      (rep.total + ' object(s) in the file (' + rep.format + '): ' + rep.accepted + ' accepted, ' + rep.refused + ' refused' +
       (rep.records_refused.length ? '; ' + rep.records_refused.length + ' record(s) could not be converted' : ''))));
    if (rep.objects.length) {
      /* the refused first: what needs a look */
      var shown = rep.objects.filter(function (o) { return o.result !== 'accepted'; })
        .concat(rep.objects.filter(function (o) { return o.result === 'accepted'; })).slice(0, 500);
      var t = table(['Object', 'Result', 'Reason'], shown.map(function (o) {
        var id = String(o.id || '(no id)');
        return [o.result === 'accepted' ? objectLink(id) : el('code', { cls: 'value', text: id }),
          el('span', { cls: o.result === 'accepted' ? 'ok' : 'form-error', text: o.result }),
          o.message ? longText(o.message) : ''];
      }));
      t.id = 'import-objects';
      out.appendChild(el('section', { cls: 'card wide' }, el('h2', { text: 'Objects' }), t,
        rep.objects.length > shown.length ? el('p', { text: 'and ' + (rep.objects.length - shown.length) + ' more' }) : null));
    }
    [['Records not converted', rep.records_refused, 'import-records'], ['Warnings', rep.warnings, 'import-warnings']].forEach(function (x) {
      if (!x[1] || !x[1].length) return;
      out.appendChild(el('section', { cls: 'card wide', id: x[2] }, el('h2', { text: x[0] }),
        el('ul', null, x[1].slice(0, MANY).map(function (r) { return el('li', null, el('code', { cls: 'value', text: String(r.where) }), ': ', longText(r.reason)); })),
        x[1].length > MANY ? el('p', { text: 'and ' + (x[1].length - MANY) + ' more' }) : null));
    });
  }

  function importPage() {
    main.appendChild(el('h1', { text: 'Import a file' }));
    return writeContext().then(function () {
      var file = el('input', { id: 'imp-file', name: 'file', type: 'file', required: '', accept: '.json,.csv,.txt,application/json,text/csv' });
      var format = el('select', { id: 'imp-format', name: 'format' }, [['auto', 'by content (STIX or MISP JSON)'], ['stix', 'STIX 2.1'], ['misp', 'MISP JSON'], ['csv', 'CSV']].map(function (f) {
        return el('option', { value: f[0], text: f[1] });
      }));
      var vcol = el('input', { id: 'imp-value', name: 'value', type: 'number', min: '1', value: '1' });
      var tcol = el('input', { id: 'imp-type', name: 'type', type: 'number', min: '1', placeholder: 'inferred' });
      var header = el('input', { id: 'imp-header', name: 'header', type: 'checkbox' });
      var tlp = el('select', { id: 'imp-tlp', name: 'tlp' }, ['', 'clear', 'green', 'amber', 'amber+strict', 'red'].map(function (v) {
        return el('option', { value: v, text: v ? 'TLP:' + v.toUpperCase() : 'none (the node\'s default)' });
      }));
      var csv = el('fieldset', { id: 'imp-csv' }, el('legend', { text: 'CSV columns' }),
        field('imp-value', 'Column of the value', vcol), field('imp-type', 'Column of the type (optional)', tcol),
        el('div', { cls: 'check' }, header, el('label', { for: 'imp-header', text: 'The first line is a header' })),
        field('imp-tlp', 'Mark each indicator', tlp));
      var coll = collectionField('imp-collection');
      var submit = el('button', { type: 'submit', id: 'imp-submit', text: 'Import' });
      var out = el('div', { id: 'import-report', 'aria-live': 'polite' });
      var form = el('form', { cls: 'write', id: 'import-form' },
        field('imp-file', 'File (STIX bundle, MISP event, CSV)', file), field('imp-format', 'Format', format), csv, coll.field, submit);
      function showCsv() { csv.hidden = format.value !== 'csv'; }
      format.addEventListener('change', showCsv);
      showCsv();
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var f = file.files && file.files[0];
        clear(out);
        if (!f) { out.appendChild(el('p', { cls: 'form-error', text: 'Choose a file.' })); return; }
        if (!coll.select.value) { out.appendChild(el('p', { cls: 'form-error', text: 'Choose a collection you may write.' })); return; }
        var p = { collection: coll.select.value, format: format.value, name: f.name.slice(0, 200), file_time: new Date(f.lastModified || Date.now()).toISOString() };
        if (format.value === 'csv') {
          p.map = 'value=' + (vcol.value || '1') + (tcol.value ? ',type=' + tcol.value : '');
          if (header.checked) p.header = '1';
          if (tlp.value) p.tlp = tlp.value;
        }
        submit.disabled = true;
        out.textContent = 'Importing ' + f.name + ' (' + f.size + ' bytes)…';
        api('POST', '/api/v1/import?' + q(p), f, { type: 'application/octet-stream', raw: true }).then(function (rep) {
          importReport(out, rep);
        }, function (e) {
          if (e.data && e.data.objects) { importReport(out, e.data); return; }
          clear(out);
          out.appendChild(el('p', { cls: 'form-error', id: 'import-summary', text: 'Not imported: ' + e.message }));
        }).then(function () { submit.disabled = false; });
      });
      main.appendChild(form);
      main.appendChild(out);
      return coll.ready;
    });
  }

  /* ---- administrators' pages ------------------------------------------------------------ */

  /* An admin-only answer: a 403 says who may see the page. */
  function adminGet(path) {
    return api('GET', path).catch(function (e) {
      if (e.status === 403) throw new Error('This page is for administrators only (your role: ' + (state.who ? state.who.role : 'none') + ').');
      throw e;
    });
  }

  function text(v) { return el('span', { cls: 'value', text: v === undefined || v === null ? '' : String(v) }); }

  function adminCollectionsPage() {
    main.appendChild(el('h1', { text: 'Collections and permissions' }));
    return adminGet('/api/v1/admin/collections').then(function (a) {
      var ct = table(['Collection', 'Id', 'Read', 'Write'], a.collections.map(function (c) {
        var r = c.grants.filter(function (g) { return g.read; }).map(function (g) { return g.org; });
        var w = c.grants.filter(function (g) { return g.write; }).map(function (g) { return g.org; });
        return [text(c.title), el('code', { cls: 'value', text: c.id }), listNode(r), listNode(w)];
      }));
      ct.id = 'admin-collections';
      var ut = table(['User', 'Organisation', 'Role', 'Password'], a.users.map(function (u) {
        return [text(u.name), text(u.org), u.role, u.password ? 'set' : 'none (API keys only)'];
      }));
      ut.id = 'admin-users';
      var gt = table(['Sharing group', 'Members'], a.groups.map(function (g) { return [text(g.name), listNode(g.members)]; }));
      gt.id = 'admin-groups';
      var ot = table(['Organisation', 'Country', 'Sector'], a.organisations.map(function (o) { return [text(o.name), o.country, text(o.sector)]; }));
      add(main, [el('section', { cls: 'card wide' }, el('h2', { text: 'Collections: who may read and write' }), a.collections.length ? ct : el('p', { text: 'No collection.' })),
        el('section', { cls: 'card wide' }, el('h2', { text: 'Users and roles' }), ut),
        el('section', { cls: 'card wide' }, el('h2', { text: 'Sharing groups' }), a.groups.length ? gt : el('p', { text: 'No sharing group.' })),
        el('section', { cls: 'card wide' }, el('h2', { text: 'Organisations' }), ot)]);
    });
  }

  function adminPeersPage() {
    main.appendChild(el('h1', { text: 'Peers' }));
    return adminGet('/api/v1/admin/peers').then(function (a) {
      if (!a.peers.length) { main.appendChild(el('p', { text: 'No peer: this node federates with no other (tix peer add).' })); return; }
      var t = table(['Peer', 'Direction', 'Last success', 'Lag', 'State', 'Errors', 'Last error', 'In / stored / refused', 'Out / outbox', 'Last audit anchor'], a.peers.map(function (p) {
        return [el('span', null, text(p.name), el('br'), el('span', { cls: 'meta value', text: p.kind + ' ' + p.url })),
          p.direction + (p.org ? ' (' + p.org + ')' : ''), p.last_success || 'never',
          p.lag_seconds === undefined ? '—' : p.lag_seconds + ' s',
          el('span', { cls: p.failing ? 'form-error' : 'ok', text: p.failing ? 'failing' : 'ok' }), String(p.errors),
          p.last_error ? longText(p.last_error) : '', p.objects_in + ' / ' + p.objects_stored + ' / ' + p.objects_rejected,
          p.objects_out + ' / ' + p.outbox,
          el('span', null, el('code', { cls: 'value', text: p.audit_anchor || 'none' }), p.audit_problem ? el('span', { cls: 'form-error', text: ' ' + p.audit_problem }) : null)];
      }));
      t.id = 'admin-peers';
      main.appendChild(el('section', { cls: 'card wide' }, t));
    });
  }

  function adminAuditPage(params) {
    var id = params.get('object') || '';
    var input = el('input', { id: 'audit-object', name: 'object', value: id, placeholder: 'indicator--…', required: '' });
    var form = el('form', { cls: 'search', role: 'search' }, field('audit-object', 'Object id', input), el('button', { type: 'submit', text: 'Who has seen it?' }));
    form.addEventListener('submit', function (ev) { ev.preventDefault(); location.hash = '#/admin/audit?' + q({ object: input.value.trim() }); });
    main.appendChild(el('h1', { text: 'Audit: who has seen this object' }));
    main.appendChild(form);
    if (!id) return Promise.resolve();
    var out = el('div', { id: 'audit-results' }, 'Reading the audit log…');
    main.appendChild(out);
    return adminGet('/api/v1/admin/audit?' + q({ object: id })).then(function (a) {
      clear(out);
      out.appendChild(el('p', null, a.total + ' audit entr' + (a.total === 1 ? 'y' : 'ies') + ' name ', el('code', { cls: 'value', text: a.object }), a.total ? '' : ': no one has read or written it through this node.'));
      if (!a.total) return;
      var w = table(['User', 'Organisation', 'Action', 'Times', 'Last'], a.who.map(function (x) { return [text(x.user || '(operator)'), text(x.org), x.action, String(x.times), x.last]; }));
      w.id = 'audit-who';
      var e = table(['#', 'When', 'Action', 'User', 'Organisation', 'What'], a.entries.slice().reverse().map(function (x) {
        return [String(x.seq), x.at, x.action, text(x.user), text(x.org), longText(x.detail)];
      }));
      e.id = 'audit-entries';
      add(out, [el('section', { cls: 'card wide' }, el('h2', { text: 'Who' }), w),
        el('section', { cls: 'card wide' }, el('h2', { text: 'Entries, newest first' }), e)]);
    }, function (e) { clear(out); throw e; });
  }

  /* ---- routing -------------------------------------------------------------------- */

  function secs(v) { return v === null || v === undefined ? '—' : v + ' s'; }

  /* #/drills: each exercise's scoreboard (GET /api/v1/drills/{id}/score). */
  function drillsPage() {
    main.appendChild(el('h1', { text: 'Drills' }));
    return adminGet('/api/v1/drills').then(function (a) {
      if (!a.drills.length) { main.appendChild(el('p', { text: 'No drill: load one with tix drill load.' })); return; }
      return Promise.all(a.drills.map(function (d) {
        return api('GET', '/api/v1/drills/' + encodeURIComponent(d.id) + '/score');
      })).then(function (scores) {
        scores.forEach(function (sc, i) {
          var d = a.drills[i];
          var sum = table(['Team', 'Detected', 'Late', 'Missed', 'False detections', 'Mean time to detect'], sc.teams.map(function (t) {
            return [text(t.team), String(t.detected), String(t.late), String(t.missed), String(t.false_detections), secs(t.mean_time_to_detect_s)];
          }));
          sum.className += ' drill-teams';
          var rows = [];
          sc.teams.forEach(function (t) {
            t.injects.forEach(function (x) {
              rows.push([text(t.team), text(x.name), el('span', { cls: x.result === 'detected' ? 'ok' : 'form-error', text: x.result }),
                secs(x.time_to_detect_s), secs(x.time_to_report_s), text(x.inject_at)]);
            });
          });
          var det = table(['Team', 'Inject', 'Result', 'Time to detect', 'Time to report', 'Inject at'], rows);
          det.className += ' drill-injects';
          var sec = el('section', { cls: 'card wide drill', 'data-drill': d.id },
            el('h2', null, text(d.name), el('span', { cls: 'meta', text: ' ' + d.state + (d.started ? ', started ' + d.started : '') })),
            el('p', { cls: 'meta' }, el('code', { cls: 'value', text: d.id })), sum, det);
          main.appendChild(sec);
        });
      });
    });
  }

  function route() {
    var h = location.hash || '#/';
    var qs = h.indexOf('?');
    var path = qs >= 0 ? h.slice(1, qs) : h.slice(1);
    var params = new URLSearchParams(qs >= 0 ? h.slice(qs + 1) : '');
    showError('');
    clear(main);
    document.body.setAttribute('data-ready', '0');
    var done;
    if (!state.who || path === '/signin') {
      if (state.who) { go('#/'); return; }
      if (path !== '/signin') state.after = h;
      signinPage();
      done = Promise.resolve();
    } else if (path === '/search') {
      done = searchPage(params);
    } else if (path === '/library') {
      done = libraryPage(params);
    } else if (path === '/new') {
      done = newIndicatorPage();
    } else if (path === '/import') {
      done = importPage();
    } else if (path === '/admin/collections') {
      done = adminCollectionsPage();
    } else if (path === '/admin/peers') {
      done = adminPeersPage();
    } else if (path === '/admin/audit') {
      done = adminAuditPage(params);
    } else if (path === '/drills') {
      done = drillsPage();
    } else if (path.slice(0, 8) === '/object/') {
      var id = null;
      try { id = decodeURIComponent(path.slice(8)); } catch (e) { id = null; }
      done = id === null ? Promise.reject(new Error('not an object address')) : objectPage(id);
    } else {
      done = dashboardPage();
    }
    Promise.resolve(done).catch(function (e) { showError(e.message); }).then(function () {
      document.body.setAttribute('data-routed', h);
      document.body.setAttribute('data-ready', '1');
      if (document.activeElement === document.body) main.focus({ preventScroll: true });
    });
  }

  window.addEventListener('hashchange', route);
  api('GET', '/ui/session').then(function (who) { setWho(who); }, function () { setWho(null); }).then(route);
})();
