// The board: a new critical case that nobody has taken is seen (the title counts them) and,
// if the user switched sound on, heard (a short tone). Nothing here is needed to use the page.
(function () {
  "use strict";
  const sound = document.getElementById("sound");
  const board = document.getElementById("board");
  if (!sound || !board) return;
  sound.checked = localStorage.getItem("faro.sound") === "on";
  sound.addEventListener("change", () => localStorage.setItem("faro.sound", sound.checked ? "on" : "off"));
  const baseTitle = document.title;
  let known = null;

  function critical() {
    return Array.from(board.querySelectorAll("tr.severity-critical.unacknowledged"))
      .map((row) => row.dataset.incident);
  }

  function tone() {
    const audio = new (window.AudioContext || window.webkitAudioContext)();
    const oscillator = audio.createOscillator();
    oscillator.frequency.value = 880;
    oscillator.connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.6);
  }

  function check() {
    const now = critical();
    document.title = now.length ? `(${now.length}) ${baseTitle}` : baseTitle;
    if (known !== null && sound.checked && now.some((id) => !known.includes(id))) tone();
    known = now;
  }

  check();
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === board) check();
  });
})();
