// One job as a card: live progress from its websocket (the token as subprotocol), then the
// result inline with download, rating, delete and its expiry. A held job waits on the same
// socket, so a moderator's approval moves the card on without a reload.
import { api, lang, resultLink, socketUrl, t, token } from "./api.js";
import { confirmDialog, toast } from "./ui.js";
import { el, expiresIn } from "./format.js";

const FINAL = new Set(["succeeded", "failed", "blocked", "cancelled", "expired"]);
// Which result a card shows first, by kind; the rest are downloads.
const SHOWN = ["video", "animation", "preview", "portrait", "picture", "avatar", "image", "sticker",
               "poster"];
// Kinds offered for download: the things themselves, not their previews.
const DOWNLOADS = ["video", "animation", "sticker", "portrait", "picture", "avatar", "image", "question"];

export class JobCard {
  constructor(job, { onGone } = {}) {
    this.id = job.id ?? job.job_id;
    this.job = { state: "queued", progress: 0, results: [], ...job, id: this.id };
    this.onGone = onGone;
    this.shownResults = "";
    this.retries = 0;
    this.build();
    this.render();
  }

  build() {
    this.title = el("strong", { class: "job-title" });
    this.badge = el("span", { class: "badge" });
    this.expiry = el("small", { class: "expiry" });
    this.fill = el("div", { class: "progress-fill" });
    this.bar = el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0",
                           "aria-valuemax": "100" }, this.fill);
    this.words = el("p", { class: "progress-text" });
    this.media = el("div", { class: "media" });
    this.problem = el("p", { class: "error", hidden: true });
    this.confirm = el("div", { class: "confirm", hidden: true });
    this.actions = el("div", { class: "actions" });
    this.element = el("article", { class: "job-card", dataset: { jobId: this.id } },
      el("header", {}, el("div", { class: "job-head" }, this.title, this.badge), this.expiry),
      this.bar, this.words, this.problem, this.confirm, this.media, this.actions);
  }

  get final() { return FINAL.has(this.job.state); }

  update(payload) {
    this.job = { ...this.job, ...payload };
    this.render();
  }

  render() {
    const job = this.job;
    const done = job.state === "succeeded";
    const progress = done ? 100 : Math.max(0, Math.min(100, job.progress ?? 0));
    this.element.dataset.state = job.state;
    this.title.textContent = t(`mode_${job.mode}`) !== `mode_${job.mode}` ? t(`mode_${job.mode}`)
      : (job.mode ?? "");
    this.badge.textContent = t(`state_${job.state}`);
    this.badge.className = `badge badge-${job.state}`;
    this.fill.style.width = `${progress}%`;
    this.bar.setAttribute("aria-valuenow", String(progress));
    this.bar.hidden = FINAL.has(job.state) && !done;
    // A held job's own message is the moderation service's English sentence: say it ourselves.
    const said = job.state === "held" ? t("held_words")
      : (lang === "en" ? job.message : job.message_zh) || job.message || t(`state_${job.state}`);
    this.words.textContent = job.state === "held" ? said : `${said} · ${progress} %`;
    this.words.hidden = job.state === "awaiting_confirmation";
    if (job.expires_at) this.expiry.dataset.expires = job.expires_at;
    this.expiry.textContent = job.expires_at ? expiresIn(job.expires_at) : "";
    const error = job.error;
    this.problem.hidden = !error;
    this.problem.textContent = error ? `${t("error_" + error.code) !== "error_" + error.code
      ? t("error_" + error.code) : error.message} (${error.code})` : "";
    this.renderConfirm();
    this.renderResults();
    this.renderActions();
  }

  renderConfirm() {
    const job = this.job;
    const asking = job.state === "awaiting_confirmation";
    this.confirm.hidden = !asking;
    if (!asking) { this.confirm.replaceChildren(); return; }
    const meta = job.metadata ?? {};
    const key = `${job.attempt ?? job.attempts}:${job.message}`;
    if (this.confirm.dataset.key === key) return;
    this.confirm.dataset.key = key;
    const correction = el("input", { name: "correction", maxlength: "100",
                                     placeholder: t("correct_placeholder") });
    const question = (job.results ?? []).find((r) => r.kind === "question");
    const audio = el("audio", { controls: true, class: "question-audio" });
    if (question) resultLink(question.id).then((url) => { audio.src = url; }).catch(() => {});
    const heard = meta.source === "voice" ? meta.transcript : job.text;
    this.confirm.replaceChildren(...[
      heard ? el("p", {}, el("span", { class: "label",
                                       text: t(meta.source === "voice" ? "we_heard" : "you_wrote") }),
                  el("q", { class: "transcript", text: heard })) : null,
      el("p", {}, el("span", { class: "label", text: t("our_question") }),
         el("strong", { class: "question", text: meta.question || job.message || "" })),
      question ? audio : null,
      el("div", { class: "row wrap" },
         el("button", { type: "button", class: "primary small", "data-act": "confirm",
                        text: t("confirm_yes"), onclick: () => this.answer({ confirm: true }) }),
         el("button", { type: "button", class: "secondary small", "data-act": "cancel",
                        text: t("confirm_no"), onclick: () => this.answer({ confirm: false }) })),
      el("form", { class: "row correction", onsubmit: (e) => {
          e.preventDefault();
          if (correction.value.trim()) this.answer({ text: correction.value.trim() });
        } }, correction, el("button", { class: "secondary small", "data-act": "correct",
                                         text: t("correct") }))].filter(Boolean));
  }

  async answer(body) {
    try {
      this.update(await api("POST", `/jobs/${this.id}/confirm`, body));
      this.watch();
    } catch (error) { toast(error.message, true); }
  }

  renderResults() {
    const results = (this.job.state === "succeeded" ? this.job.results : []) ?? [];
    const key = results.map((r) => r.id).join(",");
    if (key === this.shownResults) return;
    this.shownResults = key;
    this.media.replaceChildren();
    this.main = null;
    if (!results.length) return;
    const byKind = Object.fromEntries(results.map((r) => [r.kind, r]));
    const kind = SHOWN.find((k) => byKind[k]);
    this.main = kind ? byKind[kind] : null;
    if (this.main) this.showMedia(this.main, byKind.poster);
    else if (byKind.identity) this.media.append(el("p", { class: "done-note", text: t("identity_ready") }));
  }

  async showMedia(result, poster) {
    const box = el("div", { class: "media-box loading" });
    this.media.append(box);
    try {
      const url = await resultLink(result.id);
      let node;
      if (result.kind === "video" || result.format === "mp4") {
        node = el("video", { controls: true, playsinline: true, loop: true, src: url, class: "result" });
        if (poster) resultLink(poster.id).then((p) => { node.poster = p; }).catch(() => {});
      } else {
        node = el("img", { src: url, alt: t(`mode_${this.job.mode}`), class: "result",
                           width: result.width || undefined, height: result.height || undefined });
        if (result.kind === "sticker" || result.kind === "animation") box.classList.add("checker");
      }
      node.addEventListener("load", () => box.classList.remove("loading"));
      node.addEventListener("loadeddata", () => box.classList.remove("loading"));
      box.append(node);
    } catch (error) {
      box.classList.remove("loading");
      box.append(el("p", { class: "error", text: error.message }));
    }
  }

  renderActions() {
    const job = this.job;
    const key = `${job.state}:${this.shownResults}`;
    if (this.actions.dataset.key === key) return;
    this.actions.dataset.key = key;
    const parts = [];
    if (job.state === "succeeded" && this.main) {
      const stars = el("div", { class: "stars", role: "radiogroup", "aria-label": t("rate") },
        [1, 2, 3, 4, 5].map((score) => el("button", {
          type: "button", class: "star", "data-score": String(score), "aria-label": `${score}`,
          text: "★", onclick: () => this.rate(score, stars) })));
      parts.push(stars);
      const downloads = (job.results ?? []).filter((r) => DOWNLOADS.includes(r.kind));
      for (const result of downloads) {
        parts.push(el("button", { type: "button", class: "secondary small download",
          "data-kind": result.kind, text: `${t("download")} ${result.format.toUpperCase()}`,
          onclick: () => this.download(result) }));
      }
    }
    parts.push(el("button", { type: "button", class: "ghost small delete", text: t("delete"),
                             onclick: () => this.remove() }));
    this.actions.replaceChildren(...parts);
  }

  async rate(score, stars) {
    try {
      await api("POST", `/results/${this.main.id}/rating`, { score });
      stars.querySelectorAll(".star").forEach((star) =>
        star.classList.toggle("on", Number(star.dataset.score) <= score));
      stars.dataset.rated = String(score);
      toast(t("thanks_rating"));
    } catch (error) { toast(error.message, true); }
  }

  async download(result) {
    try {
      const url = await resultLink(result.id);
      const link = el("a", { href: url, download: `mengxiang-${result.kind}.${result.format}` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) { toast(error.message, true); }
  }

  async remove() {
    if (!(await confirmDialog(t("confirm_delete_job")))) return;
    try {
      await api("DELETE", `/jobs/${this.id}`);
    } catch (error) {
      if (error.status !== 404) { toast(error.message, true); return; }
    }
    this.close();
    this.element.remove();
    toast(t("deleted"));
    this.onGone?.(this);
  }

  // Follow the job on its own socket until it ends; reconnect (after a fresh read) if the
  // connection drops while it still moves.
  watch() {
    if (this.final || this.socket || !token.get()) return;
    const socket = new WebSocket(socketUrl(`/ws/jobs/${this.id}/`), ["token", token.get()]);
    this.socket = socket;
    socket.addEventListener("open", () => { this.element.dataset.live = "open"; });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      this.retries = 0;
      const { type, job_id, attempt, ...moving } = event;
      const fresh = this.job.state !== event.state;
      this.update({ ...moving, attempt });
      if (fresh && (event.state === "awaiting_confirmation" || event.state === "succeeded")) {
        this.refresh().then(() => window.dispatchEvent(
          new CustomEvent(`mx:job-${event.state}`, { detail: this.job })));
      }
    });
    socket.addEventListener("close", (close) => {
      this.socket = null;
      delete this.element.dataset.live;
      if (this.closed || this.final || close.code === 4401 || close.code === 4404) return;
      this.retries += 1;
      setTimeout(() => this.refresh().then(() => this.watch()), Math.min(8000, 500 * 2 ** this.retries));
    });
  }

  async refresh() {
    try {
      this.update(await api("GET", `/jobs/${this.id}`));
    } catch (error) {
      if (error.status === 404) { this.close(); this.element.remove(); this.onGone?.(this); }
    }
  }

  close() {
    this.closed = true;
    this.socket?.close(1000);
    this.socket = null;
  }
}

// Cards on screen get their expiry rewritten every half minute.
setInterval(() => {
  document.querySelectorAll("[data-expires]").forEach((node) => {
    node.textContent = expiresIn(node.dataset.expires);
  });
}, 30000);
