// The web client: hash routes, one screen each (/#/sticker, /#/things, /#/job/<id>), all data
// from the public API with the user's token.
import { api, t, token, uploadFile } from "./api.js";
import { el, expiresIn, size } from "./format.js";
import { JobCard } from "./jobcard.js";
import { Recorder } from "./recorder.js";
import { confirmDialog, toast } from "./ui.js";

const SCREENS = ["signin", "home", "anime", "sticker", "portrait", "talking", "voice", "things", "job"];
const loaded = new Set();
const cards = new Map();
let photo = null; // the last photo uploaded, shared by every screen that needs one

// --- routing --------------------------------------------------------------------------------

function route() {
  const [name = "", arg] = location.hash.replace(/^#\/?/, "").split("/");
  let screen = SCREENS.includes(name) ? name : "home";
  if (!token.get()) screen = "signin";
  else if (screen === "signin") screen = "home";
  document.body.classList.toggle("signed-in", Boolean(token.get()));
  for (const section of document.querySelectorAll(".screen")) {
    section.hidden = section.dataset.screen !== screen;
  }
  document.body.dataset.current = screen;
  window.scrollTo(0, 0);
  ENTER[screen]?.(arg);
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function once(name, load) {
  if (loaded.has(name)) return;
  loaded.add(name);
  load().catch((error) => { loaded.delete(name); toast(error.message, true); });
}

// --- jobs -----------------------------------------------------------------------------------

function showJob(job, container, { prepend = true } = {}) {
  const id = job.id ?? job.job_id;
  cards.get(id)?.close();
  const card = new JobCard(job, { onGone: () => cards.delete(id) });
  cards.set(id, card);
  if (prepend) container.prepend(card.element); else container.append(card.element);
  if (!card.final) card.watch();
  return card;
}

async function generate(body, screen) {
  const accepted = await api("POST", "/generate", body);
  const job = await api("GET", `/jobs/${accepted.job_id}`);
  const card = showJob(job, document.querySelector(`[data-jobs="${screen}"]`));
  card.element.scrollIntoView({ behavior: "smooth", block: "center" });
  return job;
}

function submitting(form, work) {
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit], button:not([type])");
    button.disabled = true;
    try { await work(new FormData(form)); } catch (error) { toast(error.message, true); }
    finally { button.disabled = false; }
  });
}

function needPhoto() {
  if (!photo) throw new Error(t("choose_photo_first"));
  return photo.upload.id;
}

// --- the photo picker on every screen that takes a photo ---------------------------------------

function photoPickers() {
  for (const box of document.querySelectorAll(".photo-picker")) {
    const input = el("input", { type: "file", accept: "image/*", class: "photo-input" });
    const preview = el("img", { alt: "", class: "photo-preview", hidden: true });
    const status = el("p", { class: "photo-status hint", text: t("photo_hint") });
    box.replaceChildren(el("label", { class: "photo-drop" }, input, preview,
      el("span", { class: "photo-cta" }, el("span", { class: "photo-icon", text: "📷" }),
         el("span", { class: "photo-label", text: t("choose_photo") }))), status);
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      status.textContent = t("uploading");
      box.classList.add("busy");
      try {
        const upload = await uploadFile(file);
        photo = { upload, url: URL.createObjectURL(file) };
        window.dispatchEvent(new Event("mx:photo"));
      } catch (error) {
        status.textContent = error.message;
        toast(error.message, true);
      } finally {
        box.classList.remove("busy");
        input.value = "";
      }
    });
  }
  window.addEventListener("mx:photo", () => {
    for (const box of document.querySelectorAll(".photo-picker")) {
      box.classList.add("has-photo");
      const preview = box.querySelector(".photo-preview");
      preview.src = photo.url;
      preview.hidden = false;
      box.querySelector(".photo-label").textContent = t("change_photo");
      const faces = photo.upload.faces;
      box.querySelector(".photo-status").textContent = [
        faces === 0 ? t("no_face") : faces === 1 ? t("one_face") : t("n_faces", { n: faces }),
        photo.upload.moderation === "under_review" ? t("under_review") : null,
        expiresIn(photo.upload.expires_at)].filter(Boolean).join(" · ");
    }
  });
}

// --- screens --------------------------------------------------------------------------------

const ENTER = {
  anime() {
    once("styles", async () => {
      const { results } = await api("GET", "/anime/styles");
      document.getElementById("anime-styles").replaceChildren(...results.map((style) =>
        el("label", {}, el("input", { type: "radio", name: "style", value: style.name,
                                      checked: style.default }),
           el("span", { text: t(`style_${style.name}`) !== `style_${style.name}`
             ? t(`style_${style.name}`) : style.name.replace(/_/g, " ") }))));
    });
  },
  sticker() {
    once("sticker-templates", async () => {
      const { results } = await api("GET", "/templates?kind=sticker");
      document.getElementById("sticker-templates").replaceChildren(...results.map((tpl, i) => {
        const swatch = el("span", { class: "swatch" });
        const background = tpl.spec?.background;
        const colours = background?.radial ?? background?.linear ?? (background?.color ? [background.color, background.color] : null);
        swatch.style.background = colours ? `radial-gradient(circle, ${colours[0]}, ${colours[colours.length - 1]})`
          : "repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 0 0 / 10px 10px";
        swatch.style.color = tpl.spec?.fill ?? "#fff";
        swatch.style.webkitTextStroke = `1px ${tpl.spec?.outline ?? "#333"}`;
        swatch.textContent = "字";
        return el("label", {}, el("input", { type: "radio", name: "template_id", value: tpl.id,
                                             checked: i === 0 }),
                  el("span", {}, swatch, tpl.name));
      }));
    });
  },
  portrait() {
    once("portrait-templates", loadPortraitTemplates);
    loadIdentities().catch((error) => toast(error.message, true));
  },
  talking() {},
  voice() {},
  things() { loadThings().catch((error) => toast(error.message, true)); },
  async job(id) {
    const box = document.getElementById("job-single");
    box.replaceChildren();
    try { showJob(await api("GET", `/jobs/${id}`), box); } catch (error) { toast(error.message, true); }
  },
};

// --- portraits ------------------------------------------------------------------------------

const portrait = { checked: [], template: null, identities: [] };
const PORTRAIT_PHOTOS_MIN = 5;

async function loadPortraitTemplates() {
  const { results } = await api("GET", "/templates?kind=portrait");
  const grid = document.getElementById("portrait-templates");
  if (!results.length) { grid.replaceChildren(el("p", { class: "hint", text: t("no_portrait_templates") })); return; }
  grid.replaceChildren(...results.map((tpl) => el("label", { class: "template-pick" },
    el("input", { type: "radio", name: "template", value: tpl.id,
                  onchange: () => pickTemplate({ id: tpl.id, faces: tpl.faces || 1, library: true }) }),
    el("img", { src: tpl.preview_url, alt: tpl.name, loading: "lazy" }),
    el("span", { text: `${tpl.name} · ${t("n_people", { n: tpl.faces })}` }))));
}

async function loadIdentities() {
  const identities = await api("GET", "/portraits/models");
  portrait.identities = identities.filter((identity) => identity.state === "succeeded");
  renderIdentitySlots();
}

function pickTemplate(template) {
  portrait.template = template;
  renderIdentitySlots();
}

function renderIdentitySlots() {
  const slots = document.getElementById("portrait-identities");
  const count = portrait.template?.faces ?? 1;
  if (!portrait.identities.length) {
    slots.replaceChildren(el("p", { class: "hint", text: t("learn_face_first") }));
    return;
  }
  slots.replaceChildren(...Array.from({ length: count }, (_, i) => el("label", { class: "field" },
    el("span", { text: t("person_n", { n: i + 1 }) }),
    el("select", { name: "identity" }, portrait.identities.map((identity) =>
      el("option", { value: identity.model_id, text: identity.name || identity.model_id.slice(0, 8) }))))));
}

function portraitScreen() {
  const checkForm = document.getElementById("portrait-check-form");
  const list = document.getElementById("portrait-checks");
  const train = document.getElementById("portrait-train");
  checkForm.photos.addEventListener("change", async () => {
    const files = [...checkForm.photos.files].slice(0, 20);
    checkForm.photos.value = "";
    portrait.checked = [];
    train.disabled = true;
    const rows = files.map((file) => el("li", { class: "check pending" },
      el("img", { src: URL.createObjectURL(file), alt: "" }),
      el("span", { class: "check-text", text: t("uploading") })));
    list.replaceChildren(...rows);
    const ids = [];
    for (const [i, file] of files.entries()) {
      try {
        const upload = await uploadFile(file);
        ids.push(upload.id);
        rows[i].dataset.uploadId = upload.id;
        rows[i].querySelector(".check-text").textContent = t("checking");
      } catch (error) {
        rows[i].className = "check bad";
        rows[i].querySelector(".check-text").textContent = error.message;
      }
    }
    if (!ids.length) return;
    try {
      const { data } = await api("POST", "/api/v1/aigc_images/check", { images: ids });
      const byId = new Map(ids.map((id, i) => [id, data.check_results[i]]));
      for (const row of rows) {
        const result = byId.get(row.dataset.uploadId);
        if (!result) continue;
        const ok = result.code === 1;
        row.className = `check ${ok ? "ok" : "bad"}`;
        // Our words for PAI's code, then PAI's own message, as its SDK's users know it.
        row.querySelector(".check-text").replaceChildren(
          `${ok ? "✓" : "✗"} ${t(`check_${result.code}`)}${ok && !result.frontal ? ` · ${t("not_frontal")}` : ""}`,
          el("small", { class: "pai-message", text: result.message }));
        if (ok) portrait.checked.push(row.dataset.uploadId);
      }
      trainable();
    } catch (error) { toast(error.message, true); }
  });
  function trainable() {
    const enough = portrait.checked.length >= PORTRAIT_PHOTOS_MIN;
    train.disabled = !enough;
    document.getElementById("portrait-count").textContent =
      t("n_passed", { n: portrait.checked.length, min: PORTRAIT_PHOTOS_MIN });
  }
  // PAI's training route: it makes the identity (model_id) that portraits are made with.
  submitting(checkForm, async (data) => {
    const { data: trained } = await api("POST", "/api/v1/aigc_images/train",
      { images: portrait.checked, model_name: data.get("model_name").trim() });
    const identity = (await api("GET", "/portraits/models")).find((i) => i.model_id === trained.model_id);
    showJob(await api("GET", `/jobs/${identity.job_id}`), document.querySelector('[data-jobs="portrait_train"]'));
  });
  window.addEventListener("mx:job-succeeded", (event) => {
    if (event.detail.mode === "portrait_train") loadIdentities().catch(() => {});
  });

  const createForm = document.getElementById("portrait-create-form");
  createForm.own_template.addEventListener("change", async () => {
    const file = createForm.own_template.files[0];
    if (!file) return;
    try {
      const upload = await uploadFile(file);
      createForm.querySelectorAll("input[name=template]").forEach((r) => { r.checked = false; });
      pickTemplate({ id: upload.id, faces: Math.max(1, upload.faces ?? 1), library: false });
      toast(t("template_uploaded", { n: upload.faces ?? 0 }));
    } catch (error) { toast(error.message, true); }
  });
  submitting(createForm, async () => {
    if (!portrait.template) throw new Error(t("pick_template_first"));
    const identities = [...createForm.querySelectorAll("select[name=identity]")].map((s) => s.value);
    if (!identities.length) throw new Error(t("learn_face_first"));
    if (portrait.template.library) {
      const { data } = await api("POST", "/api/v1/aigc_images/create",
        { model_ids: identities, template_image: portrait.template.id, async: true });
      showJob(await api("GET", `/jobs/${data.id}`), document.querySelector('[data-jobs="portrait"]'));
    } else {
      await generate({ mode: "portrait", inputs: { template: portrait.template.id },
                       params: { identities } }, "portrait");
    }
  });
}

// --- my things ------------------------------------------------------------------------------

async function loadThings() {
  const [jobs, uploads] = await Promise.all([api("GET", "/jobs?limit=50"), api("GET", "/uploads?limit=100")]);
  const box = document.getElementById("things-jobs");
  box.replaceChildren();
  for (const job of jobs.results) showJob(job, box, { prepend: false });
  document.getElementById("things-jobs-empty").hidden = jobs.results.length > 0;
  const list = document.getElementById("things-uploads");
  list.replaceChildren(...uploads.results.map((upload) => {
    const row = el("li", { class: "upload-row", dataset: { uploadId: upload.id } },
      el("span", { class: "upload-icon", text: upload.kind === "audio" ? "🎙️" : "🖼️" }),
      el("span", { class: "upload-what" },
         el("strong", { text: upload.kind === "audio"
           ? t("recording_of", { s: (upload.duration ?? 0).toFixed(1) })
           : t("photo_of", { w: upload.width, h: upload.height }) }),
         el("small", { text: [upload.format.toUpperCase(), size(upload.size_bytes),
                              upload.moderation === "under_review" ? t("under_review") : null]
                              .filter(Boolean).join(" · ") }),
         el("small", { class: "expiry", dataset: { expires: upload.expires_at },
                       text: expiresIn(upload.expires_at) })),
      el("button", { type: "button", class: "ghost small delete", text: t("delete"), onclick: async () => {
        if (!(await confirmDialog(t("confirm_delete_upload")))) return;
        try {
          await api("DELETE", `/uploads/${upload.id}`);
          row.remove();
          if (photo?.upload.id === upload.id) photo = null;
          toast(t("deleted"));
        } catch (error) { toast(error.message, true); }
      } }));
    return row;
  }));
  document.getElementById("things-uploads-empty").hidden = uploads.results.length > 0;
}

// --- wiring ---------------------------------------------------------------------------------

function wire() {
  photoPickers();
  document.getElementById("signin-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const login = await api("POST", "/auth/dev", { openid: event.target.openid.value.trim() });
      token.set(login.token);
      go("#/");
    } catch (error) { toast(error.message, true); }
  });
  // Where dev login is off: a one-time code from the mini-program (POST /auth/browser-code there).
  submitting(document.getElementById("code-form"), async (data) => {
    const login = await api("POST", "/auth/browser-code/redeem", { code: data.get("code").trim() });
    token.set(login.token);
    document.getElementById("code-form").reset();
    go("#/");
  });
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  window.addEventListener("mx:signed-out", () => { if (token.get()) signOut(t("signed_out_expired")); });
  document.getElementById("delete-everything").addEventListener("click", async () => {
    if (!(await confirmDialog(t("confirm_delete_everything"), t("delete_everything")))) return;
    try {
      await api("DELETE", "/me");
      signOut(t("everything_deleted"));
    } catch (error) { toast(error.message, true); }
  });

  const anime = document.getElementById("anime-form");
  anime.strength.addEventListener("input", () => {
    document.getElementById("anime-strength-value").textContent = anime.strength.value;
  });
  submitting(anime, async (data) => {
    const params = { mode: data.get("mode"), strength: Number(data.get("strength")) };
    if (data.get("style")) params.style = data.get("style");
    await generate({ mode: "anime", inputs: { photo: needPhoto() }, params }, "anime");
  });

  const sticker = document.getElementById("sticker-form");
  sticker.querySelectorAll("[data-text]").forEach((chip) => chip.addEventListener("click", () => {
    sticker.text.value = chip.dataset.text;
  }));
  submitting(sticker, async (data) => {
    const params = { style: data.get("style"), animated: data.get("animated") === "on",
                     caption: data.get("caption") === "on" };
    if (data.get("template_id")) params.template_id = data.get("template_id");
    await generate({ mode: "sticker", inputs: { photo: needPhoto() }, text: data.get("text").trim(),
                     params }, "sticker");
  });

  const talking = document.getElementById("talking-form");
  const talkingVoice = new Recorder(talking.querySelector("[data-recorder]"));
  submitting(talking, async (data) => {
    const inputs = { photo: needPhoto() };
    const body = { mode: "talking", inputs, params: { emotion: data.get("emotion"), voice: data.get("voice") } };
    if (talkingVoice.upload) inputs.voice = talkingVoice.upload.id;
    else if (data.get("text").trim()) body.text = data.get("text").trim();
    else throw new Error(t("say_or_type"));
    await generate(body, "talking");
  });

  const voice = document.getElementById("voice-form");
  const voiceRecording = new Recorder(voice.querySelector("[data-recorder]"));
  submitting(voice, async (data) => {
    const body = { mode: "voice", params: { language: data.get("language") } };
    if (voiceRecording.upload) body.inputs = { voice: voiceRecording.upload.id };
    else if (data.get("text").trim()) body.text = data.get("text").trim();
    else throw new Error(t("say_or_type"));
    await generate(body, "voice");
  });

  portraitScreen();
  window.addEventListener("hashchange", route);
  route();
}

function signOut(message) {
  token.clear();
  photo = null;
  for (const card of cards.values()) card.close();
  cards.clear();
  document.querySelectorAll(".jobs").forEach((box) => box.replaceChildren());
  if (message) toast(message);
  go("#/signin");
}

wire();
