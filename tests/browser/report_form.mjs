// Submits the hub's public report form in headless Chromium, by keyboard
// only, with JavaScript on or off, and prints what a person would have
// seen as one JSON object. Usage: node report_form.mjs BASE_URL on|off VALUE
// Exit 3 when Chromium cannot start (the caller skips, saying why).
import { chromium } from 'playwright-core';

const [base, jsArg, value] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
let browser;
try {
  browser = await chromium.launch({ executablePath, headless: true,
                                    args: ['--no-sandbox', '--disable-gpu'] });
} catch (e) {
  process.stdout.write(JSON.stringify({ cannot_start: String(e.message || e).slice(0, 500) }));
  process.exit(3);
}
const out = { csp_violations: [], console: [] };
try {
  const context = await browser.newContext({ javaScriptEnabled: jsArg === 'on', locale: 'ru-RU' });
  const page = await context.newPage();
  page.on('console', (m) => {
    const t = m.text();
    out.console.push(t.slice(0, 200));
    if (/Content Security Policy/i.test(t)) out.csp_violations.push(t.slice(0, 300));
  });
  page.on('requestfailed', (r) => out.console.push('failed ' + r.url()));
  const resp = await page.goto(base + '/report');
  out.form_status = resp.status();
  out.lang = await page.getAttribute('html', 'lang');
  out.css_applied = await page.$eval('button', (b) => getComputedStyle(b).fontWeight);

  // keyboard only: Tab to the kind radios, arrow to "phone", type, submit
  let id = '';
  for (let i = 0; i < 12 && id !== 'kind-phishing'; i++) {
    await page.keyboard.press('Tab');
    id = await page.evaluate(() => document.activeElement && document.activeElement.id);
  }
  out.reached_radios = id === 'kind-phishing';
  await page.keyboard.press('ArrowDown');
  out.kind_checked = await page.$eval('input[name=kind]:checked', (e) => e.value);
  const order = [];
  await page.keyboard.press('Tab');
  order.push(await page.evaluate(() => document.activeElement.id));
  await page.keyboard.type('not a phone');
  await page.keyboard.press('Tab');
  order.push(await page.evaluate(() => document.activeElement.id));
  await page.keyboard.type('Звонили «из банка», просили код из SMS');
  await page.keyboard.press('Tab');
  order.push(await page.evaluate(() => document.activeElement.id));
  await page.keyboard.type('citizen-browser@example.org');
  await page.keyboard.press('Tab');
  order.push(await page.evaluate(() => document.activeElement.tagName.toLowerCase()));
  out.tab_order = order;
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);

  // the error, tied to its field, in Russian
  out.error_summary = await page.$eval('[role=alert]', (e) => e.textContent).catch(() => null);
  out.value_invalid = await page.getAttribute('#value', 'aria-invalid');
  out.value_describedby = await page.getAttribute('#value', 'aria-describedby');
  out.value_error = await page.$eval('#value-error', (e) => e.textContent).catch(() => null);
  out.text_kept = await page.$eval('#text', (e) => e.value);
  out.kind_kept = await page.$eval('input[name=kind]:checked', (e) => e.value);

  // correct it and send again, by keyboard
  await page.focus('#value');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(value);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  out.submit_focused = await page.evaluate(() => document.activeElement.tagName.toLowerCase());
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  out.thanks = await page.$eval('h1', (e) => e.textContent);
  out.receipt = await page.$eval('#receipt', (e) => e.textContent).catch(() => null);

  // the status page, through its link (keyboard: focus it, Enter)
  await page.focus('#status-link');
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  out.status_url = page.url().replace(base, '');
  out.state = await page.getAttribute('#state', 'data-state');
  out.state_text = await page.$eval('#state', (e) => e.textContent);

  // the visible language switch
  await Promise.all([page.waitForNavigation(), page.click('a[hreflang=en]')]);
  out.switched_lang = await page.getAttribute('html', 'lang');
  out.switched_state_text = await page.$eval('#state', (e) => e.textContent);
  await context.close();
} catch (e) {
  out.error = String(e.stack || e).slice(0, 2000);
}
await browser.close();
process.stdout.write(JSON.stringify(out));
