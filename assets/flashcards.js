// Flashcard keys, installed by the card's js_on_load: Space flips, 1-4 grade (Again, Hard, Good, Easy).
// Keys are ignored while typing in a field, with modifier keys, or when the flashcards are not on screen.
element.addEventListener("click", () => trigger("click"));
element.addEventListener("keydown", (e) => {
  if (e.key === "Enter") { e.preventDefault(); trigger("click"); }
});
if (window.__fcKeys) {
  document.removeEventListener("keydown", window.__fcKeys, true);
  document.removeEventListener("keyup", window.__fcKeyUp, true);
}
const typing = (t) => t && t.closest &&
  t.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], [role='textbox']");
const target = (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing || typing(e.target)) return null;
  const card = document.getElementById("fc-card");
  if (!card || card.offsetParent === null) return null;  // tab not visible
  if (e.key === " " || e.code === "Space") {
    // Space on another focused control (a button, a link, a checkbox) keeps its usual meaning;
    // on a tab header (e.g. right after opening Flashcards) or our own buttons it flips.
    const ctl = e.target && e.target.closest && e.target.closest("button, a, [role='button'], input, label");
    const ours = ctl && (ctl.getAttribute("role") === "tab" || ctl.closest("#fc-card, #fc-flip, .fc-grade"));
    return ctl && !ours ? null : "fc-flip";
  }
  if (["1", "2", "3", "4"].includes(e.key)) return "fc-grade-" + e.key;
  return null;
};
const press = (id, tries) => {
  const el = document.getElementById(id);
  const btn = el && (el.tagName === "BUTTON" ? el : el.querySelector("button"));
  if (btn && !btn.disabled && btn.offsetParent !== null) { btn.click(); return; }
  // A grade typed right after Space waits for the flip to come back (grade buttons open then).
  const flipping = Date.now() - (window.__fcFlipAt || 0) < 3000;
  if (id !== "fc-flip" && flipping && tries > 0) setTimeout(() => press(id, tries - 1), 100);
};
window.__fcKeys = (e) => {
  const id = target(e);
  if (!id) return;
  e.preventDefault();  // no page scroll, no double click on a focused button
  e.stopPropagation();
  if (e.repeat) return;
  if (id === "fc-flip") window.__fcFlipAt = Date.now();
  press(id, 30);
};
window.__fcKeyUp = (e) => { if (target(e) === "fc-flip") e.preventDefault(); };
document.addEventListener("keydown", window.__fcKeys, true);
document.addEventListener("keyup", window.__fcKeyUp, true);
