// tests/e2e/console_browser.js — the browser half of tests/e2e/test_console.py:
// playwright-core drives Debian's chromium (headless) against the real
// `tix serve` the Python half started and seeded. Reads the world (URL,
// users, object ids) as JSON from argv[2]; prints one "ok NAME" or
// "FAIL NAME: why" line per check and "FIGURE ..." lines; writes a
// screenshot of every page into world.shots.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const world = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const only = new Set(process.argv.slice(3));
const base = world.url;
const checks = [];

function check(name, fn) { checks.push({ name, fn }); }

function assert(cond, msg) { if (!cond) throw new Error(msg); }

// Waits until the page has finished drawing the address it now shows: after
// a click that changes the hash, data-ready is still "1" from the page before
// until hashchange fires, so data-routed (the hash last drawn) must match too.
async function ready(page) {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  await until(page, () => document.body.getAttribute('data-ready') === '1'
    && document.body.getAttribute('data-routed') === (location.hash || '#/'), 'the page to draw ' + page.url());
}

// Polls fn in the page until it is true (not Playwright's own polling wait,
// which evaluates a string: the page's CSP, without 'unsafe-eval', refuses it).
async function until(page, fn, what) {
  const end = Date.now() + 20000;
  for (;;) {
    if (await page.evaluate(fn).catch(() => false)) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(page, name, full = true) {
  await page.screenshot({ path: path.join(world.shots, name + '.png'), fullPage: full });
}

async function signIn(page, user, password, go = true) {
  if (go) await page.goto(base + '/ui/');
  await page.waitForSelector('#username');
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('#total', { timeout: 20000 });
  await ready(page);
}

// The bytes the browser fetched for the page as loaded (resource timing).
async function transferred(page) {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    let n = nav ? nav.transferSize : 0;
    for (const r of performance.getEntriesByType('resource')) n += r.transferSize;
    return n;
  });
}

async function csrfOf(page) {
  return page.evaluate(() => fetch('/ui/session').then((r) => r.json()).then((j) => j.csrf));
}

async function main() {
  const browser = await chromium.launch({
    executablePath: world.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions'],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const dialogs = [];
  const consoleErrors = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  const ana = world.users.ana;

  check('sign_in_shows_the_dashboard', async () => {
    await page.goto(base + '/ui/');
    await page.waitForSelector('#username');
    await shot(page, 'signin');
    await signIn(page, ana.name, ana.password, false);
    const who = await page.textContent('#who');
    assert(who.includes(ana.name) && who.includes('cert'), 'who: ' + who);
    await shot(page, 'dashboard');
    const bytes = await transferred(page);
    console.log('FIGURE dashboard first load, empty cache (sign-in page, then the dashboard): %d bytes transferred', bytes);
  });

  check('dashboard_counts_only_what_the_user_may_read', async () => {
    await page.goto(base + '/ui/#/');
    await ready(page);
    const total = Number(await page.textContent('#total'));
    assert(total === world.expect.ana_total, 'total ' + total + ', expected ' + world.expect.ana_total);
    const text = await page.textContent('main');
    assert(!text.includes('TLP:RED'), 'a TLP:RED count is shown to ana');
    assert(text.includes('TLP:GREEN'), 'no TLP:GREEN row');
    const last = await page.textContent('#last24');
    assert(last.startsWith(String(world.expect.ana_total) + ' arrived'), 'last 24 h: ' + last);
  });

  check('search_a_value_lists_both_organisations', async () => {
    await page.goto(base + '/ui/#/search');
    await ready(page);
    await page.fill('#q', world.shared_value);
    await page.click('form.search button[type=submit]');
    await page.waitForSelector('#results table', { timeout: 20000 });
    await ready(page);
    const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((t) => t.textContent));
    assert(rows.length === 2, 'rows: ' + JSON.stringify(rows));
    const text = await page.textContent('#results');
    assert(text.includes('Reported by') && text.includes('bank') && text.includes('cert'), text.slice(0, 300));
    await shot(page, 'search');
  });

  check('object_view_shows_correlation_and_sightings', async () => {
    await page.click('#results a[href="#/object/' + encodeURIComponent(world.ids.shared_cert) + '"]');
    await ready(page);
    await until(page, () => !document.querySelector('#correlations').textContent.includes('Looking'), 'correlations');
    await until(page, () => !document.querySelector('#sightings').textContent.includes('Looking'), 'sightings');
    const corr = await page.textContent('#correlations');
    assert(corr.includes('bank') && corr.includes(world.shared_value), 'correlations: ' + corr);
    const link = await page.$('#correlations a[href="#/object/' + encodeURIComponent(world.ids.shared_bank) + '"]');
    assert(link, 'no link to the bank\'s object');
    const s = await page.textContent('#sightings');
    assert(s.includes('3 sighting(s)'), 'sightings: ' + s);
    const raw = JSON.parse(await page.textContent('#raw'));
    assert(raw.id === world.ids.shared_cert, 'raw JSON is another object');
    // Relationships as a list and a graph, versions, sightings on a timeline.
    await until(page, () => !document.querySelector('#relationships').textContent.includes('Looking'), 'relationships');
    await until(page, () => !document.querySelector('#versions').textContent.includes('Looking'), 'versions');
    const rels = await page.$$eval('#rel-list tbody tr', (trs) => trs.map((t) => t.textContent));
    assert(rels.length === world.expect.ana_relationships, 'relationships: ' + JSON.stringify(rels));
    assert(rels.some((t) => t.includes('indicates') && t.includes('QuillRAT')), 'no "indicates QuillRAT": ' + JSON.stringify(rels));
    const graph = await page.evaluate(() => ({
      links: Array.from(document.querySelectorAll('#rel-graph a')).map((a) => a.getAttribute('href')),
      lines: document.querySelectorAll('#rel-graph line').length,
      text: document.querySelector('#rel-graph').textContent,
    }));
    assert(graph.links.length === world.expect.ana_relationships && graph.lines === graph.links.length, 'graph: ' + JSON.stringify(graph));
    assert(graph.links.includes('#/object/' + encodeURIComponent(world.ids.malware)) && graph.text.includes('QuillRAT'), 'graph: ' + JSON.stringify(graph));
    assert(!graph.text.includes(world.red_words), 'the RED end is drawn');
    const versions = await page.$$eval('#version-list tbody tr', (trs) => trs.map((t) => t.cells[0].textContent));
    assert(JSON.stringify(versions) === JSON.stringify(world.expect.versions.slice().reverse()), 'versions: ' + JSON.stringify(versions));
    const bars = await page.$$eval('#sighting-timeline rect', (r) => r.length);
    assert(bars === 1, 'timeline bars: ' + bars);
    await shot(page, 'object');
    // The object page opened first, with an empty cache (the session's cookie only).
    const fresh = await browser.newContext({ storageState: await context.storageState() });
    const p = await fresh.newPage();
    await p.goto(base + '/ui/#/object/' + encodeURIComponent(world.ids.shared_cert));
    await ready(p);
    await until(p, () => !document.querySelector('#sightings').textContent.includes('Looking'), 'sightings');
    console.log('FIGURE object page first load, empty cache: %d bytes transferred', await transferred(p));
    await fresh.close();
  });

  check('red_object_of_another_org_is_invisible', async () => {
    await page.goto(base + '/ui/#/search?q=' + encodeURIComponent(world.red_value));
    await ready(page);
    let text = await page.textContent('main');
    assert(text.includes('0 result(s)'), 'search by value: ' + text.slice(0, 300));
    assert(!text.includes('Reported by'), 'the value is said to be reported');
    await page.goto(base + '/ui/#/search?q=' + encodeURIComponent(world.red_words));
    await ready(page);
    text = await page.textContent('main');
    assert(text.includes('0 result(s)'), 'search by text: ' + text.slice(0, 300));
    await page.goto(base + '/ui/#/object/' + encodeURIComponent(world.ids.red));
    await ready(page);
    text = await page.textContent('main');
    assert(text.includes('No such object') && !text.includes(world.red_words), 'direct URL: ' + text.slice(0, 300));
    await shot(page, 'red-hidden');
  });

  check('the_owner_sees_the_red_object', async () => {
    // The control: the same pages show it to its own organisation.
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await signIn(p, world.users.bob.name, world.users.bob.password);
    const total = Number(await p.textContent('#total'));
    assert(total === world.expect.bob_total, 'bob total ' + total + ', expected ' + world.expect.bob_total);
    assert((await p.textContent('main')).includes('TLP:RED'), 'bob sees no TLP:RED count');
    await p.goto(base + '/ui/#/object/' + encodeURIComponent(world.ids.red));
    await ready(p);
    assert((await p.textContent('h1')).includes(world.red_words), 'bob cannot open it');
    await ctx.close();
  });

  check('hostile_strings_render_as_text', async () => {
    dialogs.length = 0;
    await page.goto(base + '/ui/#/object/' + encodeURIComponent(world.ids.hostile));
    await ready(page);
    await until(page, () => !document.querySelector('#correlations').textContent.includes('Looking'), 'correlations');
    const r = await page.evaluate(() => ({
      pwned: window.__pwned,
      injected: document.querySelectorAll('main script, main img, main iframe, main svg script, main object').length,
      h1: document.querySelector('h1').textContent,
      hrefs: Array.from(document.querySelectorAll('main a[href]')).map((a) => a.getAttribute('href')),
    }));
    assert(r.pwned === undefined, 'a script ran');
    assert(r.injected === 0, r.injected + ' element(s) injected');
    assert(r.h1 === world.hostile.name, 'the name is not shown as text: ' + r.h1);
    for (const h of r.hrefs) assert(/^(#\/|https?:)/.test(h), 'a link that is not http(s): ' + h);
    assert(r.hrefs.includes(world.hostile.good_url), 'the https reference is not a link');
    await until(page, () => !document.querySelector('#relationships').textContent.includes('Looking'), 'relationships');
    const drawn = await page.evaluate(() => document.querySelector('#rel-graph').textContent);
    assert(drawn.includes(world.hostile.name.slice(0, 20)), 'the graph does not show the name as text: ' + drawn.slice(0, 200));
    const injected = await page.evaluate(() => document.querySelectorAll('main script, main img, main iframe, main svg script, main foreignObject').length);
    assert(injected === 0, injected + ' element(s) injected by the graph');
    const text = await page.textContent('main');
    assert(text.includes(world.hostile.bad_url), 'the javascript: URL is not shown as text');
    assert(text.includes(world.hostile.rtl), 'the RTL override text is missing');
    assert(text.includes('and ' + (world.hostile.nlabels - 100) + ' more'), 'labels are not cut');
    await shot(page, 'hostile', false); // before the 100 KB value is shown whole
    // A DOM click: the button sits below 2,000 labels and 100 KB of text.
    assert(await page.evaluate(() => { const b = document.querySelector('button.more'); if (b) b.click(); return !!b; }), 'the 100 KB value is not cut');
    const longest = await page.evaluate(() => Math.max(...Array.from(document.querySelectorAll('main .value')).map((e) => e.textContent.length)));
    assert(longest >= world.hostile.long_len, 'the long value is not shown whole: ' + longest);
    // A broken address: a clear message, never a blank page.
    await page.goto(base + '/ui/#/object/%E0%A4%A');
    await ready(page);
    assert((await page.textContent('#error')).includes('not an object address'), 'no message for a bad address');
    await page.waitForTimeout(300);
    assert(dialogs.length === 0, 'dialogs fired: ' + dialogs.join(' | '));
  });

  check('pages_have_no_serious_accessibility_violations', async () => {
    // axe-core (npm, locked) evaluated in the page: DevTools evaluation is
    // not script the page's CSP governs, so the CSP stays as served.
    const axe = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const pages = { dashboard: '#/', search: '#/search?q=' + encodeURIComponent(world.shared_value),
                    object: '#/object/' + encodeURIComponent(world.ids.shared_cert), 'new-indicator': '#/new', import: '#/import' };
    const fresh = await browser.newContext();
    const signin = await fresh.newPage();
    await signin.goto(base + '/ui/');
    await signin.waitForSelector('#username');
    const found = [];
    const run = async (p, name) => {
      await p.evaluate(axe);
      const v = await p.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })
        .then((r) => r.violations.map((x) => ({ id: x.id, impact: x.impact, n: x.nodes.length }))));
      const bad = v.filter((x) => x.impact === 'serious' || x.impact === 'critical');
      console.log('FIGURE axe-core on %s: %d violation(s), %d serious or critical %s', name, v.length, bad.length, JSON.stringify(v));
      for (const b of bad) found.push(name + ': ' + b.id + ' (' + b.n + ')');
    };
    await run(signin, 'sign-in');
    await fresh.close();
    for (const [name, hash] of Object.entries(pages)) {
      await page.goto(base + '/ui/' + hash);
      await ready(page);
      await until(page, () => !document.body.textContent.includes('Looking…'), 'the page');
      await run(page, name);
    }
    assert(found.length === 0, found.join('; '));
  });

  check('new_indicator_checks_the_pattern_live_and_creates_it', async () => {
    await page.goto(base + '/ui/#/new');
    await ready(page);
    await page.fill('#ind-name', world.new_indicator.name);
    // Invalid: the checker's own error, and no way to submit it.
    await page.fill('#ind-pattern', world.new_indicator.bad_pattern);
    await until(page, () => /column/.test(document.getElementById('pattern-status').textContent), 'the checker\'s error');
    const csrf = await csrfOf(page);
    const theirs = await page.evaluate(([p, t]) => fetch('/api/v1/patterns/check', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': t }, body: JSON.stringify({ pattern: p }) }).then((r) => r.json()), [world.new_indicator.bad_pattern, csrf]);
    const shown = await page.textContent('#pattern-status');
    assert(theirs.valid === false && shown === 'Line 1, column ' + theirs.error.column + ': ' + theirs.error.reason, 'shown: ' + shown + ' / checker: ' + JSON.stringify(theirs));
    assert(await page.$eval('#ind-submit', (b) => b.disabled), 'an invalid pattern can be submitted');
    await shot(page, 'new-indicator-invalid');
    await page.evaluate(() => document.getElementById('new-indicator').requestSubmit());
    await until(page, () => document.getElementById('ind-result').textContent.includes('Not created'), 'the refusal');
    // Valid: AMBER for a sharing group, into the collection.
    await page.fill('#ind-pattern', world.new_indicator.pattern);
    await until(page, () => document.getElementById('pattern-status').textContent.startsWith('Valid pattern'), 'the check');
    await page.selectOption('#ind-tlp', 'amber');
    await page.selectOption('#ind-group', world.new_indicator.group);
    await until(page, () => document.querySelectorAll('#ind-collection option[value]:not([value=""])').length > 0, 'the collections');
    await page.selectOption('#ind-collection', world.collection);
    await shot(page, 'new-indicator-valid');
    await page.click('#ind-submit');
    await page.waitForSelector('#ind-created', { timeout: 20000 });
    const href = await page.$eval('#ind-created a', (a) => a.getAttribute('href'));
    // It is found by search, and stored as chosen.
    await page.goto(base + '/ui/#/search?q=' + encodeURIComponent(world.new_indicator.value));
    await ready(page);
    const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((t) => t.textContent));
    assert(rows.length === 1 && rows[0].includes(world.new_indicator.name) && rows[0].includes('TLP:AMBER'), 'search: ' + JSON.stringify(rows));
    assert(await page.$$eval('#results b', (b) => b.length) === 0, 'the name typed was made markup');
    await page.goto(base + '/ui/' + href);
    await ready(page);
    const raw = JSON.parse(await page.textContent('#raw'));
    assert(raw.pattern === world.new_indicator.pattern && raw.tix_sharing_group === world.new_indicator.group, 'stored: ' + JSON.stringify(raw).slice(0, 300));
    world.ids.created = raw.id;
  });

  check('import_a_misp_file_shows_the_report_per_object', async () => {
    await page.goto(base + '/ui/#/import');
    await ready(page);
    await page.setInputFiles('#imp-file', world.misp.path);
    await until(page, () => document.querySelectorAll('#imp-collection option[value]:not([value=""])').length > 0, 'the collections');
    await page.selectOption('#imp-collection', world.collection);
    await page.click('#imp-submit');
    await page.waitForSelector('#import-summary', { timeout: 30000 });
    const summary = await page.textContent('#import-summary');
    assert(/\(misp\): \d+ accepted, 1 refused; 1 record\(s\) could not be converted/.test(summary), 'summary: ' + summary);
    const rows = await page.$$eval('#import-objects tbody tr', (trs) => trs.map((t) => Array.from(t.cells).map((c) => c.textContent)));
    const refused = rows.filter((r) => r[1] === 'refused');
    assert(refused.length === 1 && refused[0][0].startsWith('ipv4-addr--') && refused[0][2].includes('not-an-address'), 'refused: ' + JSON.stringify(refused));
    assert(rows.filter((r) => r[1] === 'accepted').length >= 6, 'accepted: ' + rows.length);
    assert((await page.textContent('#import-records')).includes('value'), 'the record not converted is not shown');
    await shot(page, 'import-report');
    // An imported object: found by search, opened from the report.
    await page.goto(base + '/ui/#/search?q=' + encodeURIComponent(world.misp.value));
    await ready(page);
    const found = await page.$$eval('#results tbody tr', (trs) => trs.map((t) => t.textContent));
    assert(found.length >= 1 && found.some((t) => t.includes('cert')), 'search: ' + JSON.stringify(found));
    await page.click('#results tbody tr a');
    await ready(page);
    assert((await page.textContent('#raw')).includes(world.misp.value), 'the imported object does not open');
  });

  check('admin_pages_are_refused_to_an_analyst', async () => {
    assert(await page.$eval('#nav-admin', (e) => e.hidden), 'an analyst sees the admin links');
    for (const h of ['#/admin/collections', '#/admin/peers', '#/admin/audit?object=' + encodeURIComponent(world.ids.shared_cert), '#/drills']) {
      await page.goto(base + '/ui/' + h);
      await ready(page);
      const err = await page.textContent('#error');
      assert(err.includes('for administrators only'), h + ': ' + err);
      const t = await page.textContent('main');
      assert(!t.includes('regional-hub') && !t.includes('quill-responders'), h + ' shows admin data');
    }
    await shot(page, 'admin-refused');
  });

  check('admin_pages_show_permissions_peers_and_who_has_seen_an_object', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const p = await ctx.newPage();
    await signIn(p, world.users.ada.name, world.users.ada.password);
    assert(!(await p.$eval('#nav-admin', (e) => e.hidden)), 'an admin sees no admin links');
    await p.click('#nav-admin a[href="#/admin/collections"]');
    await ready(p);
    const coll = await p.$$eval('#admin-collections tbody tr', (trs) => trs.map((t) => Array.from(t.cells).map((c) => c.textContent)));
    const feed = coll.find((r) => r[1] === world.collection);
    assert(feed && feed[2].includes('cert') && feed[2].includes('bank') && feed[3].includes('bank'), 'collections: ' + JSON.stringify(coll));
    assert((await p.textContent('#admin-groups')).includes('quill-responders'), 'no sharing group');
    assert((await p.textContent('#admin-users')).includes('admin'), 'no roles');
    await shot(p, 'admin-collections');
    await p.goto(base + '/ui/#/admin/peers');
    await ready(p);
    const peer = await p.$$eval('#admin-peers tbody tr', (trs) => trs.map((t) => Array.from(t.cells).map((c) => c.textContent)));
    assert(peer.length === 1 && peer[0][0].includes('regional-hub') && peer[0][4] === 'failing' && Number(peer[0][5]) >= 1 && peer[0][6].length > 0, 'peers: ' + JSON.stringify(peer));
    // Its URL, hostile, is text.
    assert(peer[0][0].includes(world.peer_url), 'the URL is not shown as text: ' + peer[0][0]);
    assert(await p.evaluate(() => document.querySelectorAll('main img').length === 0 && window.__pwned === undefined), 'the peer URL was made markup');
    await shot(p, 'admin-peers');
    // From an object's page to who has seen it.
    await p.goto(base + '/ui/#/object/' + encodeURIComponent(world.ids.shared_cert));
    await ready(p);
    await p.click('#who-has-seen');
    await ready(p);
    const who = await p.$$eval('#audit-who tbody tr', (trs) => trs.map((t) => Array.from(t.cells).map((c) => c.textContent)));
    assert(who.some((r) => r[0] === 'ana' && r[2] === 'read') && who.some((r) => r[0] === 'bob' && r[2] === 'read'), 'who: ' + JSON.stringify(who));
    await shot(p, 'admin-audit');
    // The drills' scoreboard: per team, the inject each missed.
    assert(await p.$('#nav-admin a[href="#/drills"]'), 'no Drills link for an admin');
    await p.goto(base + '/ui/#/drills');
    await ready(p);
    const sec = await p.$('section[data-drill="' + world.drill + '"]');
    assert(sec && (await sec.textContent()).includes('Regional drill'), 'no drill on #/drills');
    const teams = await p.$$eval('section[data-drill] table.drill-teams tbody tr', (trs) => trs.map((t) => Array.from(t.cells).map((c) => c.textContent)));
    assert(JSON.stringify(teams.map((r) => [r[0], r[3], r[4]])) === JSON.stringify([['alpha', '1', '0'], ['bravo', '1', '0'], ['charlie', '1', '0']]), 'teams: ' + JSON.stringify(teams));
    const inj = await p.$$eval('section[data-drill] table.drill-injects tbody tr', (trs) => trs.map((t) => Array.from(t.cells).map((c) => c.textContent)));
    assert(inj.length === 3 && inj.every((r) => r[1] === 'C2 beacon' && r[2] === 'missed' && r[3] === '—'), 'injects: ' + JSON.stringify(inj));
    await shot(p, 'drills');
    // axe-core on the three, as the admin sees them.
    const axe = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const found = [];
    for (const h of ['#/admin/collections', '#/admin/peers', '#/admin/audit?object=' + encodeURIComponent(world.ids.shared_cert), '#/drills']) {
      await p.goto(base + '/ui/' + h);
      await ready(p);
      await p.evaluate(axe);
      const v = await p.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })
        .then((r) => r.violations.map((x) => ({ id: x.id, impact: x.impact, n: x.nodes.length }))));
      const bad = v.filter((x) => x.impact === 'serious' || x.impact === 'critical');
      console.log('FIGURE axe-core on %s: %d violation(s), %d serious or critical %s', h.split('?')[0], v.length, bad.length, JSON.stringify(v));
      for (const b of bad) found.push(h + ': ' + b.id);
    }
    await ctx.close();
    assert(found.length === 0, found.join('; '));
  });

  check('forged_cross_site_changes_are_refused', async () => {
    await page.goto(base + '/ui/#/');
    await ready(page);
    const csrf = await csrfOf(page);
    const url = base + world.objects_path;
    const body = JSON.stringify({ objects: [world.new_object] });
    const h = { 'Content-Type': 'application/taxii+json;version=2.1', Accept: 'application/taxii+json;version=2.1' };
    let r = await page.request.post(url, { headers: { ...h, Origin: base }, data: body });
    assert(r.status() === 403, 'no CSRF token: ' + r.status());
    r = await page.request.post(url, { headers: { ...h, Origin: 'http://evil.example', 'X-CSRF-Token': csrf }, data: body });
    assert(r.status() === 403, 'another origin: ' + r.status());
    r = await page.request.post(url, { headers: { ...h, Origin: base, 'X-CSRF-Token': 'A'.repeat(43) }, data: body });
    assert(r.status() === 403, 'a wrong token: ' + r.status());
    r = await page.request.delete(base + '/ui/session', { headers: { Origin: base } });
    assert(r.status() === 403, 'sign-out without a token: ' + r.status());
    // The control: from this node's page with the token, the same POST is taken.
    r = await page.request.post(url, { headers: { ...h, Origin: base, 'X-CSRF-Token': csrf }, data: body });
    assert(r.status() === 202, 'with the token: ' + r.status() + ' ' + (await r.text()));
  });

  check('sign_out_ends_the_session', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'tix_session');
    assert(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'cookie: ' + JSON.stringify(cookie));
    await page.goto(base + '/ui/#/');
    await ready(page);
    await page.click('#signout');
    await page.waitForSelector('#username');
    await shot(page, 'signed-out');
    const ctx = await browser.newContext();
    const r = await ctx.request.get(base + '/api/v1/summary', { headers: { Cookie: 'tix_session=' + cookie.value } });
    assert(r.status() === 401, 'the old cookie: ' + r.status());
    await ctx.close();
    await page.goto(base + '/ui/#/search?q=x');
    await page.waitForSelector('#username');
  });

  check('sign_in_with_an_api_key', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(base + '/ui/');
    await p.waitForSelector('#apikey');
    await p.fill('#apikey', 'tix_aaaaaaaaaaaa_' + 'A'.repeat(43));
    await p.click('#apikey ~ button');
    await until(p, () => document.body.textContent.includes('Not signed in'), 'the refusal');
    await p.fill('#apikey', world.users.bob.key);
    await p.click('#apikey ~ button');
    await p.waitForSelector('#total');
    await ready(p);
    const total = Number(await p.textContent('#total'));
    assert(total >= world.expect.bob_total, 'bob by key: total ' + total);
    assert((await ctx.cookies()).length === 0, 'a key sign-in set a cookie');
    assert(!(await p.evaluate(() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage))).includes('tix_'), 'the key was stored');
    await p.click('#signout');
    await p.waitForSelector('#username');
    await ctx.close();
  });

  check('no_console_errors_but_refusals', async () => {
    const bad = consoleErrors.filter((e) => !/status of (401|403|404)/.test(e));
    assert(bad.length === 0, bad.join(' | '));
  });

  for (const c of checks) {
    if (only.size && !only.has(c.name)) continue;
    try {
      await c.fn();
      console.log('ok ' + c.name);
    } catch (e) {
      console.log('FAIL ' + c.name + ': ' + String(e && e.message ? e.message : e).split('\n')[0]);
      await shot(page, 'FAIL-' + c.name, false).catch(() => {});
    }
  }
  await browser.close();
}

main().catch((e) => { console.log('FAIL driver: ' + (e && e.stack ? e.stack : e)); process.exit(1); });
