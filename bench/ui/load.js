// bench/ui/load.js — the console over a 64 kbit/s link with 300 ms of
// latency (Chromium's network emulation over DevTools): time to interactive
// and bytes of the sign-in page, the dashboard after sign-in and an object
// page opened cold; and in the same run the baseline: the same URLs (the
// same bytes) fetched at once by a bare page under the same throttle, the
// floor of the transfer. Usage: node load.js URL USER PASSWORD ROUNDS
'use strict';

const { chromium } = require('playwright-core');

const [base, user, password, roundsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg || 3);
const LINK = { offline: false, latency: 300, downloadThroughput: 8000, uploadThroughput: 8000 };

async function throttled(browser, state) {
  const ctx = await browser.newContext(state ? { storageState: state } : {});
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', LINK);
  return { ctx, page };
}

async function ready(page) {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 600000 });
}

async function settled(page) {
  for (;;) {
    if (await page.evaluate(() => !document.body.textContent.includes('Looking…') && !document.body.textContent.includes('Counting…'))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const resources = (page) => page.evaluate(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const all = [nav].concat(performance.getEntriesByType('resource'));
  return { bytes: all.reduce((n, e) => n + e.transferSize, 0), urls: all.map((e) => e.name) };
});

// The floor: the same URLs fetched at once from a bare same-origin page.
async function floor(browser, state, urls) {
  const { ctx, page } = await throttled(browser, state);
  await page.goto(base + '/ui/bare-page-for-the-baseline'); // a 404: a few bytes of text
  const ms = await page.evaluate((list) => {
    const t0 = performance.now();
    return Promise.all(list.map((u) => fetch(u, { credentials: 'same-origin', cache: 'no-store' }).then((r) => r.arrayBuffer())))
      .then(() => performance.now() - t0);
  }, urls);
  await ctx.close();
  return ms;
}

const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  const rows = { signin: [], dashboard: [], object: [], floor_dash: [], floor_obj: [] };
  let bytes = {};
  for (let r = 0; r < ROUNDS; r++) {
    const { ctx, page } = await throttled(browser);
    let t0 = Date.now();
    await page.goto(base + '/ui/');
    await ready(page);
    await page.waitForSelector('#username');
    rows.signin.push(Date.now() - t0);
    await page.fill('#username', user);
    await page.fill('#password', password);
    t0 = Date.now();
    await page.click('form.signin button[type=submit]');
    await page.waitForSelector('#total', { timeout: 600000 });
    await ready(page);
    rows.dashboard.push(rows.signin[r] + Date.now() - t0);
    const dash = await resources(page);
    const href = await page.evaluate(() => { const a = document.querySelector('main tbody a'); return a && a.getAttribute('href'); });
    const state = await ctx.storageState();
    await ctx.close();
    const o = await throttled(browser, state);
    t0 = Date.now();
    await o.page.goto(base + '/ui/' + href);
    await ready(o.page);
    await settled(o.page);
    rows.object.push(Date.now() - t0);
    const obj = await resources(o.page);
    await o.ctx.close();
    // The sign-in POST cannot be repeated by fetch: its answer is left out of the floor.
    rows.floor_dash.push(await floor(browser, state, dash.urls.filter((u) => !u.endsWith('/ui/session'))));
    rows.floor_obj.push(await floor(browser, state, obj.urls));
    bytes = { dashboard: dash.bytes, object: obj.bytes };
  }
  await browser.close();
  const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, Math.round(median(v))]));
  console.log('link: 64 kbit/s each way, 300 ms latency; medians of %d rounds (ms)', ROUNDS);
  console.log('%s', ['page', 'interactive', 'baseline (same bytes fetched at once)', 'ratio', 'bytes'].join(' | '));
  console.log('sign-in | %d | - | - | -', m.signin);
  console.log('dashboard (sign-in, then counts) | %d | %d | %s | %d', m.dashboard, m.floor_dash, (m.dashboard / m.floor_dash).toFixed(2), bytes.dashboard);
  console.log('object page, cold | %d | %d | %s | %d', m.object, m.floor_obj, (m.object / m.floor_obj).toFixed(2), bytes.object);
  console.log('budget: dashboard %d of 200,000 bytes: %s; object page %d of 100,000 bytes: %s',
    bytes.dashboard, bytes.dashboard <= 200000 ? 'PASS' : 'MISS', bytes.object, bytes.object <= 100000 ? 'PASS' : 'MISS');
})().catch((e) => { console.error(e); process.exit(1); });
