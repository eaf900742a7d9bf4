// The curator console's little script: asks before a button changes the display, and keeps
// the Now page current. Everything works without it, minus the questions and the refresh.
"use strict";
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
const screen = document.getElementById("screen");
if (screen) {
  const fields = ["health", "artwork", "journey", "rotation", "painter", "camera", "visitors"];
  setInterval(async () => {
    screen.src = "/now/screen.jpg?t=" + Date.now();
    try {
      const reply = await fetch("/now/status.json", { credentials: "same-origin" });
      if (!reply.ok) return;
      const status = await reply.json();
      for (const f of fields) {
        const el = document.getElementById(f);
        if (el && status[f] !== undefined) el.textContent = status[f];
      }
      const health = document.getElementById("health");
      if (health) health.className = status.healthy ? "ok" : "bad";
    } catch (_) { /* the next tick tries again */ }
  }, 3000);
}
// Uploads: drag and drop onto the box, and a progress bar while the file travels.
const upload = document.getElementById("upload");
if (upload) {
  const drop = document.getElementById("drop");
  const input = document.getElementById("image");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) input.files = e.dataTransfer.files;
  });
  upload.addEventListener("submit", (e) => {
    e.preventDefault();
    const progress = document.getElementById("progress");
    const problem = document.getElementById("upload-problem");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/artworks/upload");
    xhr.setRequestHeader("x-csrf-token", upload.dataset.csrf);
    xhr.upload.onprogress = (p) => { if (p.lengthComputable) progress.value = (100 * p.loaded) / p.total; };
    xhr.onload = () => {
      if (xhr.status === 200 && xhr.responseURL.includes("/artworks")) {
        window.location = xhr.responseURL;
        return;
      }
      const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      const said = page.querySelector(".problem");
      problem.textContent = said ? said.textContent : xhr.status + " " + xhr.responseText;
      problem.hidden = false;
      progress.hidden = true;
    };
    xhr.onerror = () => { problem.textContent = "The upload did not reach the kiosk."; problem.hidden = false; };
    progress.hidden = false;
    problem.hidden = true;
    xhr.send(new FormData(upload));
  });
}
