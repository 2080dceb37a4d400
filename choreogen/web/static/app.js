// choreogen page: calls the HTTP API only; the dance is computed by the library on the server.
// The viewer never keeps its own clock: every animation frame sets the mixer time from
// audio.currentTime, so the dance and the music cannot drift apart.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";

const $ = (id) => document.getElementById(id);
const audio = $("audio");
const state = { job: null, fps: 30, frames: 0, clip: null, mixer: null, model: null, versions: [] };
// window.choreogen: what the page shows now (read by the browser tests): frame, audio time, job.
window.choreogen = { frame: 0, time: 0, ready: false, job: null, fps: 30, frames: 0, renders: 0,
  rootPosition: () => { const b = state.model && state.model.getObjectByName("pelvis");
    return b ? b.getWorldPosition(new THREE.Vector3()).toArray() : null; } };

// ---------------------------------------------------------------- three.js scene
const canvas = $("viewer");
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
renderer.setSize(canvas.width, canvas.height, false);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0xdde3ea);
const camera = new THREE.PerspectiveCamera(45, canvas.width / canvas.height, 0.05, 100);
camera.position.set(2.6, 1.7, 3.4);
const controls = new OrbitControls(camera, canvas);
controls.target.set(0, 0.9, 0);
controls.update();
scene.add(new THREE.HemisphereLight(0xffffff, 0x667788, 2.2));
const sun = new THREE.DirectionalLight(0xffffff, 1.5);
sun.position.set(3, 5, 2);
scene.add(sun);
const floor = new THREE.Mesh(new THREE.PlaneGeometry(10, 10), new THREE.MeshStandardMaterial({ color: 0xc8c2b8 }));
floor.rotation.x = -Math.PI / 2;
scene.add(floor);
scene.add(new THREE.GridHelper(10, 20, 0x888888, 0xaaaaaa));

function tick() {
  const t = audio.currentTime || 0;
  if (state.mixer && state.clip) {
    const tt = Math.min(t, Math.max(0, state.clip.duration));
    state.mixer.setTime(tt);
    const frame = Math.min(state.frames - 1, Math.round(tt * state.fps));
    Object.assign(window.choreogen, { frame, time: t });
    $("clock").textContent = `${t.toFixed(2)} s / frame ${frame}`;
    if (!scrubbing && state.clip.duration > 0) $("scrub").value = String(tt / state.clip.duration);
  }
  controls.update();
  renderer.render(scene, camera);
  window.choreogen.renders += 1;
  requestAnimationFrame(tick);
}
requestAnimationFrame(tick);

async function showJob(job) {
  const gltf = await new GLTFLoader().loadAsync(`/api/jobs/${job.id}/glb`);
  if (state.model) scene.remove(state.model);
  state.model = gltf.scene;
  scene.add(gltf.scene);
  state.clip = gltf.animations[0];
  state.mixer = new THREE.AnimationMixer(gltf.scene);
  state.mixer.clipAction(state.clip).play();
  state.fps = job.fps; state.frames = job.frames; state.job = job;
  if (!job.parent && audio.dataset.job !== job.id) {  // a new song; edits keep the same music and time
    audio.dataset.job = job.id;
    audio.src = `/api/jobs/${job.id}/song`;
    await new Promise((ok) => { audio.onloadedmetadata = ok; audio.load(); });
  }
  $("play").disabled = false; $("scrub").disabled = false; $("edit").disabled = false;
  $("e-end").max = $("e-start").max = job.seconds.toFixed(2);
  $("downloads").innerHTML = "Download: " + ["npz", "bvh", "glb", "mp4"].map(
    (k) => `<a id="dl-${k}" href="/api/jobs/${job.id}/${k}" download>${k === "glb" ? "glTF" : k.toUpperCase()}</a>`).join("");
  Object.assign(window.choreogen, { ready: true, job: job.id, fps: job.fps, frames: job.frames,
    versions: state.versions.length });
}

// ---------------------------------------------------------------- jobs
function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function follow(job, label) {
  setStatus("queued");
  for (;;) {
    const r = await fetch(`/api/jobs/${job.id}`);
    job = await r.json();
    $("progress").value = job.progress;
    if (job.status === "done") break;
    if (job.status === "failed") { setStatus(job.error, true); return null; }
    setStatus(job.status === "running" ? `generating: step ${job.step} of ${job.total}` : "waiting in the queue");
    await new Promise((ok) => setTimeout(ok, 150));
  }
  setStatus(`done: ${job.seconds.toFixed(1)} s, ${job.frames} frames at ${job.fps} fps`);
  if (!job.parent) { state.versions = []; $("version").innerHTML = ""; }
  state.versions.push(job);
  const opt = new Option(label, job.id, true, true);
  $("version").add(opt);
  await showJob(job);
  return job;
}

async function answer(r) {
  const body = await r.json();
  if (!r.ok) { setStatus(body.error || body.detail || `HTTP ${r.status}`, true); return null; }
  return body;
}

$("gen").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const file = $("file").files[0];
  const q = new URLSearchParams({ genre: $("genre").value, seconds: $("seconds").value, seed: $("seed").value });
  let body = null;
  if ($("example").checked || !file) q.set("example", "true");
  else { q.set("filename", file.name); body = file; }
  setStatus("uploading");
  $("progress").value = 0;
  const job = await answer(await fetch(`/api/jobs?${q}`, { method: "POST", body }));
  if (job) await follow(job, `original (seed ${$("seed").value})`);
});

async function edit(mode) {
  const req = { mode, start: +$("e-start").value, end: +$("e-end").value, seed: Math.floor(Math.random() * 1e6) };
  const job = await answer(await fetch(`/api/jobs/${state.job.id}/edit`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(req) }));
  const label = mode === "range" ? `edit: ${req.start}-${req.end} s` : `edit: ${mode.replace("_", " ")}`;
  if (job) await follow(job, label);
}
$("e-range").onclick = () => edit("range");
$("e-upper").onclick = () => edit("keep_upper");
$("e-lower").onclick = () => edit("keep_lower");
$("version").onchange = () => showJob(state.versions.find((v) => v.id === $("version").value));

// ---------------------------------------------------------------- transport
let scrubbing = false;
$("play").onclick = () => { if (audio.paused) audio.play(); else audio.pause(); };
audio.onplay = () => { $("play").textContent = "Pause"; };
audio.onpause = () => { $("play").textContent = "Play"; };
$("scrub").addEventListener("input", () => {
  scrubbing = true;
  if (state.clip) audio.currentTime = +$("scrub").value * state.clip.duration;
});
$("scrub").addEventListener("change", () => { scrubbing = false; });

const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault(); drop.classList.remove("over");
  $("file").files = e.dataTransfer.files; $("example").checked = false;
});

fetch("/api/info").then((r) => r.json()).then((info) => {
  for (const g of info.genres) $("genres").appendChild(new Option(g, g));
  $("seconds").max = info.limits.max_dance_seconds;
});
