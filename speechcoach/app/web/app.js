// speechcoach practice page: pick a script, record (or upload), see the report, keep a history.
// Everything runs locally: audio is captured with the Web Audio API, encoded to 16-bit WAV here
// and sent to this machine's speechcoach server. No outside scripts, fonts or services.
"use strict";

const I18N = {
  zh: {
    title: "讲解练习台",
    trainee: "姓名",
    trainee_placeholder: "请输入姓名",
    scenario: "练习内容",
    free_talk: "自由讲解（无讲稿）",
    own_script: "自己粘贴的讲稿",
    free_talk_hint: "自由讲解：没有讲稿，字数将根据声音估计，结果仅供参考。",
    free_talk_hint_asr: "自由讲解：没有讲稿，字数将由离线语音识别计数，并逐段与声音核对，结果仅供参考。",
    folder_prefix: "自选讲稿：",
    target_note: "目标语速 {target} 字/分钟（适中区间 {lo}–{hi}）",
    record: "开始录音",
    stop: "停止",
    upload: "或上传录音文件：",
    analyze_file: "分析文件",
    result: "本次结果",
    history: "练习记录",
    col_no: "序号",
    col_date: "时间",
    col_scenario: "练习内容",
    col_cpm: "语速（字/分钟）",
    col_verdict: "判断",
    col_score: "得分",
    no_attempts: "还没有练习记录。",
    delete_all: "删除我的全部录音",
    delete: "删除",
    view: "查看",
    footer: "录音和报告只保存在这台电脑上。",
    need_name: "请先输入姓名。",
    mic_not_found: "没有找到麦克风。请插上麦克风或耳机麦克风，在电脑的声音设置里选中它，再点“开始录音”。也可以改为上传录音文件。",
    mic_not_allowed: "浏览器没有允许本页使用麦克风。请点地址栏左边的锁形（或摄像头）图标，把“麦克风”改为“允许”，刷新本页后再录音。也可以改为上传录音文件。",
    mic_busy: "麦克风正被别的程序占用（例如视频会议或录音软件）。请关掉那个程序，再点“开始录音”。也可以改为上传录音文件。",
    mic_insecure: "用这个网址打开时，浏览器不允许录音。请在运行 speechcoach 的电脑上用 http://localhost:{port}/ 打开本页（或用 https:// 网址）。也可以改为上传录音文件。",
    mic_other: "无法使用麦克风（{error}）。请检查麦克风后再试。也可以改为上传录音文件。",
    no_mic_api: "这个浏览器不能录音，请上传录音文件。",
    formats: "可以上传的格式：{formats}。",
    formats_no_ffmpeg: "可以上传的格式：{formats}（{more} 等格式需要在运行 speechcoach 的电脑上安装 ffmpeg）。",
    get_ready: "准备……",
    recording: "正在录音，照着高亮的字读：高亮的速度就是目标语速。",
    analysing: "正在分析……",
    analysing_progress: "正在分析……{stage}（已处理 {done} / {total} 秒录音）",
    stage_load: "读取录音",
    stage_sound: "检测讲话与音节",
    stage_model: "准备语音识别",
    stage_recognise: "语音识别中",
    stage_findings: "生成报告",
    done: "分析完成。",
    too_quiet: "声音太小：请靠近麦克风或大声一点",
    clipping: "声音过大（削波）：请离麦克风远一点",
    level_ok: "音量正常",
    too_short: "录音太短，请至少讲几秒钟。",
    stopped_early: "分析完成。注意：录音在讲稿读完之前就停止了，语速是按整篇讲稿的字数计算的，所以会偏快。",
    choose_file: "选择文件",
    no_file: "未选择文件",
    max_reached: "已达到最长录音时间，自动停止。",
    pick_file: "请先选择一个录音文件。",
    file_too_large: "文件太大（上限 {mb} MB）。",
    summary: "语速 {cpm} 字/分钟 · {verdict} · 得分 {score}",
    verdict_slow: "偏慢",
    verdict_on_target: "适中",
    verdict_fast: "偏快",
    confirm_delete: "删除这次练习（包括录音）？",
    confirm_delete_all: "删除 {name} 的全部 {n} 次练习和录音？此操作不能撤销。",
    deleted_all: "已删除 {n} 次练习。",
    chart_title: "历次语速与目标范围",
    chart_band: "适中区间",
    chart_target: "目标",
    chart_scripted: "按讲稿计数",
    chart_estimated: "无讲稿，字数为估计",
    chart_recognised: "无讲稿，字数由语音识别计数",
    chart_in_band: "在适中区间内",
    chart_out_band: "在适中区间外",
    cpm_unit: "字/分钟",
    error: "出错了：{error}",
  },
  en: {
    title: "Explanation practice desk",
    trainee: "Name",
    trainee_placeholder: "Your name",
    scenario: "Practice script",
    free_talk: "Free talk (no script)",
    own_script: "Own script (pasted)",
    free_talk_hint: "Free talk: without a script the character count is estimated from the sound; treat the rate as a rough guide.",
    free_talk_hint_asr: "Free talk: without a script the characters are counted by the offline speech recogniser, checked stretch by stretch against the sound; treat the rate as a guide.",
    folder_prefix: "Own script: ",
    target_note: "Target {target} chars/min (moderate band {lo}–{hi})",
    record: "Record",
    stop: "Stop",
    upload: "Or upload a recording:",
    analyze_file: "Analyse file",
    result: "This attempt",
    history: "History",
    col_no: "#",
    col_date: "Date",
    col_scenario: "Script",
    col_cpm: "Rate (chars/min)",
    col_verdict: "Verdict",
    col_score: "Score",
    no_attempts: "No attempts yet.",
    delete_all: "Delete all my recordings",
    delete: "Delete",
    view: "View",
    footer: "Recordings and reports stay on this computer.",
    need_name: "Please enter your name first.",
    mic_not_found: "No microphone found. Plug in a microphone or headset, select it in the computer's sound settings, then press Record again. Or upload a recording instead.",
    mic_not_allowed: "The browser has not allowed this page to use the microphone. Click the lock (or camera) icon at the left of the address bar, set Microphone to Allow, reload the page and record again. Or upload a recording instead.",
    mic_busy: "Another program is using the microphone (a video call or recording app, for example). Close it, then press Record again. Or upload a recording instead.",
    mic_insecure: "The browser does not allow recording on a page opened at this address. Open the page as http://localhost:{port}/ on the computer running speechcoach (or at an https:// address). Or upload a recording instead.",
    mic_other: "Cannot use the microphone ({error}). Check the microphone and try again. Or upload a recording instead.",
    no_mic_api: "This browser cannot record; please upload a recording instead.",
    formats: "Accepted formats: {formats}.",
    formats_no_ffmpeg: "Accepted formats: {formats} ({more} and similar need ffmpeg installed on the computer running speechcoach).",
    get_ready: "Get ready…",
    recording: "Recording. Read along with the highlight: it moves at the target rate.",
    analysing: "Analysing…",
    analysing_progress: "Analysing… {stage} ({done} of {total} s of audio)",
    stage_load: "reading the recording",
    stage_sound: "listening for speech and syllables",
    stage_model: "preparing the speech recogniser",
    stage_recognise: "recognising speech",
    stage_findings: "writing the report",
    done: "Done.",
    too_quiet: "Too quiet: move closer to the microphone or speak up",
    clipping: "Too loud (clipping): move back from the microphone",
    level_ok: "Level OK",
    too_short: "The recording is too short; speak for a few seconds at least.",
    stopped_early: "Done. Note: you stopped before the end of the script; the rate counts the whole script, so it comes out too fast.",
    choose_file: "Choose file",
    no_file: "No file chosen",
    max_reached: "Longest recording reached; stopped.",
    pick_file: "Choose a recording first.",
    file_too_large: "The file is too large (limit {mb} MB).",
    summary: "{cpm} chars/min · {verdict} · score {score}",
    verdict_slow: "too slow",
    verdict_on_target: "on target",
    verdict_fast: "too fast",
    confirm_delete: "Delete this attempt, recording included?",
    confirm_delete_all: "Delete all {n} attempts and recordings of {name}? This cannot be undone.",
    deleted_all: "Deleted {n} attempts.",
    chart_title: "Rate over attempts against the target band",
    chart_band: "moderate band",
    chart_target: "target",
    chart_scripted: "counted from the script",
    chart_estimated: "no script: count estimated",
    chart_recognised: "no script: counted by the speech recogniser",
    chart_in_band: "inside the band",
    chart_out_band: "outside the band",
    cpm_unit: "chars/min",
    error: "Error: {error}",
  },
};

const state = {
  lang: "zh",
  config: { target_cpm: 120, band_cpm: [100, 140], max_upload_mb: 50, lang: "zh" },
  scenarios: [],
  attempts: [],
  historyName: "",
  rec: null,
  lastAttempt: null,
};

const $ = (id) => document.getElementById(id);

/** A page string in the current language, with {placeholders} filled in. */
function t(key, params) {
  const table = I18N[state.lang] || I18N.zh;
  let text = key in table ? table[key] : I18N.zh[key] || key;
  for (const [k, v] of Object.entries(params || {})) text = text.split(`{${k}}`).join(String(v));
  return text;
}

function setState(name) {
  document.body.dataset.state = name;
}

/** Show a status line: a dictionary key (re-translated when the language changes) and its params;
 * `hint` (a function returning text in the current language) adds a second line saying what to do. */
function setStatus(key, params, isError, hint) {
  state.status = key ? { key, params: params || {}, isError: Boolean(isError), hint: hint || null } : null;
  renderStatus();
}

function renderStatus() {
  const el = $("status");
  const st = state.status;
  el.textContent = st ? t(st.key, st.params) : "";
  const hint = st && st.hint ? st.hint() : "";
  if (hint) {
    const line = document.createElement("span");
    line.className = "hint";
    line.textContent = hint;
    el.append(document.createElement("br"), line);
  }
  el.classList.toggle("error", Boolean(st && st.isError));
}

/** Apply the current language to every static string of the page. */
function applyLanguage() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = `speechcoach · ${t("title")}`;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const b of document.querySelectorAll(".lang button")) b.classList.toggle("active", b.dataset.lang === state.lang);
  const [lo, hi] = state.config.band_cpm;
  $("target-note").textContent = t("target_note", { target: fmtLimit(state.config.target_cpm), lo: fmtLimit(lo), hi: fmtLimit(hi) });
  fillScenarios();
  renderHistory();
  renderStatus();
  renderFileName();
  if (state.lastAttempt) showSummary(state.lastAttempt);
}

function fmt0(x) {
  return Math.round(Number(x)).toString();
}

/** A limit from the settings (band edge, target) as the trainer gave it, never rounded: 139.5 stays 139.5. */
function fmtLimit(x) {
  return Number(x).toString();
}

/** Call the API; an error answer becomes an Error with the server's message in the page's language. */
async function api(method, url, body) {
  const withLang = `${url}${url.includes("?") ? "&" : "?"}lang=${encodeURIComponent(state.lang)}`;
  const res = await fetch(withLang, { method, body });
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const message = (data && (data.message || data.error)) || `HTTP ${res.status}`;
    const err = new Error(message);
    err.code = (data && data.code) || null;
    throw err;
  }
  return data;
}

// -- scenarios and the script --------------------------------------------------------------

function scenarioTitle(s) {
  const title = (s.title && (s.title[state.lang] || s.title.zh)) || s.id;
  return s.source === "folder" ? t("folder_prefix") + title : title;
}

function fillScenarios() {
  const sel = $("scenario");
  // "" is a choice (free talk): keep what is selected, else what was stored, else the first script
  const stored = localStorage.getItem("speechcoach.scenario");
  const keep = sel.options.length ? sel.value : stored !== null ? stored : (state.scenarios[0] && state.scenarios[0].id) || "";
  sel.textContent = "";
  for (const s of state.scenarios) {
    const opt = document.createElement("option");
    opt.value = s.id;
    opt.textContent = scenarioTitle(s);
    sel.appendChild(opt);
  }
  const free = document.createElement("option");
  free.value = "";
  free.textContent = t("free_talk");
  sel.appendChild(free);
  sel.value = [...sel.options].some((o) => o.value === keep) ? keep : sel.options[0].value;
  showScript();
}

function currentScenario() {
  const id = $("scenario").value;
  return state.scenarios.find((s) => s.id === id) || null;
}

/** Show the script large, one span per character; spoken characters carry their index. */
function showScript() {
  const box = $("script");
  box.textContent = "";
  const s = currentScenario();
  box.classList.toggle("free", !s);
  state.spoken = [];
  if (!s) {
    // the server says how free talk is counted: by the recogniser (precise mode) or from the sound
    box.textContent = t(state.config.free_talk_count === "asr" ? "free_talk_hint_asr" : "free_talk_hint");
    return;
  }
  const spoken = /[\p{L}\p{N}]/u;
  for (const ch of s.text) {
    if (ch === "\n") {
      box.appendChild(document.createElement("br"));
      continue;
    }
    const span = document.createElement("span");
    span.textContent = ch;
    span.className = "c";
    if (spoken.test(ch)) state.spoken.push(span);
    box.appendChild(span);
  }
}

/** Highlight the character a speaker at the target rate would be saying after `seconds`. */
function paceGuide(seconds) {
  const spans = state.spoken || [];
  if (!spans.length) return;
  const pos = seconds < 0 ? -1 : Math.floor((seconds * state.config.target_cpm) / 60);
  spans.forEach((span, i) => {
    span.classList.toggle("done", i < pos);
    span.classList.toggle("now", i === pos);
  });
  const now = spans[pos];
  if (now && now.scrollIntoView && pos % 12 === 0) now.scrollIntoView({ block: "nearest" });
}

// -- recording -----------------------------------------------------------------------------

function traineeName() {
  return $("trainee").value.trim();
}

function requireName() {
  if (traineeName()) return true;
  setStatus("need_name", null, true);
  $("trainee").focus();
  return false;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** The page string that says why getUserMedia failed with `err` and what to do about it. */
function micErrorKey(err) {
  const name = (err && err.name) || "";
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") return "mic_not_found";
  if (name === "SecurityError" || window.isSecureContext === false) return "mic_insecure";
  if (name === "NotAllowedError" || name === "PermissionDeniedError") return "mic_not_allowed";
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "mic_busy";
  return "mic_other";
}

async function startRecording() {
  if (!requireName() || state.rec) return;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    // browsers hide the microphone from pages not opened as http://localhost or https://
    setStatus(window.isSecureContext === false ? "mic_insecure" : "no_mic_api", { port: location.port || "8765" }, true);
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
    });
  } catch (err) {
    setStatus(micErrorKey(err), { error: err.message || err.name, port: location.port || "8765" }, true);
    return;
  }
  const ctx = new (window.AudioContext || window.webkitAudioContext)();
  const source = ctx.createMediaStreamSource(stream);
  const sink = ctx.createGain();
  sink.gain.value = 0;
  sink.connect(ctx.destination);
  const rec = {
    ctx,
    stream,
    source,
    sink,
    node: null,
    chunks: [],
    length: 0,
    capturing: false,
    startedAt: 0,
    levels: [],
    peakAt: -1e9,
    timer: 0,
  };
  state.rec = rec;
  const onBlock = (block) => handleBlock(rec, block);
  if (ctx.audioWorklet && window.AudioWorkletNode) {
    await ctx.audioWorklet.addModule("/static/recorder-worklet.js");
    rec.node = new AudioWorkletNode(ctx, "speechcoach-capture", { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: "explicit" });
    rec.node.port.onmessage = (ev) => onBlock(ev.data);
  } else {
    rec.node = ctx.createScriptProcessor(4096, 1, 1);
    rec.node.onaudioprocess = (ev) => onBlock(new Float32Array(ev.inputBuffer.getChannelData(0)));
  }
  source.connect(rec.node);
  rec.node.connect(sink);
  if (ctx.state === "suspended") await ctx.resume();

  $("record").disabled = true;
  $("upload").disabled = true;
  setState("countdown");
  setStatus("get_ready");
  paceGuide(-1);
  const cd = $("countdown");
  cd.hidden = false;
  for (const n of [3, 2, 1]) {
    if (state.rec !== rec) return;
    cd.textContent = String(n);
    await sleep(1000);
  }
  cd.hidden = true;
  if (state.rec !== rec) return;
  rec.capturing = true;
  rec.startedAt = performance.now();
  $("stop").disabled = false;
  setState("recording");
  setStatus("recording");
  const maxSeconds = (state.config.max_upload_mb * 1e6 * 0.95) / (ctx.sampleRate * 2);
  const tick = () => {
    if (state.rec !== rec || !rec.capturing) return;
    const secs = (performance.now() - rec.startedAt) / 1000;
    $("elapsed").textContent = clock(secs);
    paceGuide(secs);
    if (secs >= maxSeconds) {
      setStatus("max_reached");
      stopRecording();
      return;
    }
    rec.timer = requestAnimationFrame(tick);
  };
  rec.timer = requestAnimationFrame(tick);
}

function clock(secs) {
  const s = Math.max(0, Math.floor(secs));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Keep a block of samples (when capturing) and update the level meter. */
function handleBlock(rec, block) {
  let sum = 0;
  let peak = 0;
  for (let i = 0; i < block.length; i++) {
    const v = block[i];
    sum += v * v;
    const a = v < 0 ? -v : v;
    if (a > peak) peak = a;
  }
  const rmsDb = 10 * Math.log10(sum / Math.max(1, block.length) + 1e-12);
  const now = performance.now();
  if (peak >= 0.99) rec.peakAt = now;
  rec.levels.push([now, rmsDb]);
  while (rec.levels.length && now - rec.levels[0][0] > 3000) rec.levels.shift();
  const bar = $("level");
  bar.style.width = `${Math.max(0, Math.min(100, ((rmsDb + 60) / 60) * 100)).toFixed(0)}%`;
  bar.className = peak >= 0.99 ? "clip" : rmsDb > -12 ? "hot" : "";
  const note = $("level-note");
  const loudest = Math.max(...rec.levels.map((x) => x[1]));
  if (now - rec.peakAt < 1000) {
    note.textContent = t("clipping");
    note.className = "level-note bad";
  } else if (rec.capturing && now - rec.startedAt > 3000 && loudest < -45) {
    note.textContent = t("too_quiet");
    note.className = "level-note warn";
  } else {
    note.textContent = rec.capturing ? t("level_ok") : "";
    note.className = "level-note";
  }
  if (rec.capturing) {
    rec.chunks.push(block);
    rec.length += block.length;
  }
}

function releaseRecorder(rec) {
  cancelAnimationFrame(rec.timer);
  try {
    rec.source.disconnect();
    rec.node.disconnect();
  } catch (e) {
    /* already disconnected */
  }
  for (const track of rec.stream.getTracks()) track.stop();
  rec.ctx.close();
  $("level").style.width = "0";
  $("level-note").textContent = "";
  $("level-note").className = "level-note";
}

async function stopRecording() {
  const rec = state.rec;
  if (!rec) return;
  state.rec = null;
  rec.capturing = false;
  $("stop").disabled = true;
  $("countdown").hidden = true;
  releaseRecorder(rec);
  paceGuide(-1);
  $("record").disabled = false;
  $("upload").disabled = !$("file").files.length;
  const sr = rec.ctx.sampleRate;
  if (rec.length < sr * 1) {
    setState("idle");
    setStatus("too_short", null, true);
    return;
  }
  const samples = new Float32Array(rec.length);
  let offset = 0;
  for (const c of rec.chunks) {
    samples.set(c, offset);
    offset += c.length;
  }
  const wav = encodeWav(samples, sr);
  const expected = ((state.spoken || []).length * 60) / state.config.target_cpm;
  await submit(wav, "recording.wav", expected > 0 && rec.length / sr < 0.6 * expected, true);
}

/** A 16-bit PCM mono WAV file of `samples` (full scale ±1) at `sampleRate` Hz. */
function encodeWav(samples, sampleRate) {
  const bytes = samples.length * 2;
  const buf = new ArrayBuffer(44 + bytes);
  const view = new DataView(buf);
  const ascii = (pos, text) => {
    for (let i = 0; i < text.length; i++) view.setUint8(pos + i, text.charCodeAt(i));
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + bytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, bytes, true);
  let pos = 44;
  for (let i = 0; i < samples.length; i++, pos += 2) {
    const v = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(pos, v < 0 ? Math.round(v * 32768) : Math.round(v * 32767), true);
  }
  return new Blob([buf], { type: "audio/wav" });
}

// -- analysis ------------------------------------------------------------------------------

/** Upload a recording for analysis; `early` notes that the speaker stopped well before the script's end,
 * `recorded` that it was recorded on this page (the report then calls it "recording", not by a file name). */
async function submit(blob, filename, early, recorded) {
  const form = new FormData();
  form.append("audio", blob, filename);
  if (recorded) form.append("source", "recorder");
  const s = currentScenario();
  if (s) form.append("scenario", s.id);
  form.append("trainee", traineeName());
  form.append("lang", state.lang);
  const job = `j${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  form.append("job", job);
  setState("analysing");
  setStatus("analysing");
  $("record").disabled = true;
  const watch = watchProgress(job);
  try {
    const data = await api("POST", "/api/analyze", form);
    state.lastAttempt = data.attempt;
    showSummary(data.attempt);
    showReport(data.attempt);
    setStatus(early ? "stopped_early" : "done");
    setState("done");
    await loadHistory();
  } catch (err) {
    hideResult(); // what it showed was the previous attempt, not this one
    setStatus("error", { error: err.message }, true, FORMAT_ERRORS.has(err.code) ? formatsHint : null);
    setState("error");
  } finally {
    watch.stop();
    $("record").disabled = false;
  }
}

/** While an upload is analysed, ask the server every 0.7 s how far it has got (`GET /api/progress/JOB`)
 * and show the stage and the seconds of audio done in the status line; `stop()` ends the polling. */
function watchProgress(job) {
  let running = true;
  let timer = null;
  const poll = async () => {
    try {
      const res = await fetch(`/api/progress/${encodeURIComponent(job)}`);
      const p = res.ok ? await res.json() : null;
      if (running && p && p.stage && state.status && state.status.key.startsWith("analysing")) {
        const params = { stage: t(`stage_${p.stage}`), done: Math.round(p.done_s), total: Math.round(p.total_s) };
        setStatus(p.total_s > 0 ? "analysing_progress" : "analysing", params);
      }
    } catch (e) {
      // the status line keeps "Analysing…"
    }
    if (running) timer = setTimeout(poll, 700);
  };
  timer = setTimeout(poll, 700);
  return {
    stop() {
      running = false;
      clearTimeout(timer);
    },
  };
}

/** Error codes of an upload that is not (readable) audio: the status then lists the accepted formats. */
const FORMAT_ERRORS = new Set(["not_audio", "not_audio_text", "unrecognised_format", "cannot_decode", "needs_ffmpeg", "ffmpeg_failed", "empty_file"]);

/** "Accepted formats: WAV, FLAC, …" from /api/config, in the current language. */
function formatsHint() {
  const f = state.config.formats || { native: ["WAV", "FLAC", "OGG", "MP3"], ffmpeg: ["M4A", "AAC", "WEBM"], ffmpeg_available: false };
  const sep = state.lang === "zh" ? "、" : ", ";
  if (f.ffmpeg_available) return t("formats", { formats: [...f.native, ...f.ffmpeg].join(sep) });
  return t("formats_no_ffmpeg", { formats: f.native.join(sep), more: f.ffmpeg.slice(0, 3).join(sep) });
}

function verdictLabel(v) {
  return t(`verdict_${v}`);
}

function showSummary(a) {
  const p = $("summary");
  p.textContent = "";
  const cpm = document.createElement("span");
  cpm.className = "cpm";
  cpm.id = "summary-cpm";
  cpm.textContent = fmt0(a.cpm);
  const text = t("summary", { cpm: "\u0000", verdict: verdictLabel(a.verdict), score: a.score });
  const [before, after] = text.split("\u0000");
  p.append(before, cpm, after);
  p.className = `summary v-${a.verdict}`;
  $("result").hidden = false;
}

function showReport(a) {
  const frame = $("report");
  frame.onload = fitReport;
  frame.src = `${a.report_url}?t=${Date.now()}`;
  $("result").hidden = false;
}

/** Make the report frame as tall as the report, so a phone shows it all, not a box that scrolls
 * inside the page. The height is cleared first: a document is never shorter than its frame, so
 * measured in the frame of a longer report a short one would keep that height (blank below). */
function fitReport() {
  const frame = $("report");
  try {
    const doc = frame.contentDocument;
    if (!doc || !doc.documentElement || doc.URL === "about:blank") return;
    frame.style.height = "";
    frame.style.height = `${Math.min(30000, doc.documentElement.scrollHeight + 20)}px`;
  } catch (e) {
    /* cross-origin: keep the default height */
  }
}

/** Take the result section away (an attempt deleted, or an upload that failed: the report under
 * "This attempt" would be the previous one's). */
function hideResult() {
  state.lastAttempt = null;
  $("result").hidden = true;
  const frame = $("report");
  frame.onload = null;
  frame.removeAttribute("src");
  frame.style.height = "";
  $("summary").textContent = "";
}

async function uploadFile() {
  if (!requireName()) return;
  const file = $("file").files[0];
  if (!file) {
    setStatus("pick_file", null, true);
    return;
  }
  if (file.size > state.config.max_upload_mb * 1e6) {
    setStatus("file_too_large", { mb: state.config.max_upload_mb }, true);
    return;
  }
  await submit(file, file.name);
}

function renderFileName() {
  const f = $("file").files && $("file").files[0];
  $("file-name").textContent = f ? f.name : t("no_file");
}

// -- history -------------------------------------------------------------------------------

async function loadHistory() {
  const name = traineeName();
  state.historyName = name; // the trainee whose attempts are listed: a delete names them
  $("history-name").textContent = name ? `· ${name}` : "";
  if (!name) {
    state.attempts = [];
    renderHistory();
    return;
  }
  try {
    const data = await api("GET", `/api/attempts?trainee=${encodeURIComponent(name)}`);
    state.attempts = data.attempts;
  } catch (err) {
    state.attempts = [];
    setStatus("error", { error: err.message }, true);
  }
  renderHistory();
}

function scenarioLabel(a) {
  if (!a.scenario) return t("free_talk");
  if (a.scenario === "custom") return t("own_script");
  if (a.scenario_title) return a.scenario_title[state.lang] || a.scenario_title.zh || a.scenario;
  return a.scenario;
}

/** The history, newest first; each attempt carries its number in the chart (1 = the oldest). */
function renderHistory() {
  const body = document.querySelector("#attempts tbody");
  body.textContent = "";
  const list = state.attempts || [];
  $("no-attempts").hidden = list.length > 0;
  $("attempts").hidden = list.length === 0;
  $("delete-all").hidden = list.length === 0;
  for (let k = list.length - 1; k >= 0; k--) {
    const a = list[k];
    const tr = document.createElement("tr");
    tr.dataset.id = a.id;
    const cell = (cls, text, label) => {
      const td = document.createElement("td");
      td.className = cls;
      td.textContent = text;
      if (label) td.dataset.label = label;
      tr.appendChild(td);
      return td;
    };
    cell("no", String(k + 1));
    cell("date", new Date(a.created).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { dateStyle: "short", timeStyle: "short" }));
    cell("scen", scenarioLabel(a));
    cell("num cpm", fmt0(a.cpm)).dataset.unit = t("cpm_unit");
    cell(`verdict v-${a.verdict}`, verdictLabel(a.verdict));
    cell("num score", String(a.score), t("col_score"));
    const actions = cell("actions", "");
    const view = document.createElement("button");
    view.type = "button";
    view.className = "view";
    view.textContent = t("view");
    view.addEventListener("click", () => {
      state.lastAttempt = a;
      showSummary(a);
      showReport(a);
      $("result").scrollIntoView({ behavior: "smooth", block: "start" });
    });
    const del = document.createElement("button");
    del.type = "button";
    del.className = "delete";
    del.textContent = t("delete");
    del.addEventListener("click", () => deleteAttempt(a));
    actions.append(view, del);
    body.appendChild(tr);
  }
  drawChart(list);
}

async function deleteAttempt(a) {
  if (!window.confirm(t("confirm_delete"))) return;
  try {
    // the server deletes only the named trainee's attempts
    await api("DELETE", `/api/attempts/${encodeURIComponent(a.id)}?trainee=${encodeURIComponent(state.historyName)}`);
    if (state.lastAttempt && state.lastAttempt.id === a.id) hideResult();
  } catch (err) {
    setStatus("error", { error: err.message }, true);
  }
  await loadHistory();
}

async function deleteAll() {
  const name = traineeName();
  if (!name || !window.confirm(t("confirm_delete_all", { name, n: state.attempts.length }))) return;
  try {
    const data = await api("DELETE", `/api/attempts?trainee=${encodeURIComponent(name)}`);
    setStatus("deleted_all", { n: data.deleted });
    hideResult();
  } catch (err) {
    setStatus("error", { error: err.message }, true);
  }
  await loadHistory();
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Whether an attempt's characters were counted from a script (else estimated: less certain). */
function scripted(a) {
  return (a.char_source || "script") === "script";
}

/** Whether an attempt without a script was counted by the speech recogniser (precise mode: close
 * to a script's count, so drawn solid like one, but named for what it is). */
function recognised(a) {
  return a.char_source === "asr";
}

/** How an attempt's characters were counted, as the chart names it. */
function countLabel(a) {
  return scripted(a) ? t("chart_scripted") : recognised(a) ? t("chart_recognised") : t("chart_estimated");
}

/** Rate of every attempt (oldest left, numbered as in the table) against the target band, as inline
 * SVG drawn at the box's own pixel width, so its text is as large on a phone as on a laptop. The band
 * and target are named in the legend below, where no line can cross them. */
function drawChart(list) {
  const chart = $("chart");
  chart.textContent = "";
  chart.appendChild(svg("title", { id: "chart-title" }, t("chart_title")));
  chart.style.display = list.length ? "block" : "none";
  drawLegend(list);
  if (!list.length) return;
  const W = Math.max(260, Math.round(chart.parentElement.clientWidth || 640));
  const H = W < 500 ? 200 : 240;
  chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
  chart.setAttribute("width", W);
  chart.setAttribute("height", H);
  const L = 40;
  const R = 14;
  const T = 10;
  const B = 26;
  const [lo, hi] = list[list.length - 1].band_cpm || state.config.band_cpm;
  const target = list[list.length - 1].target_cpm || state.config.target_cpm;
  const top = Math.max(200, hi * 1.3, ...list.map((a) => a.cpm * 1.1));
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const n = list.length;
  const pad = 12;
  const x = (i) => (n === 1 ? (L + W - R) / 2 : L + pad + (i / (n - 1)) * (W - L - R - 2 * pad));
  chart.appendChild(svg("rect", { class: "bandrect", x: L, y: y(hi), width: W - L - R, height: y(lo) - y(hi) }));
  chart.appendChild(svg("line", { class: "targetline", x1: L, x2: W - R, y1: y(target), y2: y(target) }));
  chart.appendChild(svg("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
  chart.appendChild(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  const tick = [50, 100, 200, 250, 500, 1000].find((s) => top / s <= (H < 220 ? 4 : 6)) || 2000;
  for (let v = 0; v <= top; v += tick) {
    chart.appendChild(svg("text", { class: "tick", x: L - 6, y: y(v) + 4.5, "text-anchor": "end" }, String(v)));
  }
  // number every attempt as the table does; skip some when they would crowd (about 28 px each)
  const step = Math.max(1, Math.ceil((n * 28) / (W - L - R)));
  list.forEach((a, i) => {
    if ((n - 1 - i) % step === 0) chart.appendChild(svg("text", { class: "tick", x: x(i), y: H - 7, "text-anchor": "middle" }, String(i + 1)));
  });
  if (n > 1) chart.appendChild(svg("polyline", { class: "series", points: list.map((a, i) => `${x(i).toFixed(1)},${y(a.cpm).toFixed(1)}`).join(" ") }));
  list.forEach((a, i) => {
    const out = +fmt0(a.cpm) < lo || +fmt0(a.cpm) > hi ? "out" : "in";
    const c = svg("circle", { cx: x(i), cy: y(a.cpm), r: 5.5, class: `${out} ${scripted(a) || recognised(a) ? "scripted" : "estimated"}` });
    const how = countLabel(a);
    c.appendChild(svg("title", {}, `${i + 1}. ${scenarioLabel(a)}: ${fmt0(a.cpm)} ${t("cpm_unit")} (${verdictLabel(a.verdict)}; ${how})`));
    chart.appendChild(c);
  });
}

/** The chart's legend: the band, the target line, the points' colours (inside the band, outside it)
 * and their fill (counted, or estimated: hollow), each only when in use. */
function drawLegend(list) {
  const box = $("chart-legend");
  box.textContent = "";
  box.hidden = !list.length;
  if (!list.length) return;
  const [lo, hi] = list[list.length - 1].band_cpm || state.config.band_cpm;
  const target = list[list.length - 1].target_cpm || state.config.target_cpm;
  const item = (cls, text) => {
    const li = document.createElement("li");
    const key = document.createElement("span");
    key.className = `key ${cls}`;
    key.setAttribute("aria-hidden", "true");
    li.append(key, text);
    box.appendChild(li);
  };
  item("band", `${t("chart_band")} ${fmtLimit(lo)}–${fmtLimit(hi)}`);
  item("target", `${t("chart_target")} ${fmtLimit(target)}`);
  const outside = (a) => +fmt0(a.cpm) < lo || +fmt0(a.cpm) > hi; // as drawChart colours the points
  if (list.some((a) => !outside(a))) item("dot in", t("chart_in_band"));
  if (list.some(outside)) item("dot out", t("chart_out_band"));
  if (list.some(scripted)) item("dot scripted", t("chart_scripted"));
  if (list.some(recognised)) item("dot scripted", t("chart_recognised"));
  if (list.some((a) => !scripted(a) && !recognised(a))) item("dot estimated", t("chart_estimated"));
}

// -- start ---------------------------------------------------------------------------------

async function init() {
  try {
    state.config = await api("GET", "/api/config");
  } catch (err) {
    setStatus("error", { error: err.message }, true);
  }
  state.lang = localStorage.getItem("speechcoach.lang") || state.config.lang || "zh";
  if (!(state.lang in I18N)) state.lang = "zh";
  try {
    state.scenarios = (await api("GET", "/api/scenarios")).scenarios;
  } catch (err) {
    setStatus("error", { error: err.message }, true);
  }
  $("trainee").value = localStorage.getItem("speechcoach.trainee") || "";
  applyLanguage();
  for (const b of document.querySelectorAll(".lang button")) {
    b.addEventListener("click", () => {
      state.lang = b.dataset.lang;
      localStorage.setItem("speechcoach.lang", state.lang);
      applyLanguage();
    });
  }
  let nameTimer = 0;
  $("trainee").addEventListener("input", () => {
    localStorage.setItem("speechcoach.trainee", traineeName());
    clearTimeout(nameTimer);
    nameTimer = setTimeout(loadHistory, 300);
  });
  $("scenario").addEventListener("change", () => {
    localStorage.setItem("speechcoach.scenario", $("scenario").value);
    showScript();
  });
  $("record").addEventListener("click", startRecording);
  $("stop").addEventListener("click", stopRecording);
  $("file").addEventListener("change", () => {
    $("upload").disabled = !$("file").files.length;
    renderFileName();
  });
  $("upload").addEventListener("click", uploadFile);
  $("delete-all").addEventListener("click", deleteAll);
  let resizeTimer = 0;
  let lastWidth = window.innerWidth;
  window.addEventListener("resize", () => {
    if (window.innerWidth === lastWidth) return; // a phone's address bar sliding away changes only the height
    lastWidth = window.innerWidth;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      drawChart(state.attempts || []);
      if (!$("result").hidden) fitReport(); // a narrower report is taller, a wider one shorter
    }, 150);
  });
  await loadHistory();
  setState("idle");
}

document.addEventListener("DOMContentLoaded", init);
