// spasm-cv review --serve: decisions by keyboard or buttons, saved at once (POST with token).
"use strict";
const token = document.body.dataset.token;
const clips = Array.from(document.querySelectorAll(".clip"));
const statusLine = document.getElementById("status");
let current = 0;

function say(text) { statusLine.textContent = text; }

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Token": token },
    body: JSON.stringify(body),
  });
  const data = await r.json();
  if (!r.ok) { throw new Error(data.error || r.statusText); }
  return data;
}

function fields(clip) {
  return {
    corrected_side: clip.querySelector("[name=corrected_side]").value,
    corrected_kind: clip.querySelector("[name=corrected_kind]").value,
    note: clip.querySelector("[name=note]").value,
  };
}

function mark(clip, decision, words) {
  const label = clip.querySelector(".decision");
  label.dataset.decision = decision;
  label.textContent = words || decision;
}

function show(state) {
  const done = state.decisions;
  let reviewed = 0;
  for (const clip of clips) {
    const key = clip.dataset.event;
    if (key && done[key]) { mark(clip, done[key].decision); reviewed += 1; }
  }
  const list = document.getElementById("added");
  list.replaceChildren();
  for (const d of Object.values(done)) {
    if (d.decision !== "added") { continue; }
    const li = document.createElement("li");
    li.dataset.event = d.event;
    li.textContent = `${d.side} ${d.kind || ""} at ${d.onset.toFixed(2)} s for ` +
      `${d.duration.toFixed(2)} s` + (d.note ? ` (${d.note})` : "");
    list.append(li);
  }
  say(`${reviewed} of ${state.detected} detected episodes reviewed; ` +
      `${list.children.length} added.`);
}

function focusClip(i) {
  if (!clips.length) { return; }
  clips[current].classList.remove("current");
  current = Math.max(0, Math.min(clips.length - 1, i));
  const clip = clips[current];
  clip.classList.add("current");
  clip.focus({ preventScroll: true });
  clip.scrollIntoView({ block: "center" });
}

async function decide(clip, decision) {
  try {
    if (clip.dataset.role === "near_miss") {
      if (decision === "added" || decision === "accepted") {
        const f = fields(clip);
        const data = await post("api/add", {
          onset: +clip.dataset.onset, duration: +clip.dataset.duration,
          side: f.corrected_side, kind: f.corrected_kind, note: f.note,
        });
        mark(clip, "added");
        show(data);
      } else {
        mark(clip, "rejected", "not an episode");
      }
    } else {
      const data = await post("api/decide", { event: clip.dataset.event, decision, ...fields(clip) });
      show(data);
      say(`Saved: ${decision} (${statusLine.textContent})`);
    }
    focusClip(current + 1);
  } catch (err) {
    say(`Not saved: ${err.message}`);
  }
}

function addHere(clip) {
  // the form to add a missed episode, its onset at the clip's current time
  const video = clip.querySelector("video");
  const form = clip.querySelector(".add-form");
  const onset = Math.max(0, +clip.dataset.start + (video ? video.currentTime : 0));
  if (video) { video.pause(); }
  form.elements.add_onset.value = onset.toFixed(2);
  form.hidden = false;
  form.elements.add_onset.focus();
}

async function saveAdded(clip, form) {
  try {
    const data = await post("api/add", {
      onset: +form.elements.add_onset.value, duration: +form.elements.add_duration.value,
      side: form.elements.add_side.value, kind: form.elements.add_kind.value,
      note: fields(clip).note,
    });
    form.hidden = true;
    show(data);
    say(`Added a missed ${form.elements.add_side.value} episode at ` +
        `${(+form.elements.add_onset.value).toFixed(2)} s (${statusLine.textContent})`);
    clip.focus({ preventScroll: true });
  } catch (err) {
    say(`Not added: ${err.message}`);
  }
}

for (const [i, clip] of clips.entries()) {
  clip.addEventListener("focusin", () => {
    if (clips[current] !== clip) { clips[current].classList.remove("current"); }
    current = i; clip.classList.add("current");
  });
  for (const b of clip.querySelectorAll("[data-decide]")) {
    b.addEventListener("click", () => decide(clip, b.dataset.decide));
  }
  for (const b of clip.querySelectorAll("[data-add]")) {
    b.addEventListener("click", () => addHere(clip));
  }
  const form = clip.querySelector(".add-form");
  form.addEventListener("submit", (ev) => { ev.preventDefault(); saveAdded(clip, form); });
  form.querySelector("[data-cancel]").addEventListener("click", () => {
    form.hidden = true; clip.focus({ preventScroll: true });
  });
}

document.addEventListener("keydown", (ev) => {
  const t = ev.target;
  if (t.matches && t.matches("input, select, textarea, button")) {
    if (ev.key === "Escape") { t.blur(); }
    return;
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey || !clips.length) { return; }
  const clip = clips[current];
  const key = ev.key;
  if (key === "a") { decide(clip, clip.dataset.role === "near_miss" ? "added" : "accepted"); }
  else if (key === "r") { decide(clip, clip.dataset.role === "near_miss" ? "skip" : "rejected"); }
  else if (key === "u" && clip.dataset.role !== "near_miss") { decide(clip, "unsure"); }
  else if (key === "n") { addHere(clip); }
  else if (key === "ArrowDown" || key === "ArrowRight") { focusClip(current + 1); }
  else if (key === "ArrowUp" || key === "ArrowLeft") { focusClip(current - 1); }
  else if (key === " ") {
    const v = clip.querySelector("video");
    if (v) { if (v.paused) { v.play(); } else { v.pause(); } }
  } else { return; }
  ev.preventDefault();
});

fetch("api/state", { headers: { "X-Token": token } })
  .then((r) => r.json()).then(show).catch((err) => say(`Could not load decisions: ${err}`));
focusClip(0);
