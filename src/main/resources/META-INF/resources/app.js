// The gateway's page (docs/web-page.md): submit (txt2img, or img2img from an uploaded image), follow each job's
// server-sent events (status, place in line, live previews), cancel, open a job's details and re-run it, page the
// gallery. Plain browser APIs only: nothing is downloaded, nothing is built.
'use strict';
const $ = (id) => document.getElementById(id);
const API = '/v1/generations';
const TERMINAL = ['completed', 'failed', 'cancelled'];
const keyInput = $('api-key');
keyInput.value = localStorage.getItem('sd-api-key') || '';

function headers(extra) {
  const h = Object.assign({}, extra);
  if (keyInput.value) h['Authorization'] = 'Bearer ' + keyInput.value;
  return h;
}

// "403 priority_not_allowed: priority: this caller may not ...": the status and code first, then what is wrong.
function describe(status, problem) {
  if (!problem) return status + ': the server gave no reason';
  const fields = (problem.errors || []).map((e) => e.field + ': ' + e.message).join('; ');
  return status + ' ' + (problem.code || problem.title || '') + ': ' + (fields || problem.detail || problem.title);
}

class ApiError extends Error {
  constructor(status, problem) {
    super(describe(status, problem));
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(opts.headers);
  const response = await fetch(path, opts);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function showError(el, text) {
  el.textContent = text || '';
  el.hidden = !text;
}

function element(tag, attributes, text) {
  const el = document.createElement(tag);
  Object.entries(attributes || {}).forEach(([k, v]) => { if (v != null) el.setAttribute(k, v); });
  if (text != null) el.textContent = text;
  return el;
}

// ---- API key and the priorities it may use ----------------------------------------------------------------------

async function loadPriorities() {
  const select = $('priority');
  const before = select.value;
  try {
    const answer = await api('/v1/priorities');
    select.replaceChildren(...answer.allowed.map((p) => new Option(p, p)));
    select.value = answer.allowed.includes(before) ? before : answer.default;
    select.dataset.loaded = answer.allowed.join(',');
  } catch (e) {
    select.dataset.loaded = 'error';
  }
}

let keyTimer = null;
keyInput.addEventListener('input', () => {
  localStorage.setItem('sd-api-key', keyInput.value);
  clearTimeout(keyTimer);
  keyTimer = setTimeout(() => { loadPriorities(); firstGalleryPage(); }, 300);
});

// ---- img2img: the init image is uploaded as soon as it is chosen -------------------------------------------------

let initKey = null;

function setInit(key, src, text) {
  initKey = key;
  $('img2img').dataset.key = key || '';
  $('init-preview').hidden = !src;
  if (src) $('init-preview').src = src;
  $('init-clear').hidden = !key;
  $('strength').disabled = !key;
  $('strength-label').classList.toggle('disabled', !key);
  const status = $('init-status');
  status.classList.remove('error');
  status.textContent = text || 'PNG or JPEG; resized to the width and height above when they differ.';
}

async function uploadInit(blob, name) {
  setInit(null, null, 'uploading ' + name + ' ...');
  try {
    const answer = await api('/v1/uploads', { method: 'POST', body: blob,
      headers: { 'Content-Type': blob.type || 'application/octet-stream' } });
    setInit(answer.key, URL.createObjectURL(blob), name + ' · ' + answer.width + '×' + answer.height + ' · ' + answer.key);
  } catch (e) {
    setInit(null, null, null);
    $('init-status').textContent = e.message;
    $('init-status').classList.add('error');
  }
}

$('init-file').addEventListener('change', () => {
  const file = $('init-file').files[0];
  if (file) uploadInit(file, file.name);
});
$('init-clear').addEventListener('click', () => { $('init-file').value = ''; setInit(null, null, null); });
$('strength').addEventListener('input', () => { $('strength-value').value = Number($('strength').value).toFixed(2); });

// ---- Submitting ---------------------------------------------------------------------------------------------------

function formRequest() {
  const body = { prompt: $('prompt').value };
  if ($('negative_prompt').value) body.negative_prompt = $('negative_prompt').value;
  for (const f of ['width', 'height', 'steps', 'num_images', 'seed']) if ($(f).value !== '') body[f] = Number($(f).value);
  body.guidance_scale = Number($('guidance_scale').value);
  if ($('scheduler').value) body.scheduler = $('scheduler').value;
  body.priority = $('priority').value;
  if (initKey) {
    body.init_image = initKey;
    body.strength = Number($('strength').value);
  }
  return body;
}

// Submits and adds the job's card; a refusal is shown in errorEl. Resolves to the new id, or null.
async function submit(body, errorEl) {
  showError(errorEl, '');
  try {
    const answer = await api(API, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body) });
    addJob(answer.id, body);
    return answer.id;
  } catch (e) {
    showError(errorEl, e.message);
    return null;
  }
}

$('generate').addEventListener('submit', (event) => {
  event.preventDefault();
  submit(formRequest(), $('form-error'));
});

// ---- Job cards ----------------------------------------------------------------------------------------------------

const cards = new Map();

function remember(id) {
  const ids = JSON.parse(localStorage.getItem('sd-jobs') || '[]').filter((x) => x !== id);
  ids.push(id);
  localStorage.setItem('sd-jobs', JSON.stringify(ids.slice(-12)));
}

function addJob(id, request) {
  const el = $('job-template').content.firstElementChild.cloneNode(true);
  el.dataset.id = id;
  el.dataset.previews = '0';
  el.dataset.previewSteps = '';
  el.querySelector('.prompt').textContent = request.prompt || id;
  el.querySelector('.prompt').title = id;
  el.querySelector('.priority').textContent = request.priority || 'normal';
  el.querySelector('.priority').dataset.priority = request.priority || 'normal';
  el.querySelector('.cancel').addEventListener('click', () => cancel(id));
  el.querySelector('.details').addEventListener('click', () => openDetails(id));
  $('jobs').prepend(el);
  $('no-jobs').hidden = true;
  const card = { id, el, job: null };
  cards.set(id, card);
  remember(id);
  render(card, { id, status: 'queued' });
  follow(card);
  return card;
}

// "in 12 s", "in 3 min"; an estimate already past reads "any moment".
function fromNow(iso) {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'any moment';
  return s < 90 ? 'in ' + s + ' s' : 'in ' + Math.round(s / 60) + ' min';
}

// While a job waits: the jobs ahead of it, how many its worker runs at once, when it should start and end.
function showQueue(el) {
  if (el.dataset.position === undefined) { el.hidden = true; return; }
  const n = Number(el.dataset.position);
  const width = Number(el.dataset.capacity || 1);
  let text = n === 0 ? 'next in line' : n + (n === 1 ? ' job' : ' jobs') + ' ahead';
  if (width > 1) text += ' · ' + width + ' run at once';
  if (el.dataset.startsAt) text += ' · starts ' + fromNow(el.dataset.startsAt) + ' · done ' + fromNow(el.dataset.endsAt);
  el.textContent = text;
  el.hidden = false;
}
setInterval(() => document.querySelectorAll('.job .queue').forEach(showQueue), 1000);

function finalImages(container, job) {
  container.replaceChildren(...(job.images || []).map((img) => {
    const el = element('img', { src: img.url, alt: (job.parameters && job.parameters.prompt) || job.id,
      title: 'image ' + img.index + ' · seed ' + img.seed, class: 'generated' });
    el.dataset.seed = img.seed;
    return el;
  }));
}

function render(card, job) {
  card.job = job;
  const el = card.el;
  el.dataset.status = job.status;
  el.querySelector('.status').textContent = job.status;
  const queue = el.querySelector('.queue');
  if (job.queue_position != null) {
    queue.dataset.position = job.queue_position;
    queue.dataset.capacity = job.worker_capacity || 1;
    queue.dataset.startsAt = job.eta ? job.eta.starts_at : '';
    queue.dataset.endsAt = job.eta ? job.eta.ends_at : '';
  } else {
    delete queue.dataset.position;
  }
  showQueue(queue);
  if (job.progress) {
    el.querySelector('progress').max = job.progress.total_steps || 1;
    el.querySelector('progress').value = job.progress.step;
    el.querySelector('.step').textContent = 'step ' + job.progress.step + ' / ' + job.progress.total_steps;
  }
  if (job.status === 'completed') {
    el.querySelector('progress').value = el.querySelector('progress').max;
    finalImages(el.querySelector('.pictures'), job);
  }
  const error = el.querySelector('.error');
  showError(error, job.error ? job.error.code + ': ' + job.error.message : '');
  el.querySelector('.cancel').hidden = TERMINAL.includes(job.status);
}

const FILMSTRIP = 12;

// A preview replaces the image's previous one until the final images arrive; the first image's previews also
// line up in the card's filmstrip (the latest dozen), so how the image formed stays visible afterwards.
function showPreview(card, p) {
  const el = card.el;
  el.dataset.previews = Number(el.dataset.previews) + 1;
  el.dataset.previewSteps = (el.dataset.previewSteps ? el.dataset.previewSteps + ',' : '') + p.step;
  if (p.image_index === 0) {
    const strip = el.querySelector('.filmstrip');
    const frame = element('img', { src: p.data_url, alt: 'step ' + p.step, title: 'step ' + p.step + ' of ' + p.total_steps });
    frame.dataset.step = p.step;
    strip.append(frame);
    while (strip.querySelectorAll('img').length > FILMSTRIP) strip.querySelector('img').remove();
    strip.hidden = false;
  }
  if (el.dataset.status === 'completed') return;
  const pictures = el.querySelector('.pictures');
  let img = pictures.querySelector('img.preview[data-index="' + p.image_index + '"]');
  if (!img) {
    img = element('img', { class: 'preview', alt: 'preview of image ' + p.image_index });
    img.dataset.index = p.image_index;
    pictures.append(img);
  }
  img.src = p.data_url;
  img.dataset.step = p.step;
  img.title = 'step ' + p.step + ' of ' + p.total_steps + ' (' + p.decoder + ' preview)';
}

// EventSource cannot send an Authorization header, so the stream is read with fetch.
async function follow(card) {
  let response;
  try {
    response = await fetch(API + '/' + encodeURIComponent(card.id) + '/events',
      { headers: headers({ Accept: 'text/event-stream' }) });
  } catch (e) {
    showError(card.el.querySelector('.error'), 'the event stream could not be opened: ' + e.message);
    return;
  }
  if (!response.ok) {
    showError(card.el.querySelector('.error'), describe(response.status, await response.json().catch(() => null)));
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const name = (block.find((l) => l.startsWith('event:')) || 'event:').slice(6).trim();
      const data = block.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
      if (!data) continue;
      if (name === 'preview') showPreview(card, JSON.parse(data));
      else render(card, JSON.parse(data));
    }
  }
  if (!card.job || !TERMINAL.includes(card.job.status)) {
    // The stream ended early (a gateway restart): show where the job is now.
    api(API + '/' + encodeURIComponent(card.id)).then((job) => render(card, job)).catch(() => {});
  }
  if (gallery.page === 0) loadGallery();
}

async function cancel(id) {
  const card = cards.get(id);
  try {
    render(card, await api(API + '/' + encodeURIComponent(id), { method: 'DELETE' }));
  } catch (e) {
    showError(card.el.querySelector('.error'), e.message);
  }
}

// Cards of this browser's recent jobs come back after a reload.
async function restoreJobs() {
  const ids = JSON.parse(localStorage.getItem('sd-jobs') || '[]');
  for (const id of ids) {
    try {
      const job = await api(API + '/' + encodeURIComponent(id));
      addJob(id, job.parameters || {});
    } catch (e) {
      if (e.status === 404) localStorage.setItem('sd-jobs', JSON.stringify(ids.filter((x) => x !== id)));
    }
  }
}

// ---- Details: parameters, seeds, timings, the PNG's own text; re-run ------------------------------------------

let shown = null;

function table(el, rows, head) {
  el.replaceChildren();
  if (head) el.append(row(head, 'th'));
  rows.forEach((r) => el.append(row(r, 'td')));
  function row(cells, tag) {
    const tr = element('tr');
    cells.forEach((c) => tr.append(element(tag, {}, c == null ? '' : String(c))));
    return tr;
  }
}

function ms(timing, us, ms) {
  if (timing[us] != null) return (timing[us] / 1000).toFixed(1);
  return timing[ms] != null ? String(timing[ms]) : '';
}

async function openDetails(id) {
  let job;
  try {
    job = await api(API + '/' + encodeURIComponent(id));
  } catch (e) {
    const card = cards.get(id);
    if (card) showError(card.el.querySelector('.error'), e.message);
    return;
  }
  shown = job;
  const dialog = $('details');
  dialog.dataset.id = job.id;
  const p = job.parameters || {};
  $('details-title').textContent = p.prompt || job.id;
  $('details-status').textContent = job.status + ' · ' + job.id + ' · created ' + new Date(job.created_at).toLocaleString()
    + (job.warnings ? ' · ' + job.warnings.join('; ') : '') + (job.error ? ' · ' + job.error.message : '');
  showError($('details-error'), '');
  const images = $('details-images');
  images.replaceChildren(...(job.images || []).map((img) => {
    const figure = element('figure');
    const picture = element('img', { src: img.url, alt: 'image ' + img.index, class: 'generated' });
    picture.addEventListener('click', () => loadPngText(job, img.index));
    figure.append(picture, element('figcaption', {}, 'image ' + img.index + ' · seed ' + img.seed));
    return figure;
  }));
  table($('details-parameters'), Object.entries(p).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v]));
  table($('details-timings'), (job.timings || []).map((t) => [t.stage, t.worker,
    t.from_step != null ? t.from_step + '–' + t.to_step : '', ms(t, 'queued_us'), ms(t, 'duration_us', 'duration_ms'),
    ms(t, 'onnx_us', 'onnx_ms'), t.largest_batch]),
  ['stage', 'worker', 'steps', 'queued ms', 'ms', 'onnx ms', 'batch']);
  const completed = job.status === 'completed' && job.images && job.images.length > 0;
  $('details-png').hidden = !completed;
  $('use-as-init').disabled = !completed;
  $('rerun-same').disabled = !job.parameters;
  $('rerun-new').disabled = !job.parameters;
  $('png-parameters').textContent = '';
  $('png-latent-pipeline').textContent = '';
  if (!dialog.open) dialog.showModal();
  if (completed) loadPngText(job, job.images[0].index);
}

async function pngBytes(job, index) {
  const response = await fetch(API + '/' + encodeURIComponent(job.id) + '/images/' + index, { headers: headers() });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  return response.blob();
}

async function loadPngText(job, index) {
  $('png-image').textContent = 'image ' + index;
  $('details-png').dataset.image = '';
  try {
    const text = await pngText(await (await pngBytes(job, index)).arrayBuffer());
    $('png-parameters').textContent = text.parameters || '(none)';
    const ours = text['latent-pipeline'];
    $('png-latent-pipeline').textContent = ours ? JSON.stringify(JSON.parse(ours), null, 2) : '(none)';
    $('details-png').dataset.image = index;
  } catch (e) {
    $('png-parameters').textContent = 'could not read the PNG: ' + e.message;
  }
}

// The job's normalized parameters again: with its seed (the same images) or without one (a new random seed).
async function rerun(sameSeed) {
  const body = Object.assign({}, shown.parameters);
  delete body.id;
  delete body.callback_url; // a re-run from the page is followed here, not announced to someone's webhook
  if (!sameSeed) delete body.seed;
  const id = await submit(body, $('details-error'));
  if (id) $('details').close();
}
$('rerun-same').addEventListener('click', () => rerun(true));
$('rerun-new').addEventListener('click', () => rerun(false));
$('use-as-init').addEventListener('click', async () => {
  const index = Number($('details-png').dataset.image || 0);
  try {
    const png = await pngBytes(shown, index);
    $('width').value = shown.parameters.width;
    $('height').value = shown.parameters.height;
    $('details').close();
    await uploadInit(png, shown.id + ' image ' + index);
  } catch (e) {
    showError($('details-error'), e.message);
  }
});

// ---- Gallery: completed jobs, newest first, a page at a time through the list's cursors ---------------------

const gallery = { cursors: [null], page: 0, next: null };

async function loadGallery() {
  const size = $('gallery-size').value;
  const cursor = gallery.cursors[gallery.page];
  let page;
  try {
    page = await api(API + '?status=completed&limit=' + size + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
  } catch (e) {
    $('gallery').replaceChildren();
    $('gallery-empty').hidden = false;
    $('gallery-empty').textContent = 'The gallery could not be loaded: ' + e.message;
    return;
  }
  const tiles = page.items.map((job) => {
    const tile = element('button', { type: 'button', class: 'tile', title: (job.parameters || {}).prompt });
    tile.dataset.id = job.id;
    const first = (job.images || [])[0];
    if (first) tile.append(element('img', { src: first.url, alt: (job.parameters || {}).prompt || job.id }));
    if ((job.images || []).length > 1) tile.append(element('span', { class: 'count' }, '×' + job.images.length));
    tile.append(element('span', { class: 'caption' }, (job.parameters || {}).prompt || job.id));
    tile.addEventListener('click', () => openDetails(job.id));
    return tile;
  });
  $('gallery').replaceChildren(...tiles);
  $('gallery').dataset.page = gallery.page;
  $('gallery-empty').hidden = tiles.length > 0 || gallery.page > 0;
  $('gallery-empty').textContent = 'No completed images yet.';
  gallery.next = page.next_cursor;
  $('older').disabled = !page.next_cursor;
  $('newer').disabled = gallery.page === 0;
  $('gallery-page').textContent = 'page ' + (gallery.page + 1);
}

function firstGalleryPage() {
  gallery.cursors = [null];
  gallery.page = 0;
  loadGallery();
}

$('older').addEventListener('click', () => {
  gallery.cursors[gallery.page + 1] = gallery.next;
  gallery.page++;
  loadGallery();
});
$('newer').addEventListener('click', () => {
  gallery.page = Math.max(0, gallery.page - 1);
  loadGallery();
});
$('gallery-size').addEventListener('change', firstGalleryPage);

loadPriorities();
firstGalleryPage();
restoreJobs();
