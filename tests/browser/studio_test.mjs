// The studio in a real browser: headless Debian Chromium, driven by playwright-core.
// Starts `bachgen serve` on a free port, then: compose, wait for the score and the piano roll
// and the audio; the score shows the result's notes (read back from the rendered page, on four
// staves and on two), its cursor moves while playing, it prints; download the MIDI and check
// that `bachgen inspect` reads it; select bars on the score and redraw voices;
// enter a melody on the on-screen keyboard, harmonize it and see four voices with the melody
// kept; show a clear error for bad note text. Screenshots go to --out (an artifact).
// Usage: node studio_test.mjs --bachgen PATH/bachgen --out DIR [--chromium PATH]
import {chromium} from 'playwright-core';
import {spawn, execFileSync} from 'node:child_process';
import {mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => {
  if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]]);
  return pairs;
}, []));
const bachgen = args.bachgen;
const out = args.out || 'studio-test';
const browserPath = args.chromium || process.env.CHROMIUM || '/usr/bin/chromium';
if (!bachgen) { console.error('usage: node studio_test.mjs --bachgen PATH --out DIR'); process.exit(2); }
mkdirSync(out, {recursive: true});

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`ok: ${message}`);
}

function startServer() {
  const server = spawn(bachgen, ['serve', '--port', '0', '--quiet', '--results', '50'], {stdio: ['ignore', 'pipe', 'inherit']});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bachgen serve did not print its address within 60 s')), 60000);
    let seen = '';
    server.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(/http:\/\/[0-9.]+:(\d+)\//);
      if (match) { clearTimeout(timer); resolve({server, url: match[0]}); }
    });
    server.on('exit', (code) => { clearTimeout(timer); reject(new Error(`bachgen serve exited (${code}) before listening`)); });
  });
}

const currentResult = (page) => page.$eval('#roll', (c) => c.dataset.result || '');
async function waitForNewResult(page, previous) {
  await page.waitForFunction((old) => {
    const roll = document.getElementById('roll');
    return (roll.dataset.result && roll.dataset.result !== old) || !document.getElementById('error').hidden;
  }, previous, {timeout: 120000});
  const error = await page.$eval('#error', (e) => (e.hidden ? '' : e.textContent));
  if (error) throw new Error(`the page shows an error: ${error}`);
  return currentResult(page);
}

async function main() {
  const {server, url} = await startServer();
  console.log(`studio at ${url}`);
  const browser = await chromium.launch({executablePath: browserPath, headless: true, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required']});
  const page = await browser.newPage({viewport: {width: 1280, height: 900}, acceptDownloads: true});
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-ready=true]', {timeout: 30000});
    check((await page.textContent('#server-info')).includes('compose:'), 'the page loaded and read /api/info');

    // Compose two bars.
    await page.fill('#bars', '2');
    await page.fill('#seed', '4');
    await page.click('#generate');
    check(await page.isVisible('#progress'), 'progress shows while it works');
    const composed = await waitForNewResult(page, '');
    const notes = Number(await page.$eval('#roll', (c) => c.dataset.notes));
    check(notes > 4, `the piano roll shows ${notes} notes`);
    check(await page.$eval('#roll', (c) => c.dataset.voices) === '4', 'in four voices');
    await page.waitForFunction(() => {
      const p = document.getElementById('player');
      return p.dataset.ready === 'true' && p.duration > 0;
    }, null, {timeout: 30000});
    const seconds = await page.$eval('#player', (p) => p.duration);
    check(seconds > 1, `the audio is ready (${seconds.toFixed(2)} s)`);
    // Play: the playhead follows the audio across the roll.
    await page.evaluate(() => document.getElementById('player').play());
    await page.waitForFunction(() => Number(document.getElementById('roll').dataset.playhead || 0) > 2, null, {timeout: 20000});
    const playhead = Number(await page.$eval('#roll', (c) => c.dataset.playhead));
    check(playhead > 2, `the playhead moves with the audio (at step ${playhead})`);
    // The score: drawn from the result's MusicXML, its notes those of the result.
    await page.waitForFunction((id) => document.getElementById('score').dataset.result === id, composed, {timeout: 30000});
    const same = async (layout) => page.evaluate(async (id) => {
      const json = await (await fetch(`/api/results/${id}.json`)).json();
      const want = json.notes.map((n) => [n[0], n[1], n[3]].join()).sort();
      const drawn = window.bachgenScoreNotes().map((n) => n.join()).sort();
      return {ok: JSON.stringify(want) === JSON.stringify(drawn), want: want.length, drawn: drawn.length, first: drawn.slice(0, 3)};
    }, composed);
    let match = await same('4');
    check(match.ok, `the score shows the result's ${match.want} notes on four staves (drawn: ${match.drawn}, ${match.first})`);
    check(await page.$$eval('#score svg', (s) => s.length) > 0, 'as an SVG score');
    await page.waitForFunction(() => {
      const e = document.getElementById('score');
      return Number(e.dataset.cursor) > Number(e.dataset.lead);
    }, null, {timeout: 20000});
    const cursor = await page.$eval('#score', (e) => `${e.dataset.cursor} (first note at ${e.dataset.lead})`);
    check(true, `the score's cursor moves with the audio (at step ${cursor})`);
    await page.screenshot({path: join(out, 'studio-compose.png'), fullPage: true});
    await page.evaluate(() => document.getElementById('player').pause());
    await page.check('input[name=staves][value="2"]');
    await page.waitForFunction(() => document.getElementById('score').dataset.layout === '2', null, {timeout: 30000});
    match = await same('2');
    check(match.ok, `and on the hymnal's two staves (drawn: ${match.drawn})`);
    await page.check('input[name=staves][value="4"]');
    await page.waitForFunction(() => document.getElementById('score').dataset.layout === '4', null, {timeout: 30000});
    await page.emulateMedia({media: 'print'});
    const printed = await page.evaluate(() => ({controls: getComputedStyle(document.getElementById('controls')).display,
                                                 score: getComputedStyle(document.getElementById('score-wrap')).display}));
    check(printed.controls === 'none' && printed.score !== 'none', 'printing shows the score alone');
    await page.emulateMedia({media: 'screen'});

    // Download the MIDI and read it back.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#downloads a[data-kind=mid]')]);
    const midiPath = join(out, 'composed.mid');
    await download.saveAs(midiPath);
    check(readFileSync(midiPath).subarray(0, 4).toString() === 'MThd', `downloaded ${download.suggestedFilename()}`);
    const inspected = execFileSync(bachgen, ['inspect', '--json', midiPath]).toString();
    const summary = JSON.parse(inspected);
    const voiced = summary.tracks.filter((t) => t.notes > 0).map((t) => t.name);
    check(summary.ok && voiced.join() === 'Soprano,Alto,Tenor,Bass', `bachgen inspect reads it: ${summary.notes} notes in ${voiced}`);

    // Select bars 1-2 by dragging across them on the score, redraw alto and tenor.
    const frame = await page.locator('#score').boundingBox();
    const boxes = await page.evaluate(() => window.bachgenMeasureBoxes());
    check(boxes.length === 2, `the score has ${boxes.length} measures`);
    await page.mouse.move(frame.x + boxes[0].x + 10, frame.y + boxes[0].y + 10);
    await page.mouse.down();
    await page.mouse.move(frame.x + boxes[1].x + boxes[1].width - 10, frame.y + boxes[1].y + 10, {steps: 5});
    await page.mouse.up();
    check((await page.textContent('#selection-text')).startsWith('Bars 1–2'), 'bars 1-2 are selected on the score');
    check(await page.$eval('#score-marks', (m) => m.children.length) === 2, 'and marked there');
    await page.uncheck('input.voice[value=B]');
    await page.click('#regenerate');
    const redrawn = await waitForNewResult(page, composed);
    check(redrawn !== composed, 'the selection was redrawn as a new result');
    await page.waitForFunction((id) => document.getElementById('score').dataset.result === id, redrawn, {timeout: 30000});
    check(true, 'and the score shows it');
    check(await page.$$eval('#history li', (items) => items.length) === 2, 'the session lists both results');

    // Continue the result shown: all of it, four bars more.
    await page.check('input[name=mode][value=continue]');
    check(await page.inputValue('#bars') === '6', 'continue offers the result\'s 2 bars + 4');
    await page.click('#generate');
    const continued = await waitForNewResult(page, redrawn);
    const continuedBars = await page.evaluate(async (id) => (await (await fetch(`/api/results/${id}.json`)).json()).bars, continued);
    check(continuedBars === 6, `the continuation has ${continuedBars} bars`);

    // Harmonize a melody entered on the on-screen keyboard.
    await page.check('input[name=mode][value=harmonize]');
    await page.click('#clear-notes');
    for (const pitch of ['C5', 'D5', 'E5', 'F5']) await page.click(`#keyboard button[data-pitch="${pitch}"]`);
    await page.click('#add-bar');
    await page.click('#durations button[data-duration="2"]');
    for (const pitch of ['G5', 'E5']) await page.click(`#keyboard button[data-pitch="${pitch}"]`);
    await page.click('#add-bar');
    await page.click('#durations button[data-duration="4"]');
    await page.click('#keyboard button[data-pitch="C5"]');
    const text = await page.inputValue('#notes');
    check(text === 'C5:1 D5:1 E5:1 F5:1 | G5:2 E5:2 | C5:4', `the keyboard wrote "${text}"`);
    await page.click('#generate');
    const harmonized = await waitForNewResult(page, continued);
    check(await page.$eval('#roll', (c) => c.dataset.voices) === '4', 'the harmonization has four voices');
    const soprano = await page.evaluate(async (id) => {
      const notes = await (await fetch(`/api/results/${id}.json`)).json();
      return notes.notes.filter((n) => n[0] === 0).map((n) => n[3]);
    }, harmonized);
    check(JSON.stringify(soprano) === JSON.stringify([72, 74, 76, 77, 79, 76, 72]), `the melody is kept: ${soprano}`);
    await page.screenshot({path: join(out, 'studio.png'), fullPage: true});

    // Bad note text: a clear message naming the field.
    await page.fill('#notes', 'G4 | H4');
    await page.click('#generate');
    await page.waitForSelector('#error:not([hidden])', {timeout: 30000});
    const error = await page.textContent('#error');
    check(error.startsWith('notes:') && error.includes("'H'"), `bad input is explained: "${error}"`);
    check(pageErrors.length === 0, `no script errors (${pageErrors.join('; ')})`);
  } catch (e) {
    await page.screenshot({path: join(out, 'failure.png'), fullPage: true}).catch(() => {});
    throw e;
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
}

main().then(() => { console.log('studio browser test: passed'); process.exit(0); },
            (e) => { console.error(`studio browser test: FAILED: ${e.message}`); process.exit(1); });
