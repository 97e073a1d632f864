// Record a line with the browser's microphone (MediaRecorder) and upload it as audio; the
// server sniffs the container (WebM/Opus from Chromium, MP4/AAC from Safari) and decodes it.
import { t, uploadFile } from "./api.js";
import { el } from "./format.js";
import { toast } from "./ui.js";

export class Recorder {
  constructor(box) {
    this.upload = null;
    this.button = el("button", { type: "button", class: "record", text: `● ${t("record")}`,
                                 onclick: () => (this.media ? this.stop() : this.start()) });
    this.status = el("span", { class: "record-status hint" });
    this.player = el("audio", { controls: true, hidden: true });
    this.clearButton = el("button", { type: "button", class: "ghost small", hidden: true,
                                      text: t("discard"), onclick: () => this.clear() });
    box.replaceChildren(el("div", { class: "row wrap recorder-row" }, this.button, this.status,
                           this.clearButton), this.player);
    if (!(navigator.mediaDevices?.getUserMedia && window.MediaRecorder)) {
      this.button.disabled = true;
      this.status.textContent = t("no_microphone");
    }
  }

  async start() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      toast(t("microphone_refused"), true);
      return;
    }
    const chunks = [];
    this.media = new MediaRecorder(stream);
    this.media.addEventListener("dataavailable", (e) => e.data.size && chunks.push(e.data));
    this.media.addEventListener("stop", () => {
      stream.getTracks().forEach((track) => track.stop());
      this.finish(new Blob(chunks, { type: this.media.mimeType || "audio/webm" }));
      this.media = null;
    });
    this.media.start();
    this.started = Date.now();
    this.button.classList.add("on");
    this.button.textContent = `■ ${t("stop")}`;
    this.tick = setInterval(() => {
      this.status.textContent = t("recording_s", { s: Math.round((Date.now() - this.started) / 1000) });
    }, 250);
  }

  stop() { this.media?.stop(); }

  async finish(blob) {
    clearInterval(this.tick);
    this.button.classList.remove("on");
    this.button.textContent = `● ${t("record_again")}`;
    this.player.src = URL.createObjectURL(blob);
    this.player.hidden = false;
    this.status.textContent = t("uploading");
    const extension = blob.type.includes("mp4") ? "m4a" : blob.type.includes("ogg") ? "ogg" : "webm";
    try {
      this.upload = await uploadFile(blob, `recording.${extension}`);
      this.status.textContent = t("recorded_s", { s: (this.upload.duration ?? 0).toFixed(1) });
      this.clearButton.hidden = false;
    } catch (error) {
      this.upload = null;
      this.status.textContent = "";
      toast(error.message, true);
    }
  }

  clear() {
    this.upload = null;
    this.player.hidden = true;
    this.player.removeAttribute("src");
    this.status.textContent = "";
    this.clearButton.hidden = true;
    this.button.textContent = `● ${t("record")}`;
  }
}
