// The playground page: the server renders everything; this swaps in the live parts and posts actions.
"use strict";

(function () {
  const body = document.body;
  let persona = body.dataset.persona;
  let busy = false;
  const seen = JSON.parse(sessionStorage.getItem("weerbaar-seen") || "{}");

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.from((root || document).querySelectorAll(selector)); }

  async function post(action) {
    busy = true;
    body.classList.add("busy");
    try {
      const response = await fetch("/act", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ as: persona }, action)),
      });
      if (!response.ok) {
        toast(await response.text());
        return null;
      }
      const answer = await response.json();
      if (answer.toast) toast(answer.toast);
      return answer;
    } finally {
      busy = false;
      body.classList.remove("busy");
      await refresh();
    }
  }

  function toast(text) {
    const box = $("#toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 3500);
  }

  function swap(id, html) {
    const element = document.getElementById(id);
    if (element.innerHTML === html) return false;
    element.innerHTML = html;
    return true;
  }

  async function refresh() {
    const response = await fetch("/live?as=" + encodeURIComponent(persona), { cache: "no-store" });
    if (!response.ok) return;
    const live = await response.json();
    swap("clock", live.clock);
    swap("personas", live.personas);
    swap("group-title", live.group_title);
    swap("private-title", live.private_title);
    for (const where of ["group", "private"]) {
      const box = document.getElementById(where + "-messages");
      if (swap(where + "-messages", live[where])) box.scrollTop = box.scrollHeight;
    }
    const groupForm = $('.composer[data-where="group"]');
    for (const control of $all("input, button", groupForm)) control.disabled = !live.group_enabled;
    const note = $(".note", groupForm);
    note.textContent = live.group_note;
    note.hidden = !live.group_note;
    commands = live.commands;
    seen[persona] = live.unread[persona];
    sessionStorage.setItem("weerbaar-seen", JSON.stringify(seen));
    for (const [key, count] of Object.entries(live.unread)) {
      const badge = $('[data-badge="' + key + '"]');
      const fresh = count - (seen[key] === undefined ? count : seen[key]);
      if (seen[key] === undefined) seen[key] = count;
      badge.textContent = fresh > 0 ? String(fresh) : "";
      badge.hidden = fresh <= 0;
    }
  }
  let commands = { group: [], private: [] };

  function switchTo(key) {
    persona = key;
    body.dataset.persona = key;
    history.replaceState(null, "", "/?as=" + encodeURIComponent(key));
    closePopovers();
    refresh();
  }

  function closePopovers() {
    for (const popover of $all(".popover")) popover.hidden = true;
  }

  function showCommands(form) {
    const menu = $(".commands-menu", form);
    menu.innerHTML = "";
    for (const command of commands[form.dataset.where] || []) {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "command";
      item.dataset.command = "/" + command.command;
      const name = document.createElement("strong");
      name.textContent = "/" + command.command;
      const description = document.createElement("span");
      description.textContent = command.description;
      item.append(name, description);
      menu.append(item);
    }
    menu.hidden = false;
  }

  // ---- the guided tour ----
  const steps = $all(".tour .step");
  let step = Math.min(Number(sessionStorage.getItem("weerbaar-step") || 1), steps.length);
  function showStep(number) {
    step = Math.max(1, Math.min(number, steps.length));
    sessionStorage.setItem("weerbaar-step", String(step));
    for (const element of steps) element.classList.toggle("current", Number(element.dataset.step) === step);
    $('[data-tour="back"]').disabled = step === 1;
    $('[data-tour="next"]').disabled = step === steps.length;
  }

  document.addEventListener("click", async (event) => {
    const target = event.target.closest("button, img.map");
    if (!target || target.disabled) return;
    const data = target.dataset;
    if (data.switch) return switchTo(data.switch);
    if (data.tour || data.goto) {
      showStep(data.goto ? Number(data.goto) : step + (data.tour === "next" ? 1 : -1));
      const wanted = steps[step - 1].dataset.persona;
      if (wanted !== persona) switchTo(wanted);
      return;
    }
    if (data.press !== undefined) {
      const where = target.closest(".pane").dataset.where;
      return post({ action: "press", where: where, message_id: Number(data.message), data: data.press });
    }
    if (data.link) return post({ action: "link", url: data.link });
    if (data.advance) return post({ action: "advance", step: data.advance });
    if (data.reset !== undefined) {
      sessionStorage.clear();
      await post({ action: "reset" });
      return location.reload();
    }
    if (data.language) {
      sessionStorage.clear();
      await post({ action: "reset", language: data.language });
      return location.reload();
    }
    if (data.open) {
      const pane = target.closest(".pane");
      const wasOpen = data.open === "commands"
        ? !$(".commands-menu", pane).hidden : !$('[data-picker="' + data.open + '"]', pane).hidden;
      closePopovers();
      if (wasOpen) return;
      if (data.open === "commands") return showCommands(target.closest("form"));
      $('[data-picker="' + data.open + '"]', pane).hidden = false;
      return;
    }
    if (data.command) {
      const form = target.closest("form");
      closePopovers();
      const input = $("input", form);
      input.value = data.command + " ";
      input.focus();
      return;
    }
    if (data.photo) {
      closePopovers();
      return post({ action: "photo", name: data.photo });
    }
    if (target.matches("img.map")) {
      const box = target.getBoundingClientRect();
      const x = (event.clientX - box.left) / box.width;
      const y = (event.clientY - box.top) / box.height;
      const north = Number(data.north), south = Number(data.south);
      const west = Number(data.west), east = Number(data.east);
      closePopovers();
      return post({ action: "location", latitude: north + (south - north) * y, longitude: west + (east - west) * x });
    }
  });

  document.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const input = $("input", form);
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    closePopovers();
    post({ action: "say", where: form.dataset.where, text: text });
  });

  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closePopovers(); });

  // ---- live updates from the server ----
  const events = new EventSource("/events");
  events.addEventListener("changed", () => { if (!busy) refresh(); });

  showStep(step);
  for (const box of $all(".messages")) box.scrollTop = box.scrollHeight;
  refresh();
})();
