// The gateway's page: submit a request, follow its server-sent events, show the images and a gallery.
'use strict';
const $ = (id) => document.getElementById(id);
const keyInput = $('api-key');
keyInput.value = localStorage.getItem('sd-api-key') || '';
keyInput.addEventListener('change', () => { localStorage.setItem('sd-api-key', keyInput.value); loadGallery(); });

function headers(extra) {
  const h = Object.assign({}, extra);
  if (keyInput.value) h['Authorization'] = 'Bearer ' + keyInput.value;
  return h;
}

function problemText(p) {
  if (!p) return 'request failed';
  const fields = (p.errors || []).map((e) => e.field + ': ' + e.message).join('; ');
  return fields || p.detail || p.title;
}

function images(container, job) {
  container.replaceChildren(...(job.images || []).map((img) => {
    const el = document.createElement('img');
    el.src = img.url;
    el.alt = (job.parameters && job.parameters.prompt) || job.id;
    el.title = 'seed ' + img.seed;
    el.className = 'generated';
    return el;
  }));
}

let current = null;

// "in 12 s", "in 3 min"; an estimate already past reads "any moment".
function fromNow(iso) {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'any moment';
  return s < 90 ? 'in ' + s + ' s' : 'in ' + Math.round(s / 60) + ' min';
}

// While the job waits: how many jobs are ahead and, when the gateway can estimate it, when it starts and ends.
function showQueue() {
  const el = $('queue');
  if (el.dataset.position === undefined) { el.hidden = true; return; }
  const n = Number(el.dataset.position);
  let text = n === 0 ? 'next in line' : n + (n === 1 ? ' job' : ' jobs') + ' ahead';
  if (el.dataset.startsAt) text += ' · starts ' + fromNow(el.dataset.startsAt) + ' · done ' + fromNow(el.dataset.endsAt);
  el.textContent = text;
  el.hidden = false;
}
setInterval(showQueue, 1000);

function show(job) {
  $('current').hidden = false;
  $('job-id').textContent = job.id;
  $('job-status').textContent = job.status;
  $('job-status').dataset.status = job.status;
  if (job.progress) { $('progress').max = job.progress.total_steps; $('progress').value = job.progress.step; }
  const queue = $('queue');
  if (job.queue_position != null) {
    queue.dataset.position = job.queue_position;
    queue.dataset.startsAt = job.eta ? job.eta.starts_at : '';
    queue.dataset.endsAt = job.eta ? job.eta.ends_at : '';
  } else {
    delete queue.dataset.position;
  }
  showQueue();
  $('error').textContent = job.error ? job.error.message : '';
  images($('result'), job);
}

// EventSource cannot send an Authorization header, so the stream is read with fetch.
async function follow(id) {
  const response = await fetch('/v1/generations/' + encodeURIComponent(id) + '/events', { headers: headers({ Accept: 'text/event-stream' }) });
  if (!response.ok) { $('error').textContent = problemText(await response.json().catch(() => null)); return; }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
      if (data && id === current) show(JSON.parse(data));
    }
  }
  loadGallery();
}

$('generate').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { prompt: $('prompt').value };
  if ($('negative_prompt').value) body.negative_prompt = $('negative_prompt').value;
  for (const f of ['width', 'height', 'steps', 'num_images', 'seed']) if ($(f).value !== '') body[f] = Number($(f).value);
  body.guidance_scale = Number($('guidance_scale').value);
  if ($('scheduler').value) body.scheduler = $('scheduler').value;
  const response = await fetch('/v1/generations', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body) });
  const answer = await response.json().catch(() => null);
  if (response.status !== 202) {
    $('current').hidden = false;
    $('job-status').textContent = 'rejected';
    $('job-status').dataset.status = 'rejected';
    $('error').textContent = problemText(answer);
    return;
  }
  current = answer.id;
  $('result').replaceChildren();
  show({ id: answer.id, status: answer.status });
  follow(answer.id);
});

$('cancel').addEventListener('click', () => {
  if (current) fetch('/v1/generations/' + encodeURIComponent(current), { method: 'DELETE', headers: headers() });
});

async function loadGallery() {
  const response = await fetch('/v1/generations?status=completed&limit=12', { headers: headers() });
  if (!response.ok) return;
  const page = await response.json();
  const gallery = $('gallery');
  gallery.replaceChildren();
  for (const job of page.items) {
    const holder = document.createElement('span');
    images(holder, job);
    gallery.append(...holder.childNodes);
  }
}
loadGallery();
