// The API as the page uses it: the token in localStorage, errors as ApiError with the API's
// stable code and its message (in the page's language where the server has one).

const TOKEN_KEY = "mx.token";
export const lang = document.body.dataset.lang || "zh-hans";
export const words = JSON.parse(document.getElementById("words").textContent);

export function t(key, values = {}) {
  const text = words[key] ?? key;
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

export async function api(method, path, body) {
  const headers = { "Accept-Language": lang === "en" ? "en" : "zh-Hans" };
  const saved = token.get();
  if (saved) headers.Authorization = `Token ${saved}`;
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "network", t("network_error"));
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? data?.data?.error;
    if (response.status === 401) window.dispatchEvent(new Event("mx:signed-out"));
    throw new ApiError(response.status, error?.code ?? "http_" + response.status,
                       error?.message ?? data?.message ?? t("server_error"));
  }
  return data;
}

export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

// The short-lived URL of a result, for <img>/<video>/<audio>, which cannot send the token.
export async function resultLink(resultId) {
  return (await api("GET", `/download/${resultId}?link=1`)).url;
}

export async function uploadFile(file, name) {
  const form = new FormData();
  form.append("file", file, name ?? file.name ?? "file");
  return api("POST", "/upload", form);
}
