// bachgen studio: the page's logic. Plain JavaScript; everything it loads comes from the bachgen
// server (docs/studio.md): its own files, and OpenSheetMusicDisplay (web/package-lock.json),
// which draws the score from the result's MusicXML.
'use strict';

const COLORS = ['#c0392b', '#d68910', '#1e8449', '#2e5fa8'];
const VOICES = ['Soprano', 'Alto', 'Tenor', 'Bass'];
const NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const $ = (id) => document.getElementById(id);

const state = {
  current: null,     // the result shown: the POST answer plus its notes
  history: [],       // this session's results, newest first
  selection: null,   // [firstBar, lastBar] (1-based) or null
  busy: false,
  duration: 1,       // the keyboard's note length in quarters
  melodyFile: null,  // {name, data} when a melody file was chosen
};

// ---- the server --------------------------------------------------------------------------

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
  });
  let answer = null;
  try { answer = await response.json(); } catch (e) { answer = null; }
  if (!response.ok) {
    const reason = answer && answer.error ? answer.error : `HTTP ${response.status}`;
    const field = answer && answer.field ? `${answer.field}: ` : '';
    const retry = response.headers.get('Retry-After');
    throw new Error(field + reason + (retry ? ` (retry in ${retry} s)` : ''));
  }
  return answer;
}

function readFileBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',', 2)[1] || '');
    reader.onerror = () => reject(new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

// ---- the form ----------------------------------------------------------------------------

function mode() { return document.querySelector('input[name=mode]:checked').value; }

function numberField(id, integer) {
  const value = Number($(id).value);
  if ($(id).value.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new Error(`${$(id).closest('label').firstChild.textContent.trim()}: not a ${integer ? 'whole ' : ''}number`);
  }
  return value;
}

function sampling() {
  return {
    temperature: numberField('temperature'),
    top_k: numberField('top-k', true),
    top_p: numberField('top-p'),
    seed: numberField('seed', true),
    voice_leading: $('voice-leading').checked ? 'strict' : 'off',
  };
}

// How harmonize and redraw draw: the server's default unless one is chosen.
function samplerFields() {
  const fields = {};
  if ($('sampler').value) fields.sampler = $('sampler').value;
  if ($('rhythm').value) fields.rhythm = $('rhythm').value;
  if ($('final-temperature').value !== '') fields.final_temperature = numberField('final-temperature');
  return fields;
}

function showMode() {
  const m = mode();
  if (m === 'continue' && state.current) {
    // Continue after the whole result shown, by four bars unless the user says otherwise.
    $('primer-steps').value = '0';
    $('bars').value = String(Math.min(Number($('bars').max) || 32, state.current.bars + 4));
  }
  // The measured default temperature of the harmonizer (1, cooling to 0.5 over its Gibbs
  // iterations) and of the composer (1), until the user sets one.
  if (!$('temperature').dataset.edited) $('temperature').value = '1';
  $('continue-panel').hidden = m !== 'continue';
  $('melody-panel').hidden = m !== 'harmonize';
  $('bars-label').hidden = m === 'harmonize';
  $('key-label').hidden = m !== 'compose';
  $('generate').textContent = {compose: 'Compose', continue: 'Continue', harmonize: 'Harmonize'}[m];
}

async function buildRequest() {
  const m = mode();
  if (m === 'harmonize') {
    const body = Object.assign(sampling(), samplerFields(), {transpose: $('transpose').checked ? 'auto' : 'off',
                                                            cadence: $('cadence').checked ? 'tonic' : 'free'});
    if (state.melodyFile) body.melody = state.melodyFile;
    else body.notes = $('notes').value;
    return ['/api/harmonize', body];
  }
  const body = Object.assign(sampling(), {bars: numberField('bars', true)});
  if (m === 'compose') {
    if ($('key').value) body.key = $('key').value;
  } else {
    body.primer_steps = numberField('primer-steps', true);
    const source = document.querySelector('input[name=primer-source]:checked').value;
    if (source === 'current') {
      if (!state.current) throw new Error('nothing to continue yet: compose or harmonize first, or choose a MIDI file');
      body.primer = {result: state.current.id};
    } else {
      const file = $('primer-file').files[0];
      if (!file) throw new Error('choose a MIDI file to continue');
      body.primer = {name: file.name, data: await readFileBase64(file)};
    }
  }
  return ['/api/compose', body];
}

// ---- progress and errors ------------------------------------------------------------------

let ticker = null;
function setBusy(busy, what) {
  state.busy = busy;
  $('generate').disabled = busy;
  $('regenerate').disabled = busy || !state.current || !state.selection;
  $('progress').hidden = !busy;
  clearInterval(ticker);
  if (busy) {
    const start = performance.now();
    const tick = () => { $('progress-text').textContent = `${what}… ${((performance.now() - start) / 1000).toFixed(1)} s`; };
    tick();
    ticker = setInterval(tick, 100);
  }
}

function showError(message) {
  $('error').hidden = !message;
  $('error').textContent = message || '';
}

async function run(what, path, body) {
  showError('');
  setBusy(true, what);
  try {
    const answer = await api(path, body);
    const notes = await api(answer.files.json);
    show(Object.assign(answer, {notes}), true);
  } catch (e) {
    showError(e.message);
  } finally {
    setBusy(false);
  }
}

// ---- results ------------------------------------------------------------------------------

function show(result, isNew) {
  state.current = result;
  state.selection = null;
  if (isNew) state.history.unshift(result);
  drawRoll();
  drawScore();
  const player = $('player');
  player.dataset.ready = 'false';
  if (result.files.wav) player.src = result.files.wav;
  else player.removeAttribute('src');
  const links = [['mid', 'MIDI'], ['musicxml', 'MusicXML'], ['hymnal.musicxml', 'MusicXML (two staves)'], ['wav', 'WAV']]
    .filter(([ext]) => result.files[ext])
    .map(([ext, label]) => `<a href="${result.files[ext]}?download=1" download data-kind="${ext}">${label}</a>`);
  $('downloads').innerHTML = links.join('');
  const list = $('history');
  list.innerHTML = '';
  state.history.slice(0, 20).forEach((r) => {
    const item = document.createElement('li');
    item.textContent = `${r.kind}: ${r.bars} bars, ${r.seconds.toFixed(1)} s (${r.id.slice(0, 8)})`;
    item.className = r === state.current ? 'current' : '';
    item.onclick = () => show(r, false);
    list.appendChild(item);
  });
  updateSelection();
}

// ---- the piano roll -----------------------------------------------------------------------

const ROLL = {left: 34, top: 22, stepWidth: 10, rowHeight: 5};

function rollGeometry() {
  const notes = state.current.notes;
  let low = 127, high = 0;
  for (const [, , , pitch] of notes.notes) { low = Math.min(low, pitch); high = Math.max(high, pitch); }
  if (low > high) { low = 60; high = 72; }
  low -= 2; high += 2;
  const width = Math.max(600, $('roll-wrap').clientWidth - 2);
  const stepWidth = Math.max(4, Math.min(14, (width - ROLL.left - 8) / Math.max(1, notes.steps)));
  return {low, high, stepWidth, width: ROLL.left + stepWidth * notes.steps + 8, height: ROLL.top + (high - low + 1) * ROLL.rowHeight + 6};
}

function drawRoll(playStep) {
  const canvas = $('roll');
  const result = state.current;
  $('roll-empty').hidden = !!result;
  if (!result) return;
  const notes = result.notes;
  const g = rollGeometry();
  if (canvas.width !== Math.ceil(g.width) || canvas.height !== g.height) {
    canvas.width = Math.ceil(g.width);
    canvas.height = g.height;
  }
  const c = canvas.getContext('2d');
  const x = (step) => ROLL.left + step * g.stepWidth;
  const y = (pitch) => ROLL.top + (g.high - pitch) * ROLL.rowHeight;
  c.clearRect(0, 0, canvas.width, canvas.height);
  for (let p = g.low; p <= g.high; ++p) {  // black-key rows shaded, C rows labelled
    if ([1, 3, 6, 8, 10].includes(p % 12)) { c.fillStyle = '#f3f1ec'; c.fillRect(ROLL.left, y(p), x(notes.steps) - ROLL.left, ROLL.rowHeight); }
    if (p % 12 === 0) { c.fillStyle = '#6b7280'; c.font = '10px sans-serif'; c.fillText(`C${p / 12 - 1}`, 4, y(p) + ROLL.rowHeight); }
  }
  if (state.selection) {
    const [a, b] = state.selection;
    c.fillStyle = 'rgba(245, 215, 110, 0.35)';
    c.fillRect(x((a - 1) * notes.steps_per_bar), ROLL.top - 16, (b - a + 1) * notes.steps_per_bar * g.stepWidth, canvas.height);
  }
  c.font = '11px sans-serif';
  for (let bar = 0; bar * notes.steps_per_bar <= notes.steps; ++bar) {
    const bx = x(bar * notes.steps_per_bar);
    c.fillStyle = '#d9d6cf';
    c.fillRect(bx, ROLL.top - 4, 1, canvas.height);
    if (bar < notes.bars) { c.fillStyle = '#1d2430'; c.fillText(String(bar + 1), bx + 3, ROLL.top - 8); }
  }
  for (const [voice, start, length, pitch] of notes.notes) {
    c.fillStyle = COLORS[voice];
    c.fillRect(x(start) + 0.5, y(pitch), Math.max(2, length * g.stepWidth - 1), ROLL.rowHeight);
  }
  if (playStep !== undefined) {
    c.fillStyle = '#111';
    c.fillRect(x(playStep), ROLL.top - 4, 2, canvas.height);
  }
  canvas.dataset.playhead = playStep === undefined ? '' : playStep.toFixed(1);
  canvas.dataset.notes = String(notes.notes.length);
  canvas.dataset.voices = String(new Set(notes.notes.map((n) => n[0])).size);
  canvas.dataset.result = result.id;
}

function barAt(event) {
  const notes = state.current.notes;
  const g = rollGeometry();
  const rect = $('roll').getBoundingClientRect();
  const step = (event.clientX - rect.left - ROLL.left) / g.stepWidth;
  return Math.min(notes.bars, Math.max(1, Math.floor(step / notes.steps_per_bar) + 1));
}

function updateSelection() {
  const s = state.selection;
  $('selection-text').textContent = s ? `Bars ${s[0]}${s[1] > s[0] ? '–' + s[1] : ''} selected; redraw voices:`
                                      : 'Drag across bars in the score or the roll to pick some, then redraw voices:';
  $('regenerate').disabled = state.busy || !state.current || !s;
}

function setupRoll() {
  const canvas = $('roll');
  let anchor = null;
  canvas.addEventListener('mousedown', (e) => {
    if (!state.current) return;
    anchor = barAt(e);
    state.selection = [anchor, anchor];
    drawRoll(); markSelection(); updateSelection();
  });
  canvas.addEventListener('mousemove', (e) => {
    if (anchor === null) return;
    const bar = barAt(e);
    state.selection = [Math.min(anchor, bar), Math.max(anchor, bar)];
    drawRoll(); markSelection(); updateSelection();
  });
  window.addEventListener('mouseup', () => { anchor = null; });
  $('regenerate').onclick = () => {
    const voices = [...document.querySelectorAll('input.voice:checked')].map((v) => v.value).join('');
    if (!voices) { showError('voices: tick at least one of S, A, T, B'); return; }
    let body;
    try { body = Object.assign(sampling(), samplerFields(), {result: state.current.id, bars: state.selection, voices}); } catch (e) { showError(e.message); return; }
    run('Redrawing', '/api/infill', body);
  };
  const player = $('player');
  const follow = () => {
    if (!state.current) return;
    const step = player.currentTime * state.current.notes.tempo / 60 * 4;
    drawRoll(step);
    moveCursor(step);
    if (!player.paused) requestAnimationFrame(follow);
  };
  player.addEventListener('play', () => requestAnimationFrame(follow));
  player.addEventListener('seeked', follow);
  player.addEventListener('loadedmetadata', () => { player.dataset.ready = 'true'; });
  window.addEventListener('resize', () => {
    drawRoll();
    if (!score.osmd || !score.shown) return;
    if ($('score-wrap').hidden) { score.shown = ''; return; }  // drawn again when shown
    score.osmd.render();
    afterRender();
  });
}

// ---- the score ----------------------------------------------------------------------------

const score = {
  osmd: null,     // the OpenSheetMusicDisplay, or null where its library did not load
  shown: '',      // what is drawn: result id and layout
  drawing: 0,     // the latest drawing asked for (an older one that finishes late is dropped)
  lead: 0,        // 16ths of the audio before the first written note (a pickup's rests)
  cursorStep: 0,  // where the cursor stands, in 16ths of the audio
};

function view() { return document.querySelector('input[name=view]:checked').value; }
function staves() { return document.querySelector('input[name=staves]:checked').value; }

function showView() {
  const roll = view() === 'roll' || !score.osmd;
  $('roll-wrap').hidden = !roll;
  $('score-wrap').hidden = roll;
  $('staves-choice').hidden = roll;
  $('print').hidden = roll;
  drawRoll();
  drawScore();
}

async function drawScore() {
  const result = state.current;
  $('score-empty').hidden = !!result;
  const el = $('score');
  if (!result || !score.osmd || $('score-wrap').hidden) { ++score.drawing; return; }
  const two = staves() === '2' && result.files['hymnal.musicxml'];
  const file = two ? result.files['hymnal.musicxml'] : result.files.musicxml;
  const key = `${result.id} ${two ? 2 : 4}`;
  if (score.shown === key) { ++score.drawing; markSelection(); return; }
  const ticket = ++score.drawing;
  try {
    const text = await (await fetch(file)).text();
    if (ticket !== score.drawing) return;
    await score.osmd.load(text);
    if (ticket !== score.drawing) return;
    score.osmd.render();
  } catch (e) {
    showError(`The score could not be drawn: ${e.message}`);
    return;
  }
  score.shown = key;
  score.lead = Math.min(...result.notes.notes.map((n) => n[1]));
  afterRender();
  el.dataset.layout = two ? '2' : '4';
  el.dataset.result = result.id;
}

// After each rendering: the cursor at the start, the selection marked, the counts for tests.
function afterRender() {
  const cursor = score.osmd.cursor;
  cursor.show();
  cursor.reset();
  score.cursorStep = score.lead;
  $('score').dataset.cursor = String(score.cursorStep);
  $('score').dataset.lead = String(score.lead);
  $('score').dataset.notes = String(scoreNotes().length);
  markSelection();
}

// The notes drawn, read from OpenSheetMusicDisplay's graphical model: [voice 0-3, 16th of the
// audio, MIDI pitch], one per written note (a tied continuation is not a note of its own).
function scoreNotes() {
  const notes = [];
  const two = $('score').dataset.layout === '2';
  for (const measures of score.osmd.GraphicSheet.MeasureList) {
    measures.forEach((measure, staff) => {
      if (!measure) return;
      const start = measure.parentSourceMeasure.AbsoluteTimestamp.RealValue;
      for (const entry of measure.staffEntries) {
        for (const voiceEntry of entry.graphicalVoiceEntries) {
          for (const g of voiceEntry.notes) {
            const note = g.sourceNote;
            if (note.isRest() || (note.NoteTie && note.NoteTie.StartNote !== note)) continue;
            const voice = two ? voiceEntry.parentVoiceEntry.ParentVoice.VoiceId - 1 : staff;
            notes.push([voice, Math.round((start + entry.relInMeasureTimestamp.RealValue) * 16) + score.lead, note.halfTone + 12]);
          }
        }
      }
    });
  }
  return notes;
}
window.bachgenScoreNotes = () => (score.osmd && score.shown ? scoreNotes() : []);
window.bachgenMeasureBoxes = () => (score.osmd && score.shown ? measureBoxes() : []);

// Each measure's box on the page, in pixels from the score's top left: [{bar, x, y, width, height}].
function measureBoxes() {
  const unit = 10 * score.osmd.zoom;
  const boxes = [];
  score.osmd.GraphicSheet.MeasureList.forEach((measures, i) => {
    const staffs = measures.filter((m) => m && m.PositionAndShape);
    if (!staffs.length) return;
    const first = staffs[0].PositionAndShape, last = staffs[staffs.length - 1].PositionAndShape;
    const x = first.AbsolutePosition.x + first.BorderLeft, y = first.AbsolutePosition.y + first.BorderTop;
    boxes.push({bar: i + 1, x: x * unit, y: y * unit, width: (first.BorderRight - first.BorderLeft) * unit,
                height: (last.AbsolutePosition.y + last.BorderBottom - y) * unit});
  });
  return boxes;
}

function scoreBarAt(event) {
  const rect = $('score').getBoundingClientRect();
  const px = event.clientX - rect.left, py = event.clientY - rect.top;
  let best = null, distance = Infinity;
  for (const b of measureBoxes()) {  // the nearest measure (above or below a system counts too)
    const dx = px < b.x ? b.x - px : px > b.x + b.width ? px - b.x - b.width : 0;
    const dy = py < b.y ? b.y - py : py > b.y + b.height ? py - b.y - b.height : 0;
    const d = dx * 4 + dy;
    if (d < distance) { distance = d; best = b.bar; }
  }
  return best;
}

function markSelection() {
  const marks = $('score-marks');
  marks.replaceChildren();
  if (!state.selection || !score.osmd || !score.shown) return;
  const [a, b] = state.selection;
  for (const box of measureBoxes()) {
    if (box.bar < a || box.bar > b) continue;
    const mark = document.createElement('i');
    Object.assign(mark.style, {left: `${box.x}px`, top: `${box.y - 6}px`, width: `${box.width}px`, height: `${box.height + 12}px`});
    marks.appendChild(mark);
  }
  marks.dataset.bars = `${a}-${b}`;
}

// The cursor follows the audio: `step` in 16ths from the audio's start.
function moveCursor(step) {
  if (!score.osmd || !score.shown) return;
  const cursor = score.osmd.cursor;
  const at = () => Math.round(cursor.iterator.currentTimeStamp.RealValue * 16) + score.lead;
  if (step < score.cursorStep) cursor.reset();
  for (;;) {
    const next = cursor.iterator.clone();
    next.moveToNext();
    if (next.EndReached || Math.round(next.currentTimeStamp.RealValue * 16) + score.lead > step) break;
    cursor.next();
  }
  score.cursorStep = at();
  $('score').dataset.cursor = String(score.cursorStep);
}

function setupScore() {
  if (typeof opensheetmusicdisplay === 'undefined') {
    // The library is absent (npm ci in web/ was not run): the roll is the only view.
    document.querySelector('input[name=view][value=score]').disabled = true;
    document.querySelector('input[name=view][value=roll]').checked = true;
    $('views').title = 'The score needs OpenSheetMusicDisplay: scripts/setup.sh runs npm ci in web/';
    showView();
    return;
  }
  score.osmd = new opensheetmusicdisplay.OpenSheetMusicDisplay($('score'), {
    autoResize: false, backend: 'svg', drawTitle: false, drawComposer: false, drawCredits: false,
    drawPartAbbreviations: true, followCursor: true,
  });
  document.querySelectorAll('input[name=view]').forEach((r) => { r.onchange = showView; });
  document.querySelectorAll('input[name=staves]').forEach((r) => { r.onchange = drawScore; });
  $('print').onclick = () => window.print();
  const wrap = $('score-wrap');
  let anchor = null;
  wrap.addEventListener('mousedown', (e) => {
    if (!state.current || !score.shown) return;
    anchor = scoreBarAt(e);
    if (anchor === null) return;
    state.selection = [anchor, anchor];
    markSelection(); drawRoll(); updateSelection();
  });
  wrap.addEventListener('mousemove', (e) => {
    if (anchor === null) return;
    const bar = scoreBarAt(e);
    if (bar === null) return;
    state.selection = [Math.min(anchor, bar), Math.max(anchor, bar)];
    markSelection(); drawRoll(); updateSelection();
  });
  window.addEventListener('mouseup', () => { anchor = null; });
  showView();
}

// ---- the melody keyboard ------------------------------------------------------------------

function appendNote(item) {
  const text = $('notes').value.trimEnd();
  $('notes').value = (text ? text + ' ' : '') + item;
}

function setupKeyboard() {
  const keyboard = $('keyboard');
  let white = 0;
  for (let pitch = 60; pitch <= 81; ++pitch) {  // C4 .. A5: the soprano's range
    const name = NAMES[pitch % 12] + (Math.floor(pitch / 12) - 1);
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.pitch = name;
    button.title = name;
    if (name.length === 2 || (name.length === 3 && !'#b'.includes(name[1]))) {
      button.className = 'white';
      button.style.left = `${white * 26}px`;
      button.textContent = name.startsWith('C') ? name : '';
      ++white;
    } else {
      button.className = 'black';
      button.style.left = `${white * 26 - 9}px`;
    }
    button.onclick = () => appendNote(`${name}:${state.duration}`);
    keyboard.appendChild(button);
  }
  const durations = $('durations');
  for (const [value, label] of [[0.25, '¼'], [0.5, '½'], [1, '1'], [1.5, '1½'], [2, '2'], [4, '4']]) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = label;
    button.title = `${value} quarter${value === 1 ? '' : 's'}`;
    button.dataset.duration = String(value);
    button.onclick = () => {
      state.duration = value;
      durations.querySelectorAll('button').forEach((b) => b.classList.toggle('chosen', b === button));
    };
    if (value === 1) button.classList.add('chosen');
    durations.appendChild(button);
  }
  $('add-rest').onclick = () => appendNote(`r:${state.duration}`);
  $('add-bar').onclick = () => appendNote('|');
  $('undo-note').onclick = () => { $('notes').value = $('notes').value.trimEnd().split(/\s+/).slice(0, -1).join(' '); };
  $('clear-notes').onclick = () => { $('notes').value = ''; };
  $('melody-file').onchange = async () => {
    const file = $('melody-file').files[0];
    state.melodyFile = file ? {name: file.name, data: await readFileBase64(file)} : null;
    $('notes').disabled = !!state.melodyFile;
    $('clear-melody-file').hidden = !state.melodyFile;
  };
  $('clear-melody-file').onclick = () => {
    $('melody-file').value = '';
    state.melodyFile = null;
    $('notes').disabled = false;
    $('clear-melody-file').hidden = true;
  };
}

// ---- start --------------------------------------------------------------------------------

async function start() {
  document.querySelectorAll('input[name=mode]').forEach((r) => { r.onchange = showMode; });
  showMode();
  const key = $('key');
  for (const tonic of ['C', 'G', 'D', 'A', 'E', 'F', 'Bb', 'Eb']) key.add(new Option(`${tonic} major`, `${tonic} major`));
  for (const tonic of ['A', 'E', 'B', 'D', 'G', 'C', 'F']) key.add(new Option(`${tonic} minor`, `${tonic} minor`));
  VOICES.forEach((name, i) => {  // built node by node: the page's CSP forbids inline style attributes
    const item = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = COLORS[i];
    item.append(swatch, name);
    $('legend').appendChild(item);
  });
  $('temperature').addEventListener('input', () => { $('temperature').dataset.edited = 'true'; });
  $('new-seed').onclick = () => { $('seed').value = String(Math.floor(Math.random() * 1e9)); };
  $('generate').onclick = async () => {
    let request;
    try { request = await buildRequest(); } catch (e) { showError(e.message); return; }
    run({compose: 'Composing', continue: 'Continuing', harmonize: 'Harmonizing'}[mode()], ...request);
  };
  setupKeyboard();
  setupRoll();
  setupScore();
  try {
    const info = await api('/api/info');
    $('server-info').textContent = `${info.version} · compose: ${info.models.compose.shape} · harmonize: ${info.models.harmonize.shape}`;
    $('bars').max = String(info.limits.max_bars);
    document.body.dataset.ready = 'true';
  } catch (e) {
    showError(`The server did not answer: ${e.message}`);
  }
}

start();
