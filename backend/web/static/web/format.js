// Times and sizes in the page's words.
import { t } from "./api.js";

export function expiresIn(iso, now = Date.now()) {
  const minutes = Math.floor((Date.parse(iso) - now) / 60000);
  if (!(minutes > 0)) return t("expired");
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? t("expires_in_hm", { h, m }) : t("expires_in_m", { m });
}

export function size(bytes) {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}
