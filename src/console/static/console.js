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
