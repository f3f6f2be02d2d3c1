// ferkit's page: send an image (chosen, dropped, or a webcam frame) to /v1/analyze and draw what comes back.
// Plain JavaScript, no libraries and no CDN: the page works offline from the ferkit server alone.
"use strict";

// The same colours as ferkit.infer.draw.COLOURS, so the page and the annotated images agree.
const COLOURS = {
  angry: "rgb(220,50,47)", disgust: "rgb(133,153,0)", fear: "rgb(108,113,196)", happy: "rgb(255,193,7)",
  sad: "rgb(38,139,210)", surprise: "rgb(211,54,130)", neutral: "rgb(147,161,161)", contempt: "rgb(203,75,22)",
};

const $ = (id) => document.getElementById(id);
const view = $("view");
const ctx = view.getContext("2d");
let shown = null;       // the picture on the canvas (an ImageBitmap or a canvas), heatmap included when chosen
let plain = null;       // the same picture without the heatmap
let lastBlob = null;    // the image last sent, sent again for its heatmap when the Grad-CAM toggle turns on
let lastResult = null;  // the last JSON answer, redrawn when a toggle changes
let stream = null;      // the webcam's MediaStream while it runs

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function analyze(blob) {
  const response = await fetch("v1/analyze", { method: "POST", body: blob,
    headers: { "Content-Type": blob.type || "application/octet-stream" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

// The picture to show for `blob`: with Grad-CAM on, the server's heatmap overlay (same size), else `picture`.
async function withHeatmap(blob, picture) {
  if (!$("gradcam").checked) return picture;
  const response = await fetch("v1/explain", { method: "POST", body: blob,
    headers: { "Content-Type": blob.type || "application/octet-stream" } });
  if (!response.ok) throw new Error((await response.json()).error || `HTTP ${response.status}`);
  return createImageBitmap(await response.blob());
}

function draw(picture, result) {
  view.width = picture.videoWidth || picture.width;
  view.height = picture.videoHeight || picture.height;
  ctx.drawImage(picture, 0, 0, view.width, view.height);
  if (!result || !$("annotate-boxes").checked) return;
  const scale = Math.max(view.width, view.height) / 640;
  ctx.lineWidth = Math.max(2, 2 * scale);
  ctx.font = `${Math.round(14 * Math.max(scale, 0.8))}px system-ui, sans-serif`;
  for (const face of result.faces) {
    const [x, y, w, h] = face.box;
    const colour = COLOURS[face.label] || "white";
    ctx.strokeStyle = colour;
    ctx.strokeRect(x, y, w, h);
    const text = `${face.label} ${(100 * face.probs[face.label]).toFixed(0)}%`;
    const tw = ctx.measureText(text).width, th = parseInt(ctx.font, 10);
    ctx.fillStyle = colour;
    ctx.fillRect(x, Math.max(0, y - th - 6), tw + 8, th + 6);
    ctx.fillStyle = "black";
    ctx.fillText(text, x + 4, Math.max(th, y - 5));
    drawBars(face, x + w + 4, y, Math.max(40, h));
  }
}

function drawBars(face, left, top, height) {
  const names = Object.keys(face.probs);
  const row = Math.max(4, Math.floor(height / names.length));
  const width = 60 * Math.max(1, view.width / 640);
  names.forEach((name, i) => {
    ctx.fillStyle = "rgb(40,40,40)";
    ctx.fillRect(left, top + i * row, width, row - 2);
    ctx.fillStyle = COLOURS[name] || "white";
    ctx.fillRect(left, top + i * row, width * face.probs[name], row - 2);
  });
}

function listFaces(result) {
  const list = $("faces");
  list.replaceChildren();
  for (const face of result.faces) {
    const item = document.createElement("li");
    item.className = "face";
    const title = document.createElement("strong");
    title.className = "label";
    title.textContent = `${face.label} ${(100 * face.probs[face.label]).toFixed(0)}%`;
    item.append(title);
    for (const [name, p] of Object.entries(face.probs)) {
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("span");
      fill.className = "fill";
      fill.style.width = `${(100 * p).toFixed(1)}%`;
      fill.style.background = COLOURS[name] || "gray";
      const track = document.createElement("span");
      track.append(fill);
      bar.append(name, track, `${(100 * p).toFixed(1)}%`);
      item.append(bar);
    }
    list.append(item);
  }
  $("json").textContent = JSON.stringify(result, null, 2);
}

async function showFile(file) {
  if (!file) return;
  stopCamera();
  setStatus(`analysing ${file.name}…`);
  try {
    const [picture, result] = await Promise.all([createImageBitmap(file).catch(() => null), analyze(file)]);
    plain = picture;
    lastBlob = file;
    lastResult = result;
    shown = picture && await withHeatmap(file, picture);
    if (shown) draw(shown, result);
    listFaces(result);
    $("hint").hidden = true;
    const n = result.faces.length;
    setStatus(`${n} face${n === 1 ? "" : "s"} in ${result.ms} ms`);
  } catch (error) {
    setStatus(`${file.name}: ${error.message}`, true);
  }
}

// A video: /v1/analyze-video answers every analysed frame; each tracked face gets a panel of its probabilities over
// time, one line per expression (the picture `ferkit report` draws for a job's videos).
async function showVideo(file) {
  if (!file) return;
  stopCamera();
  setStatus(`analysing ${file.name}…`);
  try {
    const response = await fetch("v1/analyze-video", { method: "POST", body: file,
      headers: { "Content-Type": file.type || "application/octet-stream" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    const tracks = tracksOf(body.frames);
    drawTimeline(tracks, body.frames.length ? body.frames[body.frames.length - 1].time : 0);
    $("timeline-view").hidden = false;
    $("timeline-summary").textContent = `${file.name}: ${body.frames.length} frames analysed, ${tracks.size} face `
      + `track(s), ${body.ms} ms` + [...tracks].map(([t, points]) => `; track ${t}: mostly ${dominant(points)}`).join("");
    $("faces").replaceChildren();
    $("json").textContent = JSON.stringify(body, null, 2);
    setStatus(`${body.frames.length} frames, ${tracks.size} track(s)`);
  } catch (error) {
    setStatus(`${file.name}: ${error.message}`, true);
  }
}

function tracksOf(frames) {  // track id -> [{time, probs, label}]
  const tracks = new Map();
  for (const frame of frames) {
    for (const face of frame.faces) {
      if (!tracks.has(face.track)) tracks.set(face.track, []);
      tracks.get(face.track).push({ time: frame.time, probs: face.probs, label: face.label });
    }
  }
  return tracks;
}

function dominant(points) {
  const counts = {};
  for (const p of points) counts[p.label] = (counts[p.label] || 0) + 1;
  return Object.entries(counts).sort((a, b) => b[1] - a[1])[0][0];
}

function drawTimeline(tracks, duration) {
  const canvas = $("timeline"), g = canvas.getContext("2d");
  const panel = 140, left = 70, right = 10, names = Object.keys(COLOURS);
  canvas.height = Math.max(1, tracks.size) * panel + 30;
  g.fillStyle = "white";
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.font = "12px system-ui, sans-serif";
  const span = Math.max(duration, 1e-3), width = canvas.width - left - right;
  let row = 0;
  for (const [track, points] of tracks) {
    const top = 10 + row * panel, height = panel - 30;
    g.strokeStyle = "#ccc";
    g.strokeRect(left, top, width, height);
    g.fillStyle = "#333";
    g.fillText(`track ${track}`, 4, top + height / 2);
    for (const name of names) {
      if (!(name in points[0].probs)) continue;
      g.strokeStyle = COLOURS[name];
      g.lineWidth = 2;
      g.beginPath();
      points.forEach((p, i) => {
        const x = left + (p.time / span) * width, y = top + height * (1 - p.probs[name]);
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    }
    row += 1;
  }
  let x = left;  // the legend, under the panels
  for (const name of names) {
    g.fillStyle = COLOURS[name];
    g.fillRect(x, canvas.height - 16, 12, 10);
    g.fillStyle = "#333";
    g.fillText(name, x + 16, canvas.height - 7);
    x += 90;
  }
  g.fillText(`${span.toFixed(1)} s`, canvas.width - 50, canvas.height - 7);
}

// Webcam: grab a frame, send it, draw the answer over that frame, then the next; one request in flight at a time.
async function cameraLoop() {
  const video = $("video");
  const grab = document.createElement("canvas");
  while (stream) {
    grab.width = video.videoWidth;
    grab.height = video.videoHeight;
    if (!grab.width) { await new Promise((r) => setTimeout(r, 50)); continue; }
    grab.getContext("2d").drawImage(video, 0, 0);
    const blob = await new Promise((r) => grab.toBlob(r, "image/jpeg", 0.85));
    try {
      const result = await analyze(blob);
      const picture = await withHeatmap(blob, grab);
      if (!stream) break;
      plain = grab;
      lastBlob = blob;
      shown = picture;
      lastResult = result;
      draw(picture, result);
      listFaces(result);
      setStatus(`webcam: ${result.faces.length} face(s), ${result.ms} ms`);
    } catch (error) {
      setStatus(`webcam: ${error.message}`, true);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setStatus("this browser offers no webcam here (it needs https or localhost)", true);
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  } catch (error) {
    setStatus(`webcam: ${error.message}`, true);
    return;
  }
  const video = $("video");
  video.srcObject = stream;
  await video.play();
  $("camera").textContent = "Stop the webcam";
  $("camera").classList.add("on");
  $("hint").hidden = true;
  cameraLoop();
}

function stopCamera() {
  if (!stream) return;
  stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $("camera").textContent = "Use the webcam";
  $("camera").classList.remove("on");
}

async function showModel() {
  try {
    const response = await fetch("v1/models");
    const model = (await response.json()).models[0];
    const acc = model.metrics && model.metrics.val_accuracy;
    $("model").textContent = `model ${model.name} (${model.arch}, ${model.parameters.toLocaleString()} parameters`
      + (acc ? `, ${(100 * acc).toFixed(2)}% on ${model.metrics.val_split})` : ")") + `, detector ${model.detector}`;
  } catch (error) {
    $("model").textContent = `the server did not describe its model (${error.message})`;
  }
}

$("file").addEventListener("change", (e) => showFile(e.target.files[0]));
$("video-file").addEventListener("change", (e) => showVideo(e.target.files[0]));
$("camera").addEventListener("click", () => (stream ? stopCamera() : startCamera()));
$("annotate-boxes").addEventListener("change", () => shown && draw(shown, lastResult));
$("gradcam").addEventListener("change", async () => {
  if (!lastBlob || stream) return;  // the webcam picks the toggle up on its next frame
  try {
    shown = await withHeatmap(lastBlob, plain);
    draw(shown, lastResult);
  } catch (error) {
    setStatus(`Grad-CAM: ${error.message}`, true);
  }
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const file = e.dataTransfer.files[0];
  (file && file.type.startsWith("video/") ? showVideo : showFile)(file);
});
showModel();
