// Small pieces of the page's furniture: the toast and the confirmation dialog.
let toastTimer;

function hideToast() {
  clearTimeout(toastTimer);
  document.getElementById("toast").hidden = true;
}

// A toast sits over the bottom of the screen, where a phone's buttons are: a tap on it, or
// typing to put right what it said, puts it away at once.
document.getElementById("toast").addEventListener("click", hideToast);
document.addEventListener("input", () => {
  if (document.getElementById("toast").className === "error") hideToast();
});

export function toast(text, isError = false) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.className = isError ? "error" : "";
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, isError ? 6000 : 2500);
}

export function confirmDialog(text, yesLabel) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-text").textContent = text;
  const yes = document.getElementById("confirm-yes");
  yes.dataset.label ??= yes.textContent;
  yes.textContent = yesLabel ?? yes.dataset.label;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}
