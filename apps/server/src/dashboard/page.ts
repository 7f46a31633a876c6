/**
 * The dashboard served at `GET /`: a playground that streams a completion
 * from `/v1/completions` and a live view of the engine polled from
 * `/dashboard/state` once a second. One self-contained page, no build step;
 * `data-testid` attributes are what the browser test drives.
 */
export function dashboardPage(modelId: string): string {
  const title = `plexus-serve — ${escapeHtml(modelId)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2433; background: #f6f7f9; }
  header { background: #1d2433; color: #fff; padding: 12px 20px; }
  main { display: grid; grid-template-columns: 3fr 2fr; gap: 16px; padding: 16px 20px; }
  section { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 14px; }
  h2 { font-size: 15px; margin: 0 0 10px; }
  textarea { width: 100%; box-sizing: border-box; min-height: 90px; font: inherit; }
  .params { display: flex; gap: 10px; flex-wrap: wrap; margin: 8px 0; }
  .params label { display: flex; flex-direction: column; font-size: 12px; }
  .params input { width: 90px; }
  pre { white-space: pre-wrap; background: #f0f2f5; padding: 10px; border-radius: 6px; min-height: 60px; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 0; }
  dt { color: #5b6475; } dd { margin: 0; font-variant-numeric: tabular-nums; }
  .bar { height: 10px; background: #e3e6eb; border-radius: 5px; overflow: hidden; }
  .bar > div { height: 100%; background: #3b82f6; width: 0; }
  .experts { display: flex; gap: 2px; align-items: flex-end; height: 60px; margin-top: 6px; }
  .experts div { flex: 1; background: #10b981; min-height: 1px; }
  .error { color: #b91c1c; }
</style>
</head>
<body>
<header><strong>plexus-serve</strong> · model <code data-testid="model">${escapeHtml(modelId)}</code></header>
<main>
<section>
  <h2>Playground</h2>
  <textarea data-testid="prompt" placeholder="Write a prompt…">It is a truth universally acknowledged</textarea>
  <div class="params">
    <label>max_tokens <input data-testid="max-tokens" type="number" value="64" min="1"></label>
    <label>temperature <input data-testid="temperature" type="number" value="0.8" min="0" max="2" step="0.1"></label>
    <label>top_p <input data-testid="top-p" type="number" value="0.95" min="0.01" max="1" step="0.05"></label>
    <label>seed <input data-testid="seed" type="number" placeholder="random"></label>
  </div>
  <button data-testid="generate">Generate</button>
  <button data-testid="stop" disabled>Stop</button>
  <pre data-testid="output"></pre>
  <div data-testid="finish"></div>
</section>
<section>
  <h2>Engine</h2>
  <dl>
    <dt>running</dt><dd data-testid="running">–</dd>
    <dt>waiting</dt><dd data-testid="waiting">–</dd>
    <dt>KV blocks</dt><dd data-testid="kv">–</dd>
    <dt>prefix-hit rate</dt><dd data-testid="prefix">–</dd>
    <dt>tokens/s</dt><dd data-testid="tps">–</dd>
    <dt>tokens generated</dt><dd data-testid="generated">–</dd>
    <dt>draft acceptance</dt><dd data-testid="acceptance">–</dd>
  </dl>
  <div class="bar" title="KV-cache usage"><div data-testid="kv-bar"></div></div>
  <div data-testid="experts-panel" hidden>
    <h2 style="margin-top:12px">Expert load (last step, layer 0)</h2>
    <div class="experts" data-testid="experts"></div>
  </div>
</section>
</main>
<script>
const $ = (id) => document.querySelector('[data-testid="' + id + '"]');
let controller = null;
async function generate() {
  const out = $('output');
  out.textContent = '';
  $('finish').textContent = '';
  $('finish').className = '';
  controller = new AbortController();
  $('generate').disabled = true;
  $('stop').disabled = false;
  const body = {
    prompt: $('prompt').value,
    max_tokens: Number($('max-tokens').value),
    temperature: Number($('temperature').value),
    top_p: Number($('top-p').value),
    stream: true,
  };
  if ($('seed').value !== '') body.seed = Number($('seed').value);
  try {
    const res = await fetch('/v1/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!res.ok) {
      const err = await res.json();
      throw new Error(err.error ? err.error.message : res.statusText);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\\n\\n')) !== -1) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') continue;
        const chunk = JSON.parse(data);
        for (const c of chunk.choices) {
          out.textContent += c.text;
          if (c.finish_reason) $('finish').textContent = 'finish_reason: ' + c.finish_reason;
        }
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') {
      $('finish').textContent = String(e.message || e);
      $('finish').className = 'error';
    } else $('finish').textContent = 'stopped';
  } finally {
    $('generate').disabled = false;
    $('stop').disabled = true;
  }
}
$('generate').addEventListener('click', generate);
$('stop').addEventListener('click', () => controller && controller.abort());
async function poll() {
  try {
    const s = await (await fetch('/dashboard/state')).json();
    $('running').textContent = s.running;
    $('waiting').textContent = s.waiting;
    $('kv').textContent = s.usedBlocks + ' / ' + s.numBlocks;
    $('kv-bar').style.width = (100 * s.usedBlocks / s.numBlocks).toFixed(1) + '%';
    $('prefix').textContent = (100 * s.prefixHitRate).toFixed(1) + '%';
    $('tps').textContent = s.tokensPerSecond.toFixed(1);
    $('generated').textContent = s.generatedTokens;
    $('acceptance').textContent = s.draftAcceptance === null ? 'off' : (100 * s.draftAcceptance).toFixed(1) + '%';
    if (s.expertLoad && s.expertLoad.length > 0) {
      $('experts-panel').hidden = false;
      const load = s.expertLoad[0];
      const max = Math.max(1, ...load);
      $('experts').innerHTML = load.map((n, e) => '<div title="expert ' + e + ': ' + n + '" style="height:' + (100 * n / max) + '%"></div>').join('');
    }
  } catch {}
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
