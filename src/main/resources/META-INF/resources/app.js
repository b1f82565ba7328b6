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

function show(job) {
  $('current').hidden = false;
  $('job-id').textContent = job.id;
  $('job-status').textContent = job.status;
  $('job-status').dataset.status = job.status;
  if (job.progress) { $('progress').max = job.progress.total_steps; $('progress').value = job.progress.step; }
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
