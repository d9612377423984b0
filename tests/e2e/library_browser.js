// tests/e2e/library_browser.js — the browser half of tests/e2e/test_library.py:
// playwright-core drives Debian's chromium (headless) over an offline pack
// (tix library pack) opened from file:// with the network off. Reads
// {chromium, index, words: [[word, title], ...], total} as JSON from argv[2]
// (with "console": {url, user, password, total, educators}, the console's
// #/library page on the real server instead);
// prints one "ok NAME" or "FAIL NAME: why" line per check.
'use strict';

const fs = require('fs');
const { chromium } = require('playwright-core');

const world = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

// Waits until the console has drawn the address the page shows (app.js sets
// data-routed to the hash it drew): after a goto that changes only the hash,
// the page before's #library-total is still there until hashchange fires.
// Polled with page.evaluate: the console's CSP refuses Playwright's own
// waitForFunction (it evaluates a string).
async function drawn(page) {
  const end = Date.now() + 20000;
  for (;;) {
    const ok = await page.evaluate(() => document.body.getAttribute('data-ready') === '1'
      && document.body.getAttribute('data-routed') === (location.hash || '#/')).catch(() => false);
    if (ok) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + page.url());
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const browser = await chromium.launch({
    executablePath: world.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions'],
  });
  let failed = 0;
  const check = async (name, fn) => {
    try { await fn(); console.log('ok ' + name); } catch (e) { failed++; console.log('FAIL ' + name + ': ' + e.message); }
  };
  if (world.console) {
    // the console's library page (#/library) on the real server, signed in
    const c = world.console;
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(c.url + '/ui/');
    await page.waitForSelector('#username');
    await page.fill('#username', c.user);
    await page.fill('#password', c.password);
    await page.click('form.signin button[type=submit]');
    await page.waitForSelector('body[data-ready="1"] #nav:not([hidden])', { timeout: 20000 });
    for (const [word, title] of world.words) {
      await check('console_finds ' + word, async () => {
        await page.goto(c.url + '/ui/#/library?q=' + encodeURIComponent(word));
        await drawn(page);
        const got = await page.evaluate(() => [...document.querySelectorAll('.library-title')].map((e) => e.textContent));
        if (got.length !== 1 || got[0] !== title) throw new Error(JSON.stringify(got) + ' for ' + word);
      });
    }
    await check('console_facets_filter', async () => {
      await page.goto(c.url + '/ui/#/library');
      await drawn(page);
      const total = await page.textContent('#library-total');
      if (total !== c.total + ' resource(s)') throw new Error(total);
      await page.click('section[data-facet="audience"] a:text-is("educators (' + c.educators + ')")');
      await drawn(page);
      const after = await page.textContent('#library-total');
      if (after !== c.educators + ' resource(s)') throw new Error('after the facet: ' + after);
    });
    await ctx.close();
    await browser.close();
    process.exit(failed ? 1 : 0);
  }
  const context = await browser.newContext({ offline: true });
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('file://' + world.index);
  const visible = () => page.evaluate(() =>
    [...document.querySelectorAll('li.r')].filter((li) => !li.hidden).map((li) => li.querySelector('h2').textContent));
  await check('every_resource_listed', async () => {
    const v = await visible();
    if (v.length !== world.total) throw new Error('listed ' + v.length + ' of ' + world.total);
    const c = await page.textContent('#count');
    if (c.trim() !== world.total + ' / ' + world.total) throw new Error('count says ' + c);
  });
  for (const [word, title] of world.words) {
    await check('search_finds ' + word, async () => {
      await page.fill('#q', word);
      const v = await visible();
      if (v.length !== 1 || v[0] !== title) throw new Error(JSON.stringify(v) + ' for ' + word);
    });
  }
  await check('a_word_in_no_resource_hides_all', async () => {
    await page.fill('#q', 'zzzznothing');
    if ((await visible()).length !== 0) throw new Error('something shown');
  });
  await check('markup_is_text', async () => {
    const n = await page.evaluate(() => document.querySelectorAll('#list b, #list script, #list img').length);
    if (n !== 0) throw new Error(n + ' elements made of resource text');
    const body = await page.textContent('#list');
    if (!body.includes(world.literal)) throw new Error('no literal ' + world.literal);
  });
  await check('no_request_but_the_page', async () => {
    const others = requests.filter((u) => !u.startsWith('file://'));
    if (others.length) throw new Error('requests: ' + others.join(' '));
    if (errors.length) throw new Error('errors: ' + errors.join(' | '));
  });
  await browser.close();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log('FAIL browser: ' + e.message); process.exit(1); });
