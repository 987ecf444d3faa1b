// xmpcull review: keyboard-first culling. No libraries, no build step, nothing from the network.
(function () {
  "use strict";
  const body = document.body;
  const readOnly = body.dataset.readOnly === "true";
  const tokenMeta = document.querySelector('meta[name="xmpcull-token"]');
  const token = tokenMeta ? tokenMeta.content : "";
  const errorBox = document.getElementById("error");
  const help = document.getElementById("help");
  const loupe = document.getElementById("loupe");
  const LABEL_KEYS = { "6": "Red", "7": "Yellow", "8": "Green", "9": "Blue" };
  let focus = 0;

  function cards() { return Array.from(document.querySelectorAll("article.card")); }

  function setFocus(index, scroll) {
    const all = cards();
    if (!all.length) return;
    focus = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((c, i) => c.classList.toggle("focused", i === focus));
    const card = all[focus];
    if (scroll !== false) card.scrollIntoView({ block: "nearest", inline: "nearest" });
    card.focus({ preventScroll: true });
    sessionStorage.setItem("xmpcull-focus:" + location.pathname + location.search, String(focus));
  }

  function current() { return cards()[focus]; }

  function move(step) {
    const all = cards();
    const next = focus + step;
    if (next >= all.length && body.dataset.next) { sessionStorage.setItem("xmpcull-start", "first"); location.href = body.dataset.next; return; }
    if (next < 0 && body.dataset.prev) { sessionStorage.setItem("xmpcull-start", "last"); location.href = body.dataset.prev; return; }
    setFocus(next);
  }

  function moveRow(step) {
    const all = cards();
    const row = all[focus] && all[focus].closest("section.row");
    const rows = Array.from(document.querySelectorAll("section.row"));
    const target = rows[rows.indexOf(row) + step];
    if (!target) { move(step); return; }
    setFocus(all.indexOf(target.querySelector("article.card")));
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(() => { errorBox.hidden = true; }, 8000);
  }

  async function post(url, payload) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Xmpcull-Token": token },
        body: JSON.stringify(payload),
        credentials: "same-origin",
      });
    } catch (err) {
      showError("Not written: the review server cannot be reached (" + err + ")");
      return;
    }
    let data = {};
    try { data = await response.json(); } catch (err) { data = { error: "unreadable answer (" + response.status + ")" }; }
    if (!response.ok || data.error) { showError(data.error || ("Not written (" + response.status + ")")); return; }
    errorBox.hidden = true;
    (data.cards || []).forEach(replaceCard);
  }

  function replaceCard(fragment) {
    const old = document.querySelectorAll('article.card[data-id="' + fragment.id + '"]');
    old.forEach((card) => {
      const shown = card.dataset.shown;
      const holder = document.createElement("div");
      holder.innerHTML = fragment.html.trim();
      const fresh = holder.firstElementChild;
      fresh.dataset.shown = shown;
      showProposal(fresh, Number(shown));
      card.replaceWith(fresh);
    });
    setFocus(focus, false);
  }

  function decide(action, value) {
    const card = current();
    if (!card || readOnly) return;
    post("/api/decide", { item: Number(card.dataset.id), action: action, value: value, view: body.dataset.view });
  }

  function showProposal(card, index) {
    const count = Number(card.dataset.proposals || 0);
    if (!count) return;
    const shown = ((index % count) + count) % count;
    card.dataset.shown = String(shown);
    card.querySelectorAll(".crop-box, .proposal").forEach((el) => el.classList.toggle("shown", Number(el.dataset.index) === shown));
  }

  function openLoupe() {
    const card = current();
    if (!card) return;
    const img = loupe.querySelector("img");
    img.src = card.querySelector("img").dataset.big;
    loupe.querySelector(".caption").textContent = card.querySelector(".name").textContent;
    loupe.hidden = false;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target && ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName)) return;
    const key = event.key;
    if (key === "Escape") { help.hidden = true; loupe.hidden = true; return; }
    if (key === "?") { help.hidden = !help.hidden; event.preventDefault(); return; }
    if (!help.hidden) return;
    let handled = true;
    // j / k move (next / previous); Shift+K is "make keeper", so the two never collide.
    if (key === "ArrowRight" || key === "j") move(1);
    else if (key === "ArrowLeft" || key === "k") move(-1);
    else if (key === "ArrowDown") moveRow(1);
    else if (key === "ArrowUp") moveRow(-1);
    else if (key === "Enter") { if (loupe.hidden) openLoupe(); else loupe.hidden = true; }
    else if (readOnly) handled = false;
    else if (/^[0-5]$/.test(key)) decide("rating", Number(key));
    else if (LABEL_KEYS[key]) decide("label", LABEL_KEYS[key]);
    else if (key === "p" || key === "P") decide("flag", "pick");
    else if (key === "x" || key === "X") decide("flag", "reject");
    else if (key === "K") decide("keeper");
    else if (key === "b" || key === "B") decide("keep");
    else if (key === "v" || key === "V") { const c = current(); if (c) showProposal(c, Number(c.dataset.shown) + 1); }
    else if (key === "c") {
      // Only a crop that is drawn (the Crops view) can be accepted: never one the person has not seen.
      const c = current();
      if (c && c.querySelector(".crop-box.shown")) decide("crop", Number(c.dataset.shown));
      else showError("No crop shown here: accept crops in the Crops view");
    }
    else if (key === "C") decide("crop", "none");
    else if (key === "u" || key === "U") post("/api/undo", { view: body.dataset.view });
    else handled = false;
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const card = event.target.closest("article.card");
    if (!card) return;
    setFocus(cards().indexOf(card), false);
    const button = event.target.closest("button");
    if (!button) { if (event.detail === 2) openLoupe(); return; }
    if (button.classList.contains("proposal")) { showProposal(card, Number(button.dataset.index)); return; }
    const action = button.dataset.action;
    if (action === "crop") decide("crop", Number(card.dataset.shown));
    else if (action) decide(action, button.dataset.value);
  });
  document.querySelectorAll("form.filters select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  document.querySelector(".help-button").addEventListener("click", () => { help.hidden = !help.hidden; });
  loupe.addEventListener("click", () => { loupe.hidden = true; });
  help.addEventListener("click", () => { help.hidden = true; });

  const start = sessionStorage.getItem("xmpcull-start");
  sessionStorage.removeItem("xmpcull-start");
  const remembered = Number(sessionStorage.getItem("xmpcull-focus:" + location.pathname + location.search) || 0);
  setFocus(start === "last" ? cards().length - 1 : start === "first" ? 0 : remembered, false);
})();
